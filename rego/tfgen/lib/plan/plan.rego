# METADATA
# description: |
#   The one view of a `terraform show -json` plan that rules read: managed resources by type
#   (child modules included, pure deletes skipped), known/unknown attribute values, and
#   links from trails and key policies to the keys they reference through `configuration`.
# custom:
#   # What the links below read on the rules' behalf (tfgen passes the engine only these and the
#   # rules' own resource_types): resource changes of these types, configuration of these and
#   # configuration_types.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#     - aws_cloudtrail
#   configuration_types: [aws_kms_alias]
package tfgen.lib.plan

import data.tfgen.lib.policy

# Managed resource changes the rules evaluate, by address: creates, updates, replaces and
# no-ops; pure deletes and forgets are skipped; a plan without resource_changes has none.
changes := {rc.address: rc |
	some rc in object.get(input, "resource_changes", [])
	rc.mode == "managed"
	not _gone(rc.change.actions)
}

_gone(actions) if {
	every action in actions {
		action in {"delete", "forget"}
	}
}

# Changes of the types the links read (keys, key policies, trails): one pass over the plan,
# then every type's index is built from this smaller one.
_linked := {address: rc | some address, rc in changes; rc.type in _linked_types}

_linked_types := key_types | {"aws_kms_key_policy", "aws_cloudtrail"}

kms_keys := {address: rc | some address, rc in _linked; rc.type == "aws_kms_key"}

# Every kind of KMS key that has its own key policy and that a trail may name.
key_types := {"aws_kms_key", "aws_kms_external_key", "aws_kms_replica_key", "aws_kms_replica_external_key"}

any_keys := {address: rc | some address, rc in _linked; rc.type in key_types}

key_policies := {address: rc | some address, rc in _linked; rc.type == "aws_kms_key_policy"}

trails := {address: rc | some address, rc in _linked; rc.type == "aws_cloudtrail"}

# The planned value of an attribute; undefined when absent, null or unknown.
value(rc, attr) := v if {
	not unknown(rc, attr)
	v := rc.change.after[attr]
	v != null
}

# The attribute's value is computed at apply time.
unknown(rc, attr) if rc.change.after_unknown[attr] == true

# The attribute is absent or null (and not unknown).
absent(rc, attr) if {
	not unknown(rc, attr)
	object.get(rc.change.after, attr, null) == null
}

# Terraform marks the attribute's planned value sensitive.
sensitive(rc, attr) if rc.change.after_sensitive[attr] == true

# --- key policies --------------------------------------------------------------------------

# Every resource that carries a key policy: the keys of every kind and aws_kms_key_policy.
policy_holders := object.union(any_keys, key_policies)

# The parsed key policy of each holder: {"state": "ok"|"unknown"|"invalid"|"default", ...}.
# "default" is a key without a policy, which AWS gives its default key policy.
policies := {address: _policy_of(rc) | some address, rc in policy_holders}

_policy_of(rc) := {"state": "unknown"} if {
	unknown(rc, "policy")
	not _default_policy(rc)
}

_policy_of(rc) := {"state": "default", "statements": []} if _default_policy(rc)

_policy_of(rc) := {"state": "invalid", "reason": "the policy attribute is missing"} if {
	rc.type == "aws_kms_key_policy"
	absent(rc, "policy")
}

_policy_of(rc) := policy.parse(value(rc, "policy"))

_default_policy(rc) if {
	rc.type in key_types
	absent(rc, "policy")
}

# The provider reports an unset (or null) policy as unknown; configuration shows it was not set.
_default_policy(rc) if {
	rc.type in key_types
	unknown(rc, "policy")
	expr := _expressions(rc)
	not expr.expressions.policy
}

_default_policy(rc) if {
	rc.type in key_types
	unknown(rc, "policy")
	expr := _expressions(rc)
	_null_chain({"scope": expr.scope, "expr": expr.expressions.policy})
}

# An expression that is null at plan time: a literal null, or a lone variable reference whose
# value (root variable, module argument or default) is, through up to four module levels.
_null_chain(item) if _is_null(item)

_null_chain(item) if {
	_lone_variable(item.expr)
	l1 := {next | next := _var_step(item)}
	l2 := {next | some i in l1; next := _var_step(i)}
	l3 := {next | some i in l2; next := _var_step(i)}
	l4 := {next | some i in l3; next := _var_step(i)}
	some end in (((l1 | l2) | l3) | l4)
	_is_null(end)
}

_is_null(item) if item["null"] == true

_is_null(item) if item.expr == {"constant_value": null}

