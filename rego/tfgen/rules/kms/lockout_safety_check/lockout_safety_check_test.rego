package tfgen.rules.kms.lockout_safety_check_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.lockout_safety_check

test_deny_bypass_true_or_unknown if {
	policy := t.policy([t.root_statement])
	changes := [
		t.key("bypass", {"bypass_policy_lockout_safety_check": true}),
		t.change("aws_kms_key_policy", "bypass", {"bypass_policy_lockout_safety_check": true, "policy": policy}),
		t.unknown_change("aws_kms_key", "unknown", {}, {"bypass_policy_lockout_safety_check": true}),
	]
	t.pairs(lockout_safety_check.deny) == {
		["aws_kms_key.bypass", "aws_kms_key.bypass bypasses the key policy lockout safety check"],
		["aws_kms_key_policy.bypass", "aws_kms_key_policy.bypass bypasses the key policy lockout safety check"],
		["aws_kms_key.unknown", "aws_kms_key.unknown has bypass_policy_lockout_safety_check unknown at plan time"],
	} with input as t.plan(changes)
}

test_allow_no_bypass if {
	changes := [t.key("unset", {}), t.key("off", {"bypass_policy_lockout_safety_check": false})]
	lockout_safety_check.deny == set() with input as t.plan(changes)
}
