# METADATA
# description: |
#   The one view of a `terraform show -json` plan that rules read: managed resources by type
#   (child modules included, pure deletes skipped), known/unknown attribute values, and
#   links from trails and key policies to the keys they reference through `configuration`.
# custom:
#   # What the links below read on the rules' behalf (tfgen passes the engine only these and the
#   # rules' own resource_types): resource changes of these types, configuration of these and
#   # configuration_types.
#   resource_types: [aws_kms_key, aws_kms_key_policy, aws_cloudtrail]
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

kms_keys := {address: rc | some address, rc in changes; rc.type == "aws_kms_key"}

key_policies := {address: rc | some address, rc in changes; rc.type == "aws_kms_key_policy"}

trails := {address: rc | some address, rc in changes; rc.type == "aws_cloudtrail"}

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

# --- key policies --------------------------------------------------------------------------

# Every resource that carries a key policy: aws_kms_key and aws_kms_key_policy.
policy_holders := object.union(kms_keys, key_policies)

# The parsed key policy of each holder: {"state": "ok"|"unknown"|"invalid"|"default", ...}.
# "default" is an aws_kms_key without a policy, which AWS gives its default key policy.
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
	rc.type == "aws_kms_key"
	absent(rc, "policy")
}

# The provider reports an unset policy as unknown; configuration shows it was not set.
_default_policy(rc) if {
	rc.type == "aws_kms_key"
	unknown(rc, "policy")
	expr := _expressions(rc)
	not "policy" in object.keys(expr.expressions)
}

# Addresses of holders whose policy names cloudtrail.amazonaws.com as a service principal.
names_cloudtrail contains address if {
	some address, doc in policies
	some stmt in doc.statements
	policy.cloudtrail_service in stmt.services
}

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

# The configuration address of a resource change: module instance keys dropped,
# so module.logs["a"].aws_kms_key.this[0] becomes module.logs.aws_kms_key.this.
config_address(rc) := concat("", [_prefix(_module_path(rc)), rc.type, ".", rc.name])

_module_path(rc) := concat(".", [concat("", ["module.", m[1]]) |
	some m in regex.find_all_string_submatch_n(`module\.([^.\[]+)`, rc.module_address, -1)
]) if {
	rc.module_address
} else := ""

# Resource changes by configuration address (one per instance under count/for_each).
# Indexes are complete rules: built once, then every lookup is a hash lookup.
_instances := object.union(_single_instances, {k: v | some k, v in _instance_sets})

# Without count or for_each (here or on an enclosing module) the address is the only instance:
# a comprehension, because OPA builds the multi-value rule below in quadratic time.
_single_instances := {address: {address} | some address, rc in changes; config_address(rc) == address}

_instance_sets[key] contains address if {
	some address, rc in changes
	key := config_address(rc)
	key != address
}

# Managed resources of every module's configuration, by configuration address.
_config_resources := {concat("", [_prefix(path), res.type, ".", res.name]): res |
	some path, mod in _modules
	some res in object.get(mod, "resources", [])
	res.mode == "managed"
}

# The module scope and expressions of a resource change, from `configuration`.
_expressions(rc) := {"scope": _module_path(rc), "expressions": object.get(res, "expressions", {})} if {
	res := _config_resources[config_address(rc)]
}

# Addresses of planned resources of `type` that the attribute `attr` of `rc` references in
# configuration: directly, through module outputs, and through module input variables.
referenced(rc, attr, type) := {address |
	expr := _expressions(rc)
	refs := object.get(expr.expressions, [attr, "references"], [])
	start := {{"scope": expr.scope, "ref": ref} | some ref in refs}
	targets := _resolve(start)
	some target in targets
	parts := split(target.address, ".")
	parts[count(parts) - 2] == type
	some address in _pick(target, targets)
	_same_instance(rc, expr.scope, target.address, address)
}

# A reference within one module links instances of the same module instance: the trail of
# module.logs["a"] uses the key of module.logs["a"], not that of module.logs["b"].
_same_instance(_, scope, target, _) if not _in_scope(scope, target)

_same_instance(rc, scope, target, _) if {
	_in_scope(scope, target)
	not rc.module_address
}

_same_instance(rc, scope, target, address) if {
	_in_scope(scope, target)
	startswith(address, concat("", [rc.module_address, "."]))
}

_in_scope(scope, target) if {
	parts := split(target, ".")
	concat(".", array.slice(parts, 0, count(parts) - 2)) == scope
}

# The instances a resolved reference names: aws_kms_key.this[1] names one instance; the bare
# aws_kms_key.this that Terraform lists beside it adds nothing; alone it names every instance.
_pick(target, _) := picked if {
	target.index != ""
	suffix := concat("", [_last_two(target.address), target.index])
	picked := {address | some address in _instances[target.address]; endswith(address, suffix)}
	count(picked) > 0
} else := _instances[target.address] if {
	target.index != ""
}