_var_step(item) := {"null": true} if {
	name := _lone_variable(item.expr)
	item.scope == ""
	input.variables[name].value == null
}

_var_step(item) := _argument(parent, call, name) if {
	name := _lone_variable(item.expr)
	parts := split(item.scope, ".")
	count(parts) >= 2
	call := parts[count(parts) - 1]
	parent := concat(".", array.slice(parts, 0, count(parts) - 2))
}

_lone_variable(expr) := parts[1] if {
	[ref] := expr.references
	parts := split(ref, ".")
	count(parts) == 2
	parts[0] == "var"
}

# The module call's argument for a variable, or its default when the call leaves it unset.
_argument(parent, call, name) := {"scope": parent, "expr": expr} if {
	expr := _modules[parent].module_calls[call].expressions[name]
} else := {"null": true} if {
	variable := _modules[parent].module_calls[call].module.variables[name]
	"default" in object.keys(variable)
	variable["default"] == null
}

# Addresses of holders whose policy grants cloudtrail.amazonaws.com (a Deny alone does not).
names_cloudtrail contains address if {
	some address, doc in policies
	policy.grants_cloudtrail(doc.statements)
}

# The plan's AWS partition: the one every aws provider configuration's constant region is
# in; null when a region is not a constant (e.g. set by the environment) or they differ.
default aws_partition := null

aws_partition := p if {
	not _region_not_constant
	partitions := {_partition(r) | some r in _aws_regions}
	count(partitions) == 1
	some p in partitions
}

_aws_provider_configs contains cfg if {
	some cfg in object.get(input, ["configuration", "provider_config"], {})
	cfg.name == "aws"
}

_aws_regions contains region if {
	some cfg in _aws_provider_configs
	region := cfg.expressions.region.constant_value
	is_string(region)
}

_region_not_constant if {
	some cfg in _aws_provider_configs
	not is_string(object.get(cfg, ["expressions", "region", "constant_value"], null))
}

_partition(region) := "aws-us-gov" if {
	startswith(region, "us-gov-")
} else := "aws-cn" if {
	startswith(region, "cn-")
} else := "aws-iso-b" if {
	startswith(region, "us-isob-")
} else := "aws-iso" if {
	startswith(region, "us-iso-")
} else := "aws"

# --- configuration: module scopes and references ------------------------------------------

# Every module's configuration by module path ("" for the root, "module.a.module.b" nested),
# six levels deep (Rego has no recursion). Arrays, not sets: modules are never hashed.
_modules := {entry[0]: entry[1] | some level in [_m0, _m1, _m2, _m3, _m4, _m5]; some entry in level}

_m0 := [["", object.get(input, ["configuration", "root_module"], {})]]

_m1 := _children(_m0)

_m2 := _children(_m1)

_m3 := _children(_m2)

_m4 := _children(_m3)

_m5 := _children(_m4)

_children(level) := [[concat("", [_prefix(entry[0]), "module.", name]), call.module] |
	some entry in level
	some name, call in object.get(entry[1], "module_calls", {})
]

_prefix("") := ""

_prefix(path) := concat("", [path, "."]) if path != ""

# An instance key as Terraform writes it in addresses and references: [0] or ["a.b"].
_key_pattern := `\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\]`

# The configuration address of a resource change: module instance keys dropped,
# so module.logs["a"].aws_kms_key.this[0] becomes module.logs.aws_kms_key.this.
config_address(rc) := concat("", [_prefix(_scope(_module_calls(rc))), rc.type, ".", rc.name])

# Where a resource change sits: its module path ("scope"), configuration address, and the
# instance keys of its module calls and of itself ("" where there is no count/for_each).
_shape(rc) := {"scope": "", "config": config, "keys": [trim_prefix(rc.address, config)]} if {
	not rc.module_address
	config := concat("", [rc.type, ".", rc.name])
}

_shape(rc) := {"scope": scope, "config": concat("", [_prefix(scope), rc.type, ".", rc.name]), "keys": keys} if {
	rc.module_address
	calls := _module_calls(rc)
	scope := _scope(calls)
	base := concat("", [rc.module_address, ".", rc.type, ".", rc.name])
	keys := array.concat([call[2] | some call in calls], [trim_prefix(rc.address, base)])
}

_scope(calls) := concat(".", [concat("", ["module.", call[1]]) | some call in calls])

# [[match, name, key], ...] of module.name[key] in a module address; a key may contain dots.
_module_calls(rc) := regex.find_all_string_submatch_n(_module_call_pattern, rc.module_address, -1) if rc.module_address

_module_calls(rc) := [] if not rc.module_address

