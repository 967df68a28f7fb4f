package tfgen.lib.plan_test

import data.tfgen.lib.plan
import data.tfgen.lib.testing as t

_with_actions(rc, actions) := object.union(rc, {"change": {"actions": actions}})

test_changes_skip_deletes_and_data_sources if {
	changes := [
		_with_actions(t.key("created", {}), ["create"]),
		_with_actions(t.key("updated", {}), ["update"]),
		_with_actions(t.key("kept", {}), ["no-op"]),
		_with_actions(t.key("replaced", {}), ["delete", "create"]),
		_with_actions(t.key("replaced_first", {}), ["create", "delete"]),
		_with_actions(t.key("deleted", {}), ["delete"]),
		_with_actions(t.key("forgotten", {}), ["forget"]),
		object.union(t.key("read", {}), {"mode": "data"}),
	]
	keys := object.keys(plan.changes) with input as t.plan(changes)
	keys == {
		"aws_kms_key.created", "aws_kms_key.updated", "aws_kms_key.kept",
		"aws_kms_key.replaced", "aws_kms_key.replaced_first",
	}
}

test_plan_without_resource_changes if {
	count(plan.changes) == 0 with input as {"format_version": "1.2"}
	count(plan.policies) == 0 with input as {"format_version": "1.2"}
}

test_values_known_unknown_absent if {
	rc := t.unknown_change("aws_kms_key", "k", {"a": 1, "n": null}, {"u": true})
	plan.value(rc, "a") == 1
	not plan.value(rc, "n")
	not plan.value(rc, "u")
	plan.unknown(rc, "u")
	not plan.unknown(rc, "a")
	plan.absent(rc, "n")
	plan.absent(rc, "missing")
	not plan.absent(rc, "u")
	not plan.absent(rc, "a")
}

test_policy_states if {
	changes := [
		t.key("ok", {"policy": t.policy([t.root_statement])}),
		t.key("default", {"policy": null}),
		t.unknown_change("aws_kms_key", "unknown", {}, {"policy": true}),
		t.key("invalid", {"policy": "{not json"}),
		t.change("aws_kms_key_policy", "missing", {"key_id": "k"}),
	]
	states := {address: doc.state | some address, doc in plan.policies} with input as t.plan(changes)
	states == {
		"aws_kms_key.ok": "ok",
		"aws_kms_key.default": "default",
		"aws_kms_key.unknown": "unknown",
		"aws_kms_key.invalid": "invalid",
		"aws_kms_key_policy.missing": "invalid",
	}
}

# The AWS provider reports an unset policy as unknown; configuration tells them apart.
test_unset_policy_reported_unknown_is_default if {
	changes := [
		t.unknown_change("aws_kms_key", "unset", {}, {"policy": true}),
		t.unknown_change("aws_kms_key", "computed", {}, {"policy": true}),
	]
	config := {"resources": [
		_res("aws_kms_key", "unset", {}),
		_res("aws_kms_key", "computed", {"policy": {"references": ["aws_iam_role.r.arn"]}}),
	]}
	states := {address: doc.state | some address, doc in plan.policies} with input as t.plan_with_config(changes, config)
	states == {"aws_kms_key.unset": "default", "aws_kms_key.computed": "unknown"}
}

test_config_address_drops_instance_keys if {
	nested := {"type": "aws_kms_key", "name": "this", "module_address": `module.a["x"].module.b[0]`}
	plan.config_address(nested) == "module.a.module.b.aws_kms_key.this"
	plan.config_address({"type": "aws_kms_key", "name": "this"}) == "aws_kms_key.this"
}

# A resource change `rc` moved into the module `module`.
_in(module, rc) := object.union(rc, {"address": concat(".", [module, rc.address]), "module_address": module})

_child_key := _in("module.logs", t.key("this", {}))

_nested_key := object.union(
	_in("module.outer.module.inner", t.key("this", {})),
	{"address": "module.outer.module.inner.aws_kms_key.this[0]", "index": 0},
)

