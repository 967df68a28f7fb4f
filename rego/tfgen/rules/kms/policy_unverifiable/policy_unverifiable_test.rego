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

# KMS accepts only printable ASCII, Latin-1 up to U+00FF, tab, LF and CR.
test_deny_characters_kms_rejects if {
	quote := t.policy([object.union(t.root_statement, {"Sid": "Owner’s root"})])
	control := concat("", [t.policy([t.root_statement]), "\u0007"])
	reason := ", which KMS does not accept in a key policy (only printable ASCII, Latin-1 up to U+00FF, tab, LF and CR)"
	t.pairs(policy_unverifiable.deny) == {
		[
			"aws_kms_key.quote",
			concat("", ["aws_kms_key.quote has an invalid policy: the policy contains the character \"’\"", reason]),
		],
		[
			"aws_kms_key.control",
			concat("", ["aws_kms_key.control has an invalid policy: the policy contains the character \"\\u0007\"", reason]),
		],
	} with input as t.plan([t.key("quote", {"policy": quote}), t.key("control", {"policy": control})])
}

test_allow_latin1_tab_and_newlines if {
	latin1 := concat("", ["\t", t.policy([object.union(t.root_statement, {"Sid": "Schlüssel ÿ"})]), "\r\n"])
	policy_unverifiable.deny == set() with input as t.plan([t.key("k", {"policy": latin1})])
}