_module_call_pattern := concat("", [`module\.([^.\["]+)((?:`, _key_pattern, `)?)`])

# Shapes of the resources that link or are linked to: keys, key policies and trails.
_shapes := {address: _shape(rc) | some address, rc in _linked}

# Indexes of the instances of resources under count/for_each, complete rules built once (OPA
# builds a multi-value rule in quadratic time in its values, so only keyed instances go in;
# every other instance is found by its address).

# Instances with their own count/for_each key, by configuration address and module instance.
_keyed_sets[_group(shape.config, _module_keys(shape.keys))] contains address if {
	some address, shape in _shapes
	shape.keys[count(shape.keys) - 1] != ""
}

# Instances inside a module call with count/for_each, by configuration address.
_in_keyed_module_sets[shape.config] contains address if {
	some address, shape in _shapes
	_keyed_module(shape.keys)
}

_keyed_module(keys) if {
	some key in _module_keys(keys)
	key != ""
}

_keyed := {k: v | some k, v in _keyed_sets}

_in_keyed_module := {k: v | some k, v in _in_keyed_module_sets}

_group(config, module_keys) := concat("|", array.concat([config], module_keys))

_module_keys(keys) := array.slice(keys, 0, count(keys) - 1)

# Managed resources of every module's configuration, by configuration address.
_config_resources := {concat("", [_prefix(path), res.type, ".", res.name]): res |
	some path, mod in _modules
	some res in object.get(mod, "resources", [])
	res.mode == "managed"
}

# The module scope and expressions of a resource change, from `configuration`.
_expressions(rc) := {"scope": shape.scope, "expressions": object.get(res, "expressions", {})} if {
	shape := _shapes[rc.address]
	res := _config_resources[shape.config]
}

# --- references ----------------------------------------------------------------------------
#
# A reference is followed as an item {scope, inst, fixed, ref, refs, key, each}: the module path
# it is evaluated in, the instance keys of that module's calls, how many of those keys are the
# referencing resource's own, the reference, its sibling references (the expression's whole
# `references` list), and the instance key and for_each references of the object whose
# expression it is (the resource, or the module call of a variable). Terraform's configuration
# shows aws_kms_key.this[each.key] as "aws_kms_key.this" beside "each.key": the key is then the
# same as the referencing object's. A target's pattern holds one key per module call plus the
# resource's: concrete, "~k" (the same-key reading, dropped when no such instance exists) or
# "*" (any).

# The targets an attribute's references resolve to, as {type, config, pattern, fixed}.
_targets(rc, attr) := _resolve(start) if {
	shape := _shapes[rc.address]
	res := _config_resources[shape.config]
	refs := object.get(res, ["expressions", attr, "references"], [])
	n := count(shape.keys)
	start := {{
		"scope": shape.scope, "inst": array.slice(shape.keys, 0, n - 1), "fixed": n - 1,
		"ref": ref, "refs": refs, "key": shape.keys[n - 1],
		"each": object.get(res, ["for_each_expression", "references"], []),
	} |
		some ref in refs
	}
} else := set()

# Follow references for at most six hops (Rego has no recursion).
_resolve(l0) := targets if {
	l1 := _hop(l0)
	l2 := _hop(l1)
	l3 := _hop(l2)
	l4 := _hop(l3)
	l5 := _hop(l4)
	l6 := _hop(l5)
	targets := {t.target | some level in [l0, l1, l2, l3, l4, l5, l6]; some t in level; t.target}
}

_hop(items) := {next |
	some item in items
	item.ref
	not _extended(item.ref, item.refs)
	some next in _step(item, _parse(item.ref))
}

# Terraform lists aws_kms_key.this beside aws_kms_key.this["a"].arn: the longer one says more.
_extended(ref, refs) if {
	some other in refs
	startswith(other, ref)
	substring(other, count(ref), 1) in {".", "["}
}

# head.name[key]rest: aws_kms_key.this["a.b"].arn, module.logs[0].key_arn, var.key, each.value.
_parse(ref) := {"head": m[1], "name": m[2], "index": m[3], "rest": substring(ref, count(m[0]), -1)} if {
	[m] := regex.find_all_string_submatch_n(_reference_pattern, ref, 1)
}

_reference_pattern := concat("", [`^([^.\["]+)\.([^.\["]+)((?:`, _key_pattern, `)?)`])

# The instance key a reference names: its own, the referencing object's under each.key or
# count.index, else any.
_index(p, _) := p.index if p.index != ""

_index(p, item) := concat("", ["~", item.key]) if {
	p.index == ""
	_same_key(item)
}

_index(p, item) := "*" if {
	p.index == ""
	not _same_key(item)
}

