# Instance linking through configuration references (references.rego); the builders _res,
# _kms_ref and _in are in plan_test.rego.
package tfgen.lib.plan_test

import data.tfgen.lib.plan
import data.tfgen.lib.testing as t

# A resource change at `address` (an instance of type.name, maybe in a module instance).
_at(address, type, name, after, unknown) := object.union(
	t.unknown_change(type, name, after, unknown),
	{"address": address},
)

_key_at(address) := _at(address, "aws_kms_key", "this", {}, {})

_trail_at(address, name) := _at(address, "aws_cloudtrail", name, {}, {"kms_key_id": true})

_in_module(module, rc) := object.union(rc, {"module_address": module})

test_same_key_instance_under_for_each_and_count if {
	changes := [
		_key_at(`aws_kms_key.this["a"]`),
		_key_at(`aws_kms_key.this["logs.v1"]`),
		_at("aws_kms_key.c[0]", "aws_kms_key", "c", {}, {}),
		_at("aws_kms_key.c[1]", "aws_kms_key", "c", {}, {}),
		_trail_at(`aws_cloudtrail.fe["a"]`, "fe"),
		_trail_at(`aws_cloudtrail.fe["logs.v1"]`, "fe"),
		_trail_at("aws_cloudtrail.ct[1]", "ct"),
		_trail_at(`aws_cloudtrail.ev["logs.v1"]`, "ev"),
		# No key instance "z": the plan does not say which key this trail uses.
		_trail_at(`aws_cloudtrail.fe["z"]`, "fe"),
		_trail_at("aws_cloudtrail.any", "any"),
	]
	config := {"resources": [
		_res("aws_cloudtrail", "fe", _kms_ref(["aws_kms_key.this", "each.key"])),
		_res("aws_cloudtrail", "ct", _kms_ref(["aws_kms_key.c", "count.index"])),
		object.union(
			_res("aws_cloudtrail", "ev", _kms_ref(["each.value.arn", "each.value"])),
			{"for_each_expression": {"references": ["aws_kms_key.this"]}},
		),
		_res("aws_cloudtrail", "any", _kms_ref(["aws_kms_key.c[*].arn", "aws_kms_key.c"])),
	]}
	input_plan := t.plan_with_config(changes, config)
	plan.trail_keys == {
		`aws_cloudtrail.fe["a"]`: {`aws_kms_key.this["a"]`},
		`aws_cloudtrail.fe["logs.v1"]`: {`aws_kms_key.this["logs.v1"]`},
		"aws_cloudtrail.ct[1]": {"aws_kms_key.c[1]"},
		`aws_cloudtrail.ev["logs.v1"]`: {`aws_kms_key.this["logs.v1"]`},
		`aws_cloudtrail.fe["z"]`: set(),
		"aws_cloudtrail.any": set(),
	} with input as input_plan
	plan.trail_candidates == {
		`aws_cloudtrail.fe["z"]`: {`aws_kms_key.this["a"]`, `aws_kms_key.this["logs.v1"]`},
		"aws_cloudtrail.any": {"aws_kms_key.c[0]", "aws_kms_key.c[1]"},
	} with input as input_plan
	used := {`aws_kms_key.this["a"]`, `aws_kms_key.this["logs.v1"]`, "aws_kms_key.c[1]"}
	plan.trail_used_keys == used with input as input_plan
}

