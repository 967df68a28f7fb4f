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

_mismatch := concat("", [
	"no grant of kms:GenerateDataKey* to cloudtrail.amazonaws.com admits this trail",
	" (aws:SourceArn or kms:EncryptionContext:aws:cloudtrail:arn names other trails)",
])

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
		# Known at plan time: the ARN the key's aws:SourceArn names.
		object.union(
			t.trail("existing", {
				"name": "main", "arn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
				"kms_key_id": _arn("console"),
			}),
			{"change": {"actions": ["update"]}},
		),
		t.unknown_change("aws_cloudtrail", "nameless", {"kms_key_id": _arn("console")}, {"name": true}),
		t.trail("external", {"name": "external", "kms_key_id": "arn:aws:kms:us-east-1:999999999999:key/x"}),
	]
	key_grants.deny == set() with input as t.plan(changes)
}

# A trail instance whose key instance the plan does not name: every candidate judged, one finding.
test_deny_once_when_the_key_instance_is_undecided if {
	good := t.cloudtrail_key
	changes := [
		object.union(_key("good", good), {"address": `aws_kms_key.this["a"]`, "name": "this"}),
		object.union(_key("bad", {}), {"address": `aws_kms_key.this["b"]`, "name": "this"}),
		object.union(_key("good", good), {"address": `aws_kms_key.fine["a"]`, "name": "fine"}),
		object.union(_key("good", good), {"address": `aws_kms_key.fine["b"]`, "name": "fine"}),
		t.unknown_change("aws_cloudtrail", "main", {"name": "main"}, {"kms_key_id": true}),
		t.unknown_change("aws_cloudtrail", "ok", {"name": "main"}, {"kms_key_id": true}),
	]
	config := {"resources": [
		{"address": "aws_kms_key.this", "mode": "managed", "type": "aws_kms_key", "name": "this"},
		{"address": "aws_kms_key.fine", "mode": "managed", "type": "aws_kms_key", "name": "fine"},
		{
			"address": "aws_cloudtrail.main", "mode": "managed", "type": "aws_cloudtrail", "name": "main",
			"expressions": {"kms_key_id": {"references": ["aws_kms_key.this"]}},
		},
		{
			"address": "aws_cloudtrail.ok", "mode": "managed", "type": "aws_cloudtrail", "name": "ok",
			"expressions": {"kms_key_id": {"references": ["aws_kms_key.fine"]}},
		},
	]}
	t.pairs(key_grants.deny) == {[
		"aws_cloudtrail.main",
		concat("", [
			`aws_cloudtrail.main uses one of aws_kms_key.this["a"], aws_kms_key.this["b"]`,
			` (the plan does not say which instance): aws_kms_key.this["b"] whose policy`,
			` (aws_kms_key.this["b"]) fails: `, _no_grants,
		]),
	]} with input as t.plan_with_config(changes, config)
}

test_deny_sensitive_key_id_without_a_link if {
	sensitive := {"change": {"after_sensitive": {"kms_key_id": true}}}
	changes := [object.union(t.unknown_change("aws_cloudtrail", "secret", {"name": "s"}, {"kms_key_id": true}), sensitive)]
	t.pairs(key_grants.deny) == {[
		"aws_cloudtrail.secret",
		"aws_cloudtrail.secret cannot be checked: its kms_key_id is sensitive, so the plan does not show which key it uses",
	]} with input as t.plan(changes)
}