_same_key(item) if {
	item.key != ""
	some other in item.refs
	other in {"each.key", "count.index"}
}

# A resource: the target.
_step(item, p) := {{"target": {
	"type": p.head,
	"config": concat("", [_prefix(item.scope), p.head, ".", p.name]),
	"pattern": array.concat(item.inst, [_index(p, item)]),
	"fixed": item.fixed,
}}} if {
	not p.head in _reserved
	p.head != "aws_kms_alias"
}

# An alias continues with the key its target_key_id references.
_step(item, p) := {object.union(item, {"ref": r, "refs": refs, "key": key, "each": each}) | some r in refs} if {
	p.head == "aws_kms_alias"
	alias := _config_resources[concat("", [_prefix(item.scope), "aws_kms_alias.", p.name])]
	refs := object.get(alias, ["expressions", "target_key_id", "references"], [])
	each := object.get(alias, ["for_each_expression", "references"], [])
	key := _concrete(_index(p, item))
}

# each.value under for_each = <reference> is that reference at the object's own key.
_step(item, p) := {object.union(item, {"ref": ref, "refs": [ref]}) |
	some source in item.each
	not _extended(source, item.each)
	ref := concat("", [source, item.key, p.rest])
} if {
	p.head == "each"
	p.name == "value"
	item.key != ""
}

# A module output: module.<call>[key].<output> continues in that instance of the called module.
_step(item, p) := {_in_module(item, p, r, refs) | some r in refs} if {
	p.head == "module"
	p.rest != ""
	output := split(substring(p.rest, 1, -1), ".")[0]
	refs := object.get(_modules, [_child(item, p), "outputs", _bare(output), "expression", "references"], [])
}

# module.<call>[key] alone (as in module.logs[each.key].arn) may be any of its outputs.
_step(item, p) := {_in_module(item, p, r, refs) |
	some output in object.get(_modules, [_child(item, p), "outputs"], {})
	refs := object.get(output, ["expression", "references"], [])
	some r in refs
} if {
	p.head == "module"
	p.rest == ""
}

# An input variable: var.<name> continues in the calling module instance's module block.
_step(item, p) := {object.union(item, {
	"scope": parent, "inst": array.slice(item.inst, 0, n - 1), "fixed": min([item.fixed, n - 1]),
	"ref": r, "refs": refs, "key": _concrete(item.inst[n - 1]), "each": each,
}) |
	some r in refs
} if {
	p.head == "var"
	parts := split(item.scope, ".")
	count(parts) >= 2
	call := _modules[concat(".", array.slice(parts, 0, count(parts) - 2))].module_calls[parts[count(parts) - 1]]
	parent := concat(".", array.slice(parts, 0, count(parts) - 2))
	refs := object.get(call, ["expressions", p.name, "references"], [])
	each := object.get(call, ["for_each_expression", "references"], [])
	n := count(item.inst)
}

_child(item, p) := concat("", [_prefix(item.scope), "module.", p.name])

_in_module(item, p, r, refs) := {
	"scope": _child(item, p), "inst": array.concat(item.inst, [_index(p, item)]), "fixed": item.fixed,
	"ref": r, "refs": refs, "key": "", "each": [],
}

_concrete("*") := ""

_concrete(key) := trim_prefix(key, "~") if key != "*"

_reserved := {"module", "var", "local", "data", "each", "count", "path", "terraform", "self"}

# A name without its instance key: this[0] and this["a"] become this.
_bare(name) := substring(name, 0, indexof(name, "[")) if contains(name, "[")

_bare(name) := name if not contains(name, "[")

# The instances a target names: the same-key reading when such an instance exists, else every
# instance the pattern admits with all but the referencing resource's own module keys open.
_pick(t) := strict if {
	strict := _matching(t.config, [trim_prefix(k, "~") | some k in t.pattern])
	count(strict) > 0
} else := _matching(t.config, [_open(i, k, t.fixed) | some i, k in t.pattern])

_open(i, k, fixed) := k if i < fixed

_open(i, _, fixed) := "*" if i >= fixed

# The instances a pattern admits, by lookups: a pattern without "*" is one address; with "*",
# the address without those keys (what count/for_each would add) if that exists, else the keyed
# instances of its module instance, else (a module key open too) every instance of the
# configuration address that fits.
_matching(config, pattern) := {address | address := _render(config, pattern); _shapes[address]} if {
	not "*" in pattern
} else := unkeyed if {
	unkeyed := {address | address := _render(config, [_unkeyed(k) | some k in pattern]); _shapes[address]}
	count(unkeyed) > 0
} else := object.get(_keyed, _group(config, _module_keys(pattern)), set()) if {
	not "*" in _module_keys(pattern)
} else := {address |
	unkeyed_modules := [_unkeyed(k) | some k in _module_keys(pattern)]
	candidates := object.get(_in_keyed_module, config, set()) | object.get(_keyed, _group(config, unkeyed_modules), set())
	some address in candidates
	keys := _shapes[address].keys
	every i, k in pattern {
		k in {"*", keys[i]}
	}
}