_pick(target, targets) := _instances[target.address] if {
	target.index == ""
	not _indexed(target.address, targets)
}

_indexed(address, targets) if {
	some other in targets
	other.address == address
	other.index != ""
}

_last_two(address) := concat(".", array.slice(parts, count(parts) - 2, count(parts))) if {
	parts := split(address, ".")
}

# Follow references for at most five hops (Rego has no recursion).
_resolve(l0) := targets if {
	l1 := _hop(l0)
	l2 := _hop(l1)
	l3 := _hop(l2)
	l4 := _hop(l3)
	l5 := _hop(l4)
	targets := {t.target | some level in [l0, l1, l2, l3, l4, l5]; some t in level; t.target}
}

_hop(items) := {next | some item in items; item.ref; some next in _step(item.scope, item.ref)}

# A resource reference: type.name[key][.attr...] becomes a configuration address and the
# instance key, if any.
_step(scope, ref) := {{"target": {
	"address": concat("", [_prefix(scope), parts[0], ".", _bare(parts[1])]),
	"index": trim_prefix(parts[1], _bare(parts[1])),
}}} if {
	parts := split(ref, ".")
	count(parts) >= 2
	not parts[0] in _reserved
	parts[0] != "aws_kms_alias"
}

# An alias continues with the key its target_key_id references.
_step(scope, ref) := {{"scope": scope, "ref": r} |
	alias := _config_resources[concat("", [_prefix(scope), "aws_kms_alias.", _bare(parts[1])])]
	some r in object.get(alias, ["expressions", "target_key_id", "references"], [])
} if {
	parts := split(ref, ".")
	count(parts) >= 2
	parts[0] == "aws_kms_alias"
}

# A module output: module.<call>.<output> continues in the called module.
_step(scope, ref) := {{"scope": child, "ref": r} |
	some r in object.get(_modules[child], ["outputs", parts[2], "expression", "references"], [])
} if {
	parts := split(ref, ".")
	parts[0] == "module"
	count(parts) >= 3
	child := concat("", [_prefix(scope), "module.", _bare(parts[1])])
}

# An input variable: var.<name> continues in the calling module's module block.
_step(scope, ref) := {{"scope": parent, "ref": r} |
	some r in object.get(_modules[parent], ["module_calls", call, "expressions", parts[1], "references"], [])
} if {
	parts := split(ref, ".")
	parts[0] == "var"
	count(parts) >= 2
	scope_parts := split(scope, ".")
	count(scope_parts) >= 2
	call := scope_parts[count(scope_parts) - 1]
	parent := concat(".", array.slice(scope_parts, 0, count(scope_parts) - 2))
}

_reserved := {"module", "var", "local", "data", "each", "count", "path", "terraform", "self"}

# A name without its instance key: this[0] and this["a"] become this.
_bare(name) := substring(name, 0, indexof(name, "[")) if contains(name, "[")

_bare(name) := name if not contains(name, "[")

# --- CloudTrail linkage ---------------------------------------------------------------------

# The keys (addresses of aws_kms_key changes) each trail uses, by configuration reference
# or by a known kms_key_id equal to a key's known arn or key_id.
trail_keys := {address: _key_links(rc, "kms_key_id") | some address, rc in trails}

# The keys each aws_kms_key_policy attaches to, the same way through key_id.
policy_keys := {address: _key_links(rc, "key_id") | some address, rc in key_policies}

_key_links(rc, attr) := referenced(rc, attr, "aws_kms_key") | _keys_by_value(rc)

_keys_by_value(rc) := {address |
	id := _key_ref_value(rc)
	some address in _keys_by_id[id]
}

_key_ref_value(rc) := value(rc, "kms_key_id") if rc.type == "aws_cloudtrail"

_key_ref_value(rc) := value(rc, "key_id") if rc.type == "aws_kms_key_policy"

_keys_by_id := {k: v | some k, v in _key_id_sets}

_key_id_sets[id] contains address if {
	some address, rc in kms_keys
	some attr in ["arn", "key_id", "id"]
	id := value(rc, attr)
}

# The holders of each key's effective policy: its aws_kms_key_policy resources when the plan
# has any, else the key itself.
effective_policies := {k: v | some k, v in _effective_sets}

_effective_sets[key] contains holder if {
	some holder, keys in policy_keys
	some key in keys
}

_effective_sets[key] contains key if {
	some key, _ in kms_keys
	not key in _keys_with_policy_resource
}

_keys_with_policy_resource contains key if {
	some keys in policy_keys
	some key in keys
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