_res(type, name, expressions) := {
	"address": concat(".", [type, name]),
	"mode": "managed",
	"type": type,
	"name": name,
	"expressions": expressions,
}

_kms_ref(refs) := {"kms_key_id": {"references": refs}}

# A trail whose kms_key_id is unknown at plan time (a key created in the same plan).
_new_trail(name) := t.unknown_change("aws_cloudtrail", name, {}, {"kms_key_id": true})

test_trail_keys_through_references if {
	changes := [
		t.key("this", {}),
		_child_key,
		_nested_key,
		_new_trail("direct"),
		_new_trail("output"),
		_new_trail("nested"),
		_in("module.logs", _new_trail("inner")),
		_in("module.logs", _new_trail("via_var")),
		_new_trail("to_data"),
		_new_trail("alias"),
		_new_trail("one"),
		_new_trail("odd_key"),
		object.union(t.key("multi", {}), {"address": `aws_kms_key.multi["a.b"]`}),
		object.union(t.key("multi", {}), {"address": `aws_kms_key.multi["c"]`}),
	]
	config := {
		"resources": [
			_res("aws_cloudtrail", "direct", _kms_ref(["aws_kms_key.this.arn", "aws_kms_key.this"])),
			_res("aws_cloudtrail", "output", _kms_ref(["module.logs.key_arn", "module.logs"])),
			_res("aws_cloudtrail", "nested", _kms_ref(["module.outer.arn", "module.outer"])),
			_res("aws_cloudtrail", "to_data", _kms_ref(["data.aws_kms_key.x.arn", "data.aws_kms_key.x"])),
			_res("aws_cloudtrail", "alias", _kms_ref(["aws_kms_alias.this.arn", "aws_kms_alias.this"])),
			_res("aws_cloudtrail", "one", _kms_ref([`aws_kms_key.multi["c"].arn`, "aws_kms_key.multi"])),
			_res("aws_cloudtrail", "odd_key", _kms_ref([`aws_kms_key.multi["a.b"].arn`, "aws_kms_key.multi"])),
			_res("aws_kms_alias", "this", {"target_key_id": {"references": ["aws_kms_key.this.key_id", "aws_kms_key.this"]}}),
			{"address": "data.aws_kms_key.x", "mode": "data", "type": "aws_kms_key", "name": "x"},
		],
		"module_calls": {
			"logs": {"expressions": {"key": {"references": ["aws_kms_key.this.arn", "aws_kms_key.this"]}}, "module": {
				"outputs": {"key_arn": {"expression": {"references": ["aws_kms_key.this.arn", "aws_kms_key.this"]}}},
				"resources": [
					_res("aws_kms_key", "this", {}),
					_res("aws_cloudtrail", "inner", _kms_ref(["aws_kms_key.this.arn", "aws_kms_key.this"])),
					_res("aws_cloudtrail", "via_var", _kms_ref(["var.key"])),
				],
			}},
			"outer": {"module": {
				"outputs": {"arn": {"expression": {"references": ["module.inner.arn", "module.inner"]}}},
				"module_calls": {"inner": {"module": {
					"outputs": {"arn": {"expression": {"references": ["aws_kms_key.this[0].arn", "aws_kms_key.this"]}}},
					"resources": [_res("aws_kms_key", "this", {})],
				}}},
			}},
		},
	}
	links := plan.trail_keys with input as t.plan_with_config(changes, config)
	links == {
		"aws_cloudtrail.direct": {"aws_kms_key.this"},
		"aws_cloudtrail.output": {"module.logs.aws_kms_key.this"},
		"aws_cloudtrail.nested": {"module.outer.module.inner.aws_kms_key.this[0]"},
		"module.logs.aws_cloudtrail.inner": {"module.logs.aws_kms_key.this"},
		"module.logs.aws_cloudtrail.via_var": {"aws_kms_key.this"},
		"aws_cloudtrail.to_data": set(),
		"aws_cloudtrail.alias": {"aws_kms_key.this"},
		"aws_cloudtrail.one": {`aws_kms_key.multi["c"]`},
		# An instance key with a dot is one key.
		"aws_cloudtrail.odd_key": {`aws_kms_key.multi["a.b"]`},
	}
}