_unkeyed("*") := ""

_unkeyed(key) := key if key != "*"

_render(config, pattern) := concat(".", array.concat(calls, [concat("", [_last_two(config), pattern[n - 1]])])) if {
	parts := split(config, ".")
	n := count(pattern)
	calls := [concat("", ["module.", parts[(2 * i) + 1], k]) | some i, k in array.slice(pattern, 0, n - 1)]
}

_last_two(address) := concat(".", array.slice(parts, count(parts) - 2, count(parts))) if {
	parts := split(address, ".")
}

# The keys an attribute links to: {"decided": ..., "undecided": ...}. A reference that names
# one instance decides it; one that names several (the plan does not say which) gives
# candidates. A known null or empty value names nothing, whatever the expression references.
_links(rc, attr) := {"decided": set(), "undecided": set()} if {
	_names_nothing(rc, attr)
} else := {"decided": decided, "undecided": undecided - decided} if {
	picks := [_pick(t) | some t in _targets(rc, attr); t.type in key_types]
	decided := {a | some p in picks; count(p) == 1; some a in p} | _keys_by_value(rc, attr)
	undecided := {a | some p in picks; count(p) > 1; some a in p}
}

_names_nothing(rc, attr) if absent(rc, attr)

_names_nothing(rc, attr) if value(rc, attr) == ""

# A known value equal to a key's known arn, key_id or id; a sensitive value is not compared.
_keys_by_value(rc, attr) := {address |
	not sensitive(rc, attr)
	id := value(rc, attr)
	some address in _keys_by_id[id]
}

_keys_by_id := {k: v | some k, v in _key_id_sets}

_key_id_sets[id] contains address if {
	some address, rc in any_keys
	some attr in ["arn", "key_id", "id"]
	id := value(rc, attr)
}

# --- CloudTrail linkage ---------------------------------------------------------------------

_trail_links := {address: _links(rc, "kms_key_id") | some address, rc in trails}

# The keys each trail uses for certain, by configuration reference or by a known kms_key_id
# equal to a key's known arn or key_id.
trail_keys := {address: links.decided | some address, links in _trail_links}

# Trails whose reference names several key instances and the plan does not say which one:
# the candidates, judged together.
trail_candidates := {address: links.undecided | some address, links in _trail_links; count(links.undecided) > 0}

# Trails whose kms_key_id is sensitive and links to no key through configuration: the key they
# use cannot be checked.
hidden_trail_keys contains address if {
	some address, rc in trails
	sensitive(rc, "kms_key_id")
	links := _trail_links[address]
	count(links.decided) == 0
	count(links.undecided) == 0
}

_policy_links := {address: _links(rc, "key_id") | some address, rc in key_policies}

# The keys each aws_kms_key_policy attaches to, the same way through key_id; where the plan
# does not say which instance, every candidate.
policy_keys := {address: union({links.decided, links.undecided}) | some address, links in _policy_links}

# The holders of each key's effective policy: its aws_kms_key_policy resources when the plan
# has any for certain, else the key itself (and any policy resource that may attach to it).
effective_policies := {k: v | some k, v in _effective_sets}

_effective_sets[key] contains holder if {
	some holder, keys in policy_keys
	some key in keys
}

_effective_sets[key] contains key if {
	some key, _ in any_keys
	not key in _keys_with_policy_resource
}

_keys_with_policy_resource contains key if {
	some links in _policy_links
	some key in links.decided
}

# Keys a trail in the plan uses.
trail_used_keys contains key if {
	some keys in trail_keys
	some key in keys
}

# Keys used for CloudTrail: used by a trail, or whose effective policy names CloudTrail.
cloudtrail_keys contains key if some key in trail_used_keys

cloudtrail_keys contains key if {
	some key, holders in effective_policies
	some holder in holders
	holder in names_cloudtrail
}

# Policy holders the CloudTrail grant rules check: effective policies of CloudTrail keys and
# any policy that names CloudTrail.
cloudtrail_policies contains holder if {
	some key in cloudtrail_keys
	some holder in effective_policies[key]
}

cloudtrail_policies contains holder if some holder in names_cloudtrail