test_module_instance_keys if {
	key_a := _in_module(`module.logs["a"]`, _key_at(`module.logs["a"].aws_kms_key.this`))
	key_dot := _in_module(`module.logs["x.module.y"]`, _key_at(`module.logs["x.module.y"].aws_kms_key.this`))
	nested := _in_module(`module.logs["a"].module.inner[0]`, _key_at(`module.logs["a"].module.inner[0].aws_kms_key.this`))
	changes := [
		key_a, key_dot, nested,
		_trail_at("aws_cloudtrail.a", "a"),
		_trail_at(`aws_cloudtrail.fek["x.module.y"]`, "fek"),
		_trail_at(`aws_cloudtrail.fev["a"]`, "fev"),
		# A module argument under for_each = aws_kms_key.keys, read as var.key inside.
		_at(`aws_kms_key.keys["k"]`, "aws_kms_key", "keys", {}, {}),
		_in_module(`module.per_key["k"]`, _trail_at(`module.per_key["k"].aws_cloudtrail.this`, "this")),
		_trail_at("aws_cloudtrail.list", "list"),
		_trail_at("aws_cloudtrail.whole", "whole"),
		# Inside module instance ["a"], a same-key reference without a matching key: the
		# candidates stay in that module instance.
		_in_module(`module.logs["a"]`, _trail_at(`module.logs["a"].aws_cloudtrail.fe["q"]`, "fe")),
		_in_module(`module.logs["a"]`, _at(`module.logs["a"].aws_kms_key.many["k1"]`, "aws_kms_key", "many", {}, {})),
		_in_module(`module.logs["a"]`, _at(`module.logs["a"].aws_kms_key.many["k2"]`, "aws_kms_key", "many", {}, {})),
		_in_module(`module.logs["b"]`, _at(`module.logs["b"].aws_kms_key.many["k1"]`, "aws_kms_key", "many", {}, {})),
	]
	logs := {
		"outputs": {
			"key_arn": {"expression": {"references": ["aws_kms_key.this.arn", "aws_kms_key.this"]}},
			"key_arns": {"expression": {"references": ["aws_kms_key.this.arn", "aws_kms_key.this"]}},
		},
		"resources": [
			_res("aws_kms_key", "this", {}),
			_res("aws_kms_key", "many", {}),
			_res("aws_cloudtrail", "fe", _kms_ref(["aws_kms_key.many", "each.key"])),
		],
		"module_calls": {"inner": {"module": {"resources": [_res("aws_kms_key", "this", {})]}}},
	}
	config := {
		"resources": [
			_res("aws_cloudtrail", "a", _kms_ref([`module.logs["a"].key_arn`, `module.logs["a"]`])),
			_res("aws_cloudtrail", "fek", _kms_ref(["module.logs", "each.key"])),
			_res("aws_cloudtrail", "list", _kms_ref([
				`module.logs["a"].key_arns[0]`,
				`module.logs["a"].key_arns`,
				`module.logs["a"]`,
			])),
			# values(module.logs)[0].key_arn: any instance of the module.
			_res("aws_cloudtrail", "whole", _kms_ref(["module.logs"])),
			object.union(
				_res("aws_cloudtrail", "fev", _kms_ref(["each.value.key_arn", "each.value"])),
				{"for_each_expression": {"references": ["module.logs"]}},
			),
		],
		"module_calls": {
			"logs": {"module": logs},
			"per_key": {
				"for_each_expression": {"references": ["aws_kms_key.keys"]},
				"expressions": {"key": {"references": ["each.value.arn", "each.value"]}},
				"module": {"resources": [_res("aws_cloudtrail", "this", _kms_ref(["var.key"]))]},
			},
		},
	}
	plan.trail_keys == {
		"aws_cloudtrail.a": {`module.logs["a"].aws_kms_key.this`},
		`aws_cloudtrail.fek["x.module.y"]`: {`module.logs["x.module.y"].aws_kms_key.this`},
		`aws_cloudtrail.fev["a"]`: {`module.logs["a"].aws_kms_key.this`},
		`module.per_key["k"].aws_cloudtrail.this`: {`aws_kms_key.keys["k"]`},
		"aws_cloudtrail.list": {`module.logs["a"].aws_kms_key.this`},
		`module.logs["a"].aws_cloudtrail.fe["q"]`: set(),
		"aws_cloudtrail.whole": set(),
	} with input as t.plan_with_config(changes, config)
	plan.trail_candidates == {
		`module.logs["a"].aws_cloudtrail.fe["q"]`: {
			`module.logs["a"].aws_kms_key.many["k1"]`,
			`module.logs["a"].aws_kms_key.many["k2"]`,
		},
		"aws_cloudtrail.whole": {`module.logs["a"].aws_kms_key.this`, `module.logs["x.module.y"].aws_kms_key.this`},
	} with input as t.plan_with_config(changes, config)
	plan.config_address(nested) == "module.logs.module.inner.aws_kms_key.this"
	plan.config_address(key_dot) == "module.logs.aws_kms_key.this"
}

