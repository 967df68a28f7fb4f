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

_denied(address, sid) := concat("", [
	address, ": statement \"", sid, "\" denies cloudtrail.amazonaws.com kms:DescribeKey,",
	" which overrides every statement allowing it",
])

# A Deny of kms:DescribeKey to CloudTrail (or to everyone) overrides its grant.
test_deny_describe_denied if {
	deny := {
		"Sid": "NoDescribe", "Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"},
		"Action": "kms:DescribeKey", "Resource": "*",
	}
	everyone := object.union(deny, {"Sid": "Everyone", "Principal": "*", "Action": "kms:Describe*"})
	changes := [
		t.key_with("service", array.concat(t.cloudtrail_statements, [deny])),
		t.key_with("everyone", array.concat(t.cloudtrail_statements, [everyone])),
	]
	t.pairs(cloudtrail_describe.deny) == {
		[
			"aws_kms_key.service",
			_denied("aws_kms_key.service", "NoDescribe"),
		],
		[
			"aws_kms_key.everyone",
			_denied("aws_kms_key.everyone", "Everyone"),
		],
	} with input as t.plan(changes)
}

test_allow_describe_deny_elsewhere if {
	others := {
		"Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:DescribeKey", "Resource": "*",
		"Condition": {"StringNotEquals": {"aws:SourceAccount": t.account}},
	}
	not_principal := {
		"Effect": "Deny", "NotPrincipal": {"Service": "cloudtrail.amazonaws.com"},
		"Action": "kms:*", "Resource": "*",
	}
	changes := [
		t.key_with("other_accounts", array.concat(t.cloudtrail_statements, [others])),
		t.key_with("not_principal", array.concat(t.cloudtrail_statements, [not_principal])),
	]
	cloudtrail_describe.deny == set() with input as t.plan(changes)
}
