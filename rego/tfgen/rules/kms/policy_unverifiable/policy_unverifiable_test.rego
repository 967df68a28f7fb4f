package tfgen.rules.kms.policy_unverifiable_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.policy_unverifiable

test_deny_unknown_or_invalid_policies if {
	changes := [
		t.unknown_change("aws_kms_key", "unknown", {}, {"policy": true}),
		t.key("not_json", {"policy": "{\"Statement\": ["}),
		t.change("aws_kms_key_policy", "no_statement", {"policy": "{\"Version\": \"2012-10-17\"}"}),
	]
	t.pairs(policy_unverifiable.deny) == {
		[
			"aws_kms_key.unknown",
			"aws_kms_key.unknown has a policy that is unknown at plan time, so it cannot be verified",
		],
		["aws_kms_key.not_json", "aws_kms_key.not_json has an invalid policy: the policy is not valid JSON"],
		[
			"aws_kms_key_policy.no_statement",
			"aws_kms_key_policy.no_statement has an invalid policy: the policy has no valid Statement list",
		],
	} with input as t.plan(changes)
}

test_allow_known_or_default_policies if {
	changes := [t.key("known", t.good_key), t.key("default", {})]
	policy_unverifiable.deny == set() with input as t.plan(changes)
}