_sensitive(rc) := object.union(rc, {"change": {"after_sensitive": {"kms_key_id": true}}})

test_known_null_or_sensitive_key_id if {
	changes := [
		t.key("this", {}),
		t.trail("off", {"kms_key_id": null}),
		t.trail("empty", {"kms_key_id": ""}),
		_sensitive(t.unknown_change("aws_cloudtrail", "secret", {}, {"kms_key_id": true})),
		_sensitive(t.trail("raw_secret", {"kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/1"})),
		_sensitive(t.unknown_change("aws_cloudtrail", "secret_ref", {}, {"kms_key_id": true})),
		t.key("known", {"arn": "arn:aws:kms:us-east-1:111122223333:key/1"}),
	]
	ref := _kms_ref(["var.encrypt", "aws_kms_key.this.arn", "aws_kms_key.this"])
	config := {"resources": [
		_res("aws_cloudtrail", "off", ref),
		_res("aws_cloudtrail", "empty", ref),
		_res("aws_cloudtrail", "secret", _kms_ref(["var.key_arn"])),
		_res("aws_cloudtrail", "secret_ref", ref),
	]}
	input_plan := t.plan_with_config(changes, config)
	plan.trail_keys == {
		"aws_cloudtrail.off": set(),
		"aws_cloudtrail.empty": set(),
		"aws_cloudtrail.secret": set(),
		"aws_cloudtrail.raw_secret": set(),
		"aws_cloudtrail.secret_ref": {"aws_kms_key.this"},
	} with input as input_plan
	plan.hidden_trail_keys == {"aws_cloudtrail.secret", "aws_cloudtrail.raw_secret"} with input as input_plan
}

test_every_key_type_holds_a_policy if {
	changes := [
		t.change("aws_kms_external_key", "ext", {"policy": t.policy([t.root_statement])}),
		t.unknown_change("aws_kms_replica_key", "replica", {}, {"policy": true}),
		t.change("aws_kms_replica_external_key", "replica_ext", {"policy": "not json"}),
		t.unknown_change("aws_cloudtrail", "main", {}, {"kms_key_id": true}),
	]
	config := {"resources": [
		_res("aws_kms_replica_key", "replica", {}),
		_res("aws_cloudtrail", "main", _kms_ref(["aws_kms_replica_key.replica.arn", "aws_kms_replica_key.replica"])),
	]}
	input_plan := t.plan_with_config(changes, config)
	states := {address: doc.state | some address, doc in plan.policies} with input as input_plan
	states == {
		"aws_kms_external_key.ext": "ok",
		"aws_kms_replica_key.replica": "default",
		"aws_kms_replica_external_key.replica_ext": "invalid",
	}
	plan.trail_keys == {"aws_cloudtrail.main": {"aws_kms_replica_key.replica"}} with input as input_plan
	plan.cloudtrail_policies == {"aws_kms_replica_key.replica"} with input as input_plan
}

