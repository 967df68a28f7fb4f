# How `configuration` names what a resource references: module scopes and instance keys,
# and references followed through module outputs, variables, aliases and for_each to the
# instances they name (lookups only, so linking stays linear in the plan's size). The resource
# types it reads are named and declared in plan.rego.
package tfgen.lib.plan

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

# Managed resources of the linked types and aliases in every module's configuration, by
# configuration address.
_config_resources := {concat("", [_prefix(path), res.type, ".", res.name]): res |
	some path, mod in _modules
	some res in object.get(mod, "resources", [])
	res.type in _config_types
	res.mode == "managed"
}

_config_types := _linked_types | {_alias_type}

# The module scope and expressions of a resource change, from `configuration`.
_expressions(rc) := {"scope": shape.scope, "expressions": object.get(res, "expressions", {})} if {
	shape := _shapes[rc.address]
	res := _config_resources[shape.config]
}

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

# Follow references for at most six hops (Rego has no recursion); most end after one.
_resolve(l0) := _found([l0, l1]) if {
	l1 := _hop(l0)
	not _pending(l1)
} else := _found([l0, l1, l2, l3, l4, l5, l6]) if {
	l1 := _hop(l0)
	l2 := _hop(l1)
	l3 := _hop(l2)
	l4 := _hop(l3)
	l5 := _hop(l4)
	l6 := _hop(l5)
}

_found(levels) := {t.target | some level in levels; some t in level; t.target}

_pending(items) if {
	some item in items
	item.ref
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
	p.head != _alias_type
}

# An alias continues with the key its target_key_id references.
_step(item, p) := {object.union(item, {"ref": r, "refs": refs, "key": key, "each": each}) | some r in refs} if {
	p.head == _alias_type
	alias := _config_resources[concat("", [_prefix(item.scope), _alias_type, ".", p.name])]
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
