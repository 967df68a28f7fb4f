package tfgen.rules.kms.cloudtrail_describe_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.cloudtrail_describe

test_deny_without_describe_grant if {
	denied := object.union(t.describe_statement, {"Effect": "Deny"})
	changes := [
		t.key_with("no_describe", [t.root_statement, t.encrypt_statement]),
		t.change("aws_kms_key_policy", "p", {"policy": t.policy([t.root_statement, t.encrypt_statement, denied])}),
	]
	t.pairs(cloudtrail_describe.deny) == {
		[
			"aws_kms_key.no_describe",
			"aws_kms_key.no_describe: no statement allows cloudtrail.amazonaws.com kms:DescribeKey",
		],
		["aws_kms_key_policy.p", "aws_kms_key_policy.p: no statement allows cloudtrail.amazonaws.com kms:DescribeKey"],
	} with input as t.plan(changes)
}

test_allow_describe_forms if {
	both := object.union(t.encrypt_statement, {"Action": ["kms:GenerateDataKey*", "kms:Describe*"]})
	changes := [
		t.key("console", t.cloudtrail_key),
		t.key_with("wildcard", [t.root_statement, both]),
	]
	cloudtrail_describe.deny == set() with input as t.plan(changes)
}
