package tfgen.rules.cloudtrail.key_grants_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.cloudtrail.key_grants

_arn(name) := concat("", ["arn:aws:kms:us-east-1:111122223333:key/", name])

_key(name, after) := t.key(name, object.union(after, {"arn": _arn(name)}))

_trail(name, key) := t.trail(name, {"name": name, "kms_key_id": _arn(key)})

test_deny_trail_keys_that_do_not_grant_cloudtrail if {
	other_trail := object.union(t.encrypt_statement, {"Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111122223333:trail/other-*"}}})
	changes := [
		_key("default", {}),
		_key("unknown", {}),
		_key("invalid", {"policy": "not json"}),
		_key("other", {"policy": t.policy([t.root_statement, other_trail, t.describe_statement])}),
		object.union(t.trail("by_arn", {"arn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/x", "kms_key_id": _arn("other")}), {"change": {"actions": ["no-op"]}}),
		_trail("main", "default"),
		_trail("unknown_policy", "unknown"),
		_trail("bad_policy", "invalid"),
		_trail("mismatch", "other"),
	]
	unknown := object.union(changes[1], {"change": {"after_unknown": {"policy": true}}})
	plan := t.plan(array.concat([changes[0], unknown], array.slice(changes, 2, count(changes))))
	t.pairs(key_grants.deny) == {
		["aws_cloudtrail.main", "aws_cloudtrail.main uses aws_kms_key.default whose policy (aws_kms_key.default) fails: no statement allows cloudtrail.amazonaws.com kms:DescribeKey; no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*"],
		["aws_cloudtrail.unknown_policy", "aws_cloudtrail.unknown_policy uses aws_kms_key.unknown whose policy (aws_kms_key.unknown) fails: it is unknown at plan time"],
		["aws_cloudtrail.bad_policy", "aws_cloudtrail.bad_policy uses aws_kms_key.invalid whose policy (aws_kms_key.invalid) fails: it is not valid policy JSON"],
		["aws_cloudtrail.mismatch", "aws_cloudtrail.mismatch uses aws_kms_key.other whose policy (aws_kms_key.other) fails: no kms:EncryptionContext:aws:cloudtrail:arn pattern matches this trail"],
		["aws_cloudtrail.by_arn", "aws_cloudtrail.by_arn uses aws_kms_key.other whose policy (aws_kms_key.other) fails: no kms:EncryptionContext:aws:cloudtrail:arn pattern matches this trail"],
	} with input as plan
}

test_deny_uses_the_attached_key_policy if {
	changes := [
		_key("k", {"policy": t.policy([t.root_statement, t.encrypt_statement, t.describe_statement])}),
		t.change("aws_kms_key_policy", "p", {"key_id": _arn("k"), "policy": t.policy([t.root_statement])}),
		_trail("main", "k"),
	]
	t.pairs(key_grants.deny) == {[
		"aws_cloudtrail.main",
		"aws_cloudtrail.main uses aws_kms_key.k whose policy (aws_kms_key_policy.p) fails: no statement allows cloudtrail.amazonaws.com kms:DescribeKey; no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*",
	]} with input as t.plan(changes)
}

test_allow_matching_grants if {
	changes := [
		_key("console", t.cloudtrail_key),
		_trail("main", "console"),
		object.union(t.trail("by_arn", {"arn": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/x", "kms_key_id": _arn("console")}), {"change": {"actions": ["update"]}}),
		t.unknown_change("aws_cloudtrail", "nameless", {"kms_key_id": _arn("console")}, {"name": true}),
		t.trail("external", {"name": "external", "kms_key_id": "arn:aws:kms:us-east-1:999999999999:key/x"}),
	]
	key_grants.deny == set() with input as t.plan(changes)
}