test_trail_keys_stay_in_their_module_instance if {
	changes := [
		_in(`module.logs["a"]`, t.key("this", {})),
		_in(`module.logs["b"]`, t.key("this", {})),
		_in(`module.logs["a"]`, _new_trail("this")),
		_in(`module.logs["b"]`, _new_trail("this")),
		_new_trail("root"),
	]
	config := {
		"resources": [_res("aws_cloudtrail", "root", _kms_ref([`module.logs["a"].arn`, `module.logs["a"]`]))],
		"module_calls": {"logs": {"module": {
			"outputs": {"arn": {"expression": {"references": ["aws_kms_key.this.arn", "aws_kms_key.this"]}}},
			"resources": [
				_res("aws_kms_key", "this", {}),
				_res("aws_cloudtrail", "this", _kms_ref(["aws_kms_key.this.arn", "aws_kms_key.this"])),
			],
		}}},
	}
	links := plan.trail_keys with input as t.plan_with_config(changes, config)
	links == {
		`module.logs["a"].aws_cloudtrail.this`: {`module.logs["a"].aws_kms_key.this`},
		`module.logs["b"].aws_cloudtrail.this`: {`module.logs["b"].aws_kms_key.this`},
		# Through an output of module instance ["a"]: that instance's key only.
		"aws_cloudtrail.root": {`module.logs["a"].aws_kms_key.this`},
	}
}

test_trail_keys_by_known_value if {
	arn := "arn:aws:kms:us-east-1:111122223333:key/1234"
	changes := [
		_with_actions(t.key("existing", {"arn": arn, "key_id": "1234"}), ["no-op"]),
		t.trail("by_arn", {"kms_key_id": arn}),
		t.trail("by_id", {"kms_key_id": "1234"}),
		t.trail("other", {"kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/other"}),
	]
	links := plan.trail_keys with input as t.plan(changes)
	links == {
		"aws_cloudtrail.by_arn": {"aws_kms_key.existing"},
		"aws_cloudtrail.by_id": {"aws_kms_key.existing"},
		"aws_cloudtrail.other": set(),
	}
}

test_key_policy_resources_take_over_the_key if {
	changes := [
		t.key("attached", {}),
		t.key("by_value", {"key_id": "abcd"}),
		t.key("alone", {}),
		t.unknown_change("aws_kms_key_policy", "attached", {"policy": t.policy([t.root_statement])}, {"key_id": true}),
		t.change("aws_kms_key_policy", "by_value", {"key_id": "abcd", "policy": t.policy([t.root_statement])}),
	]
	key_id := {"key_id": {"references": ["aws_kms_key.attached.id", "aws_kms_key.attached"]}}
	config := {"resources": [_res("aws_kms_key_policy", "attached", key_id)]}
	effective := plan.effective_policies with input as t.plan_with_config(changes, config)
	effective == {
		"aws_kms_key.attached": {"aws_kms_key_policy.attached"},
		"aws_kms_key.by_value": {"aws_kms_key_policy.by_value"},
		"aws_kms_key.alone": {"aws_kms_key.alone"},
	}
}

test_cloudtrail_keys_by_trail_or_policy if {
	changes := [
		t.key("used", {"arn": "arn:aws:kms:us-east-1:111122223333:key/used"}),
		t.key_with("named", [t.root_statement, t.describe_statement]),
		t.key_with("unrelated", [t.root_statement]),
		t.trail("main", {"kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/used"}),
	]
	plan.cloudtrail_keys == {"aws_kms_key.used", "aws_kms_key.named"} with input as t.plan(changes)
	plan.cloudtrail_policies == {"aws_kms_key.used", "aws_kms_key.named"} with input as t.plan(changes)
}