test_null_policy_is_the_default_policy if {
	unset := {"policy": true}
	changes := [
		t.unknown_change("aws_kms_key", "literal", {}, unset),
		t.unknown_change("aws_kms_key", "root_var", {}, unset),
		t.unknown_change("aws_kms_key", "root_set", {}, unset),
		_in_module("module.m", _at("module.m.aws_kms_key.this", "aws_kms_key", "this", {}, unset)),
		_in_module("module.n", _at("module.n.aws_kms_key.this", "aws_kms_key", "this", {}, unset)),
		_in_module("module.o", _at("module.o.aws_kms_key.this", "aws_kms_key", "this", {}, unset)),
		_in_module("module.o", _at("module.o.aws_kms_key.two", "aws_kms_key", "two", {}, unset)),
	]
	child := {
		"variables": {"policy": {"default": null}, "req": {}},
		"resources": [
			_res("aws_kms_key", "this", {"policy": {"references": ["var.policy"]}}),
			_res("aws_kms_key", "two", {"policy": {"references": ["var.req", "var.policy"]}}),
		],
	}
	config := {
		"resources": [
			_res("aws_kms_key", "literal", {"policy": {"constant_value": null}}),
			_res("aws_kms_key", "root_var", {"policy": {"references": ["var.p"]}}),
			_res("aws_kms_key", "root_set", {"policy": {"references": ["var.set"]}}),
		],
		"module_calls": {
			# Not set: the variable's default (null).
			"m": {"expressions": {}, "module": child},
			# Set to the root variable p (null).
			"n": {"expressions": {"policy": {"references": ["var.p"]}}, "module": child},
			# Set to a resource's attribute: unknown.
			"o": {"expressions": {"policy": {"references": ["aws_iam_policy_document.x"]}}, "module": child},
		},
	}
	doc := object.union(t.plan_with_config(changes, config), {"variables": {"p": {"value": null}, "set": {"value": "{}"}}})
	states := {address: d.state | some address, d in plan.policies} with input as doc
	states == {
		"aws_kms_key.literal": "default",
		"aws_kms_key.root_var": "default",
		"aws_kms_key.root_set": "unknown",
		"module.m.aws_kms_key.this": "default",
		"module.n.aws_kms_key.this": "default",
		"module.o.aws_kms_key.this": "unknown",
		"module.o.aws_kms_key.two": "unknown",
	}
}

# A policy resource that may attach to either instance: both keep their own policy and get it too.
test_key_policy_resource_on_an_undecided_instance if {
	changes := [
		_key_at(`aws_kms_key.this["a"]`),
		_key_at(`aws_kms_key.this["b"]`),
		t.unknown_change("aws_kms_key_policy", "p", {"policy": t.policy([t.root_statement])}, {"key_id": true}),
	]
	key_id := {"key_id": {"references": ["aws_kms_key.this", "local.pick"]}}
	config := {"resources": [_res("aws_kms_key_policy", "p", key_id)]}
	effective := plan.effective_policies with input as t.plan_with_config(changes, config)
	effective == {
		`aws_kms_key.this["a"]`: {`aws_kms_key.this["a"]`, "aws_kms_key_policy.p"},
		`aws_kms_key.this["b"]`: {`aws_kms_key.this["b"]`, "aws_kms_key_policy.p"},
	}
}

# Same-key links through an alias under for_each and through a counted module's argument.
test_same_key_through_aliases_and_module_arguments if {
	changes := [
		_key_at(`aws_kms_key.this["a"]`),
		_key_at(`aws_kms_key.this["b"]`),
		_at("aws_kms_key.c[0]", "aws_kms_key", "c", {}, {}),
		_at("aws_kms_key.c[1]", "aws_kms_key", "c", {}, {}),
		_trail_at(`aws_cloudtrail.via_alias["b"]`, "via_alias"),
		_in_module("module.per[1]", _trail_at("module.per[1].aws_cloudtrail.this", "this")),
	]
	config := {
		"resources": [
			object.union(
				_res("aws_kms_alias", "this", {"target_key_id": {"references": ["each.value.key_id", "each.value"]}}),
				{"for_each_expression": {"references": ["aws_kms_key.this"]}},
			),
			_res("aws_cloudtrail", "via_alias", _kms_ref(["aws_kms_alias.this", "each.key"])),
		],
		"module_calls": {"per": {
			"expressions": {"key": {"references": ["aws_kms_key.c", "count.index"]}},
			"module": {"resources": [_res("aws_cloudtrail", "this", _kms_ref(["var.key"]))]},
		}},
	}
	plan.trail_keys == {
		`aws_cloudtrail.via_alias["b"]`: {`aws_kms_key.this["b"]`},
		"module.per[1].aws_cloudtrail.this": {"aws_kms_key.c[1]"},
	} with input as t.plan_with_config(changes, config)
}
