package tfgen.rules.kms.cloudtrail_encrypt_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.cloudtrail_encrypt

_encrypt(sid, action, condition) := {"Sid": sid, "Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]}, "Action": action, "Resource": "*", "Condition": condition}

_context(operator, value) := {operator: {"kms:EncryptionContext:aws:cloudtrail:arn": value}}

test_deny_unscoped_or_any_account_grants if {
	changes := [
		t.key_with("unconditioned", [t.root_statement, t.describe_statement, _encrypt("E", "kms:GenerateDataKey*", {})]),
		t.key_with("any_account", [t.root_statement, t.describe_statement, _encrypt("E", ["kms:Encrypt", "kms:GenerateDataKey*"], _context("StringLike", "arn:aws:cloudtrail:*:*:trail/*"))]),
		t.key_with("if_exists", [t.root_statement, t.describe_statement, _encrypt("E", "kms:*", _context("StringLikeIfExists", t.trail_arns))]),
		t.key_with("no_grant", [t.root_statement, t.describe_statement]),
	]
	t.pairs(cloudtrail_encrypt.deny) == {
		["aws_kms_key.unconditioned", `aws_kms_key.unconditioned: statement "E" allows cloudtrail.amazonaws.com kms:GenerateDataKey* without a kms:EncryptionContext:aws:cloudtrail:arn condition`],
		["aws_kms_key.any_account", `aws_kms_key.any_account: statement "E" scopes kms:EncryptionContext:aws:cloudtrail:arn to arn:aws:cloudtrail:*:*:trail/*, which is not an account-specific trail ARN`],
		["aws_kms_key.if_exists", `aws_kms_key.if_exists: statement "E" allows cloudtrail.amazonaws.com kms:GenerateDataKey* without a kms:EncryptionContext:aws:cloudtrail:arn condition`],
		["aws_kms_key.no_grant", "aws_kms_key.no_grant: no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*"],
	} with input as t.plan(changes)
}

test_deny_default_policy_of_a_trail_key if {
	arn := "arn:aws:kms:us-east-1:111122223333:key/1"
	changes := [t.key("default", {"arn": arn}), t.trail("main", {"kms_key_id": arn})]
	t.addresses(cloudtrail_encrypt.deny) == {"aws_kms_key.default"} with input as t.plan(changes)
}

test_allow_account_scoped_grants if {
	changes := [
		t.key("console", t.cloudtrail_key),
		t.key_with("equals", [t.root_statement, t.describe_statement, _encrypt("E", "kms:GenerateDataKey", _context("StringEquals", ["arn:aws:cloudtrail:us-east-1:111122223333:trail/main"]))]),
		t.key_with("arn_like", [t.root_statement, t.describe_statement, _encrypt("E", "kms:Generate*", _context("ArnLike", t.trail_arns))]),
		t.key("unrelated", t.good_key),
	]
	cloudtrail_encrypt.deny == set() with input as t.plan(changes)
}
