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
changes := {rc.address: rc | some rc in _resource_changes; _evaluated(rc)}

_resource_changes := object.get(input, "resource_changes", [])

_evaluated(rc) if {
	rc.mode == "managed"
	not _gone(rc.change.actions)
}

_gone(actions) if {
	every action in actions {
		action in {"delete", "forget"}
	}
}

# Changes of the types the links read (keys, key policies, trails), the type tested first: one
# pass over the plan, then every type's index is built from this smaller one.
_linked := {rc.address: rc | some rc in _resource_changes; rc.type in _linked_types; _evaluated(rc)}

_linked_types := key_types | {"aws_kms_key_policy", "aws_cloudtrail"}

# Aliases are followed to their key (references.rego); only their configuration is read.
_alias_type := "aws_kms_alias"

kms_keys := {address: rc | some address, rc in _linked; rc.type == "aws_kms_key"}

# Every kind of KMS key that has its own key policy and that a trail may name.
key_types := {"aws_kms_key", "aws_kms_external_key", "aws_kms_replica_key", "aws_kms_replica_external_key"}

any_keys := {address: rc | some address, rc in _linked; rc.type in key_types}

key_policies := {address: rc | some address, rc in _linked; rc.type == "aws_kms_key_policy"}

trails := {address: rc | some address, rc in _linked; rc.type == "aws_cloudtrail"}

# The planned value of an attribute; undefined when absent, null or unknown.
value(rc, attr) := v if {
	v := rc.change.after[attr]
	v != null
	not unknown(rc, attr)
}

# The attribute's value is computed at apply time.
unknown(rc, attr) if rc.change.after_unknown[attr] == true

# The attribute is absent or null (and not unknown).
absent(rc, attr) if {
	object.get(rc.change.after, attr, null) == null
	not unknown(rc, attr)
}

# Terraform marks the attribute's planned value sensitive.
sensitive(rc, attr) if rc.change.after_sensitive[attr] == true

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

_policy_of(rc) := _parsed[value(rc, "policy")]

# Each distinct policy text parsed once: keys often share one (a module's or a local's policy).
_parsed := {text: policy.parse(text) | some text in _policy_texts}

_policy_texts := {text | some rc in policy_holders; text := value(rc, "policy")}

_default_policy(rc) if {
	absent(rc, "policy")
	rc.type in key_types
}

# The provider reports an unset (or null) policy as unknown; configuration shows it was not set.
_default_policy(rc) if {
	unknown(rc, "policy")
	rc.type in key_types
	expr := _expressions(rc)
	not expr.expressions.policy
}

_default_policy(rc) if {
	unknown(rc, "policy")
	rc.type in key_types
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
# Sets that are looked up by member are complete rules read as set[x], never `x in set`: the
# Wasm build scans the whole set for `in`, and OPA evaluates a multi-value rule's body again
# for each member looked up.
names_cloudtrail := {address | some address, doc in policies; policy.grants_cloudtrail(doc.statements)}

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
	not _keys_with_policy_resource[key]
}

_keys_with_policy_resource := {key | some links in _policy_links; some key in links.decided}

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
	names_cloudtrail[holder]
}

# Policy holders the CloudTrail grant rules check: effective policies of CloudTrail keys and
# any policy that names CloudTrail.
cloudtrail_policies contains holder if {
	some key in cloudtrail_keys
	some holder in effective_policies[key]
}

cloudtrail_policies contains holder if some holder in names_cloudtrail

# CloudTrail's grants under each readable CloudTrail policy, reviewed once for requests that
# name no trail: KMS-020, KMS-021 and CT-002 (for trails whose ARN is unknown) share them.
cloudtrail_reviews := {holder: policy.review(doc.statements, {}) |
	some holder in cloudtrail_policies
	doc := policies[holder]
	doc.state in {"ok", "default"}
}
