package tfgen.rules.kms.cloudtrail_encrypt_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.cloudtrail_encrypt

_encrypt(action, condition) := {
	"Sid": "E",
	"Effect": "Allow",
	"Principal": {"Service": ["cloudtrail.amazonaws.com"]},
	"Action": action,
	"Resource": "*",
	"Condition": condition,
}

_context(operator, value) := {operator: {"kms:EncryptionContext:aws:cloudtrail:arn": value}}

# A key with the root and DescribeKey statements plus `statement`.
_key(name, statement) := t.key_with(name, [t.root_statement, t.describe_statement, statement])

_unscoped(address) := concat("", [
	address, `: statement "E" allows cloudtrail.amazonaws.com kms:GenerateDataKey*`,
	" without a kms:EncryptionContext:aws:cloudtrail:arn condition",
])

test_deny_unscoped_or_any_account_grants if {
	any_account := _context("StringLike", "arn:aws:cloudtrail:*:*:trail/*")
	changes := [
		_key("unconditioned", _encrypt("kms:GenerateDataKey*", {})),
		_key("any_account", _encrypt(["kms:Encrypt", "kms:GenerateDataKey*"], any_account)),
		_key("if_exists", _encrypt("kms:*", _context("StringLikeIfExists", t.trail_arns))),
		_key("literal", _encrypt("kms:GenerateDataKey*", _context("StringEquals", t.trail_arns))),
		t.key_with("no_grant", [t.root_statement, t.describe_statement]),
	]
	t.pairs(cloudtrail_encrypt.deny) == {
		["aws_kms_key.unconditioned", _unscoped("aws_kms_key.unconditioned")],
		["aws_kms_key.if_exists", _unscoped("aws_kms_key.if_exists")],
		[
			"aws_kms_key.literal",
			concat("", [
				`aws_kms_key.literal: statement "E" compares kms:EncryptionContext:aws:cloudtrail:arn by equality`,
				" with arn:aws:cloudtrail:*:111122223333:trail/*, whose wildcard is taken literally and matches no trail",
			]),
		],
		[
			"aws_kms_key.any_account",
			concat("", [
				`aws_kms_key.any_account: statement "E" scopes kms:EncryptionContext:aws:cloudtrail:arn`,
				" to arn:aws:cloudtrail:*:*:trail/*, which is not an account-specific trail ARN",
			]),
		],
		[
			"aws_kms_key.no_grant",
			"aws_kms_key.no_grant: no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*",
		],
	} with input as t.plan(changes)
}

test_deny_default_policy_of_a_trail_key if {
	arn := "arn:aws:kms:us-east-1:111122223333:key/1"
	changes := [t.key("default", {"arn": arn}), t.trail("main", {"kms_key_id": arn})]
	t.addresses(cloudtrail_encrypt.deny) == {"aws_kms_key.default"} with input as t.plan(changes)
}

test_allow_account_scoped_grants if {
	one_trail := _context("StringEquals", ["arn:aws:cloudtrail:us-east-1:111122223333:trail/main"])
	changes := [
		t.key("console", t.cloudtrail_key),
		_key("equals", _encrypt("kms:GenerateDataKey", one_trail)),
		_key("arn_like", _encrypt("kms:Generate*", _context("ArnLike", t.trail_arns))),
		t.key("unrelated", t.good_key),
	]
	cloudtrail_encrypt.deny == set() with input as t.plan(changes)
}

_deny(sid, action, condition) := {
	"Sid": sid,
	"Effect": "Deny",
	"Principal": {"Service": "cloudtrail.amazonaws.com"},
	"Action": action,
	"Resource": "*",
	"Condition": condition,
}

# A grant without Resource has no effect; a matching Deny overrides the grant; a Deny whose
# condition cannot be decided keeps the finding and says so; "**" under StringLike is any ARN.
test_deny_grant_without_effect_or_denied if {
	undecided := _deny("Ip", "kms:*", {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
	changes := [
		_key("no_resource", object.remove(t.encrypt_statement, ["Resource"])),
		t.key_with("denied", [
			t.root_statement, t.describe_statement, t.encrypt_statement,
			_deny("D", "kms:GenerateDataKey*", {}),
		]),
		t.key_with("undecided", [t.root_statement, t.describe_statement, t.encrypt_statement, undecided]),
		_key("stars", _encrypt("kms:GenerateDataKey*", _context("StringLike", "**"))),
		_key("foreign", object.union(t.encrypt_statement, {"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})),
	]
	t.pairs(cloudtrail_encrypt.deny) == {
		[
			"aws_kms_key.no_resource",
			"aws_kms_key.no_resource: no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*",
		],
		[
			"aws_kms_key.denied",
			concat("", [
				`aws_kms_key.denied: statement "D" denies cloudtrail.amazonaws.com kms:GenerateDataKey*,`,
				" which overrides every statement allowing it",
			]),
		],
		[
			"aws_kms_key.undecided",
			concat("", [
				"aws_kms_key.undecided: whether cloudtrail.amazonaws.com may call kms:GenerateDataKey* could not be",
				` decided: statement "Ip" depend on request values unknown at plan time`,
			]),
		],
		[
			"aws_kms_key.stars",
			concat("", [
				`aws_kms_key.stars: statement "E" scopes kms:EncryptionContext:aws:cloudtrail:arn`,
				" to **, which is not an account-specific trail ARN",
			]),
		],
		[
			"aws_kms_key.foreign",
			concat("", [
				"aws_kms_key.foreign: whether cloudtrail.amazonaws.com may call kms:GenerateDataKey* could not be",
				` decided: statement "Encrypt" (condition on aws:sourceip) depend on request values unknown at plan time`,
			]),
		],
	} with input as t.plan(changes)
}

# Case-insensitive operators compare trail ARNs in any case; Denies for other accounts'
# trails do not reach this account's; a Deny-only mention of CloudTrail is no CloudTrail key.
test_allow_ignore_case_and_other_account_denies if {
	upper_case := _context("StringEqualsIgnoreCase", "ARN:AWS:CLOUDTRAIL:US-EAST-1:111122223333:TRAIL/MAIN")
	others := _deny("Others", "kms:*", {"StringNotEquals": {"aws:SourceAccount": t.account}})
	changes := [
		_key("ignore_case", _encrypt("kms:GenerateDataKey*", upper_case)),
		t.key_with("other_accounts", [t.root_statement, t.describe_statement, t.encrypt_statement, others]),
		t.key_with("deny_only", [t.root_statement, _deny("NoTrail", "kms:*", {})]),
		t.key_with("tls", [
			t.root_statement, t.describe_statement,
			object.union(t.encrypt_statement, {"Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
			_deny("Plain", "kms:*", {"Bool": {"aws:SecureTransport": "false"}}),
		]),
		# A data-perimeter Deny that exempts AWS services does not reach CloudTrail.
		t.key_with("perimeter", [
			t.root_statement, t.describe_statement, t.encrypt_statement,
			object.union(_deny("Perimeter", "kms:*", {}), {"Principal": "*", "Condition": {
				"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"},
				"BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
			}}),
		]),
	]
	cloudtrail_encrypt.deny == set() with input as t.plan(changes)
}
