package tfgen.rules.cloudtrail.key_grants_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.cloudtrail.key_grants

_arn(name) := concat("", ["arn:aws:kms:us-east-1:111122223333:key/", name])

_key(name, after) := t.key(name, object.union(after, {"arn": _arn(name)}))

_trail(name, key) := t.trail(name, {"name": name, "kms_key_id": _arn(key)})

# A trail whose ARN is known (it exists already) and that is planned with `action`.
_existing_trail(name, region, key, action) := object.union(
	t.trail(name, {"arn": concat("", ["arn:aws:cloudtrail:", region, ":111122223333:trail/x"]), "kms_key_id": _arn(key)}),
	{"change": {"actions": [action]}},
)

_fails(trail, key, holder, problem) := [
	concat(".", ["aws_cloudtrail", trail]),
	concat("", ["aws_cloudtrail.", trail, " uses ", key, " whose policy (", holder, ") fails: ", problem]),
]

_no_grants := concat("", [
	"no statement allows cloudtrail.amazonaws.com kms:DescribeKey;",
	" no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*",
])

_mismatch := "no kms:EncryptionContext:aws:cloudtrail:arn pattern matches this trail"

test_deny_trail_keys_that_do_not_grant_cloudtrail if {
	other_arns := "arn:aws:cloudtrail:*:111122223333:trail/other-*"
	other_trail := object.union(
		t.encrypt_statement,
		{"Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": other_arns}}},
	)
	changes := [
		_key("default", {}),
		object.union(_key("unknown", {}), {"change": {"after_unknown": {"policy": true}}}),
		_key("invalid", {"policy": "not json"}),
		_key("other", {"policy": t.policy([t.root_statement, other_trail, t.describe_statement])}),
		_existing_trail("by_arn", "us-east-1", "other", "no-op"),
		_trail("main", "default"),
		_trail("unknown_policy", "unknown"),
		_trail("bad_policy", "invalid"),
		_trail("mismatch", "other"),
	]
	t.pairs(key_grants.deny) == {
		_fails("main", "aws_kms_key.default", "aws_kms_key.default", _no_grants),
		_fails("unknown_policy", "aws_kms_key.unknown", "aws_kms_key.unknown", "it is unknown at plan time"),
		_fails("bad_policy", "aws_kms_key.invalid", "aws_kms_key.invalid", "it is not valid policy JSON"),
		_fails("mismatch", "aws_kms_key.other", "aws_kms_key.other", _mismatch),
		_fails("by_arn", "aws_kms_key.other", "aws_kms_key.other", _mismatch),
	} with input as t.plan(changes)
}

test_deny_uses_the_attached_key_policy if {
	changes := [
		_key("k", {"policy": t.policy([t.root_statement, t.encrypt_statement, t.describe_statement])}),
		t.change("aws_kms_key_policy", "p", {"key_id": _arn("k"), "policy": t.policy([t.root_statement])}),
		_trail("main", "k"),
	]
	expected := {_fails("main", "aws_kms_key.k", "aws_kms_key_policy.p", _no_grants)}
	t.pairs(key_grants.deny) == expected with input as t.plan(changes)
}

test_allow_matching_grants if {
	changes := [
		_key("console", t.cloudtrail_key),
		_trail("main", "console"),
		_existing_trail("by_arn", "eu-west-1", "console", "update"),
		t.unknown_change("aws_cloudtrail", "nameless", {"kms_key_id": _arn("console")}, {"name": true}),
		t.trail("external", {"name": "external", "kms_key_id": "arn:aws:kms:us-east-1:999999999999:key/x"}),
	]
	key_grants.deny == set() with input as t.plan(changes)
}
