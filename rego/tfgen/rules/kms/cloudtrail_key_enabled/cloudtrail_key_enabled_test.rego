package tfgen.rules.kms.cloudtrail_key_enabled_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.cloudtrail_key_enabled

test_deny_disabled_or_unknown_cloudtrail_keys if {
	policy := t.policy([t.root_statement, t.describe_statement])
	changes := [
		t.key_with("disabled", [t.root_statement, t.encrypt_statement]),
		t.unknown_change("aws_kms_key", "unknown", {"policy": policy}, {"is_enabled": true}),
	]
	disabled := object.union(changes[0], {"change": {"after": {"is_enabled": false}}})
	t.pairs(cloudtrail_key_enabled.deny) == {
		["aws_kms_key.disabled", "aws_kms_key.disabled is used for CloudTrail but is disabled"],
		["aws_kms_key.unknown", "aws_kms_key.unknown is used for CloudTrail but is_enabled is unknown at plan time"],
	} with input as t.plan([disabled, changes[1]])
}

test_allow_enabled_or_unrelated_keys if {
	changes := [
		t.key("cloudtrail", t.cloudtrail_key),
		t.key("disabled_unrelated", {"is_enabled": false}),
	]
	cloudtrail_key_enabled.deny == set() with input as t.plan(changes)
}
