package tfgen.rules.kms.public_principal_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.public_principal

_stmt(sid, principal, condition) := {
	"Sid": sid,
	"Effect": "Allow",
	"Principal": principal,
	"Action": "kms:Decrypt",
	"Resource": "*",
	"Condition": condition,
}

test_deny_public_principals_without_account_condition if {
	statements := [
		t.root_statement,
		object.remove(_stmt("Star", "*", {}), ["Condition"]),
		_stmt("AwsStar", {"AWS": "*"}, {}),
		_stmt("AwsStarList", {"AWS": ["*"]}, {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}),
		_stmt("LikeStar", {"AWS": "*"}, {"StringLike": {"kms:CallerAccount": "*"}}),
		_stmt("IfExists", {"AWS": "*"}, {"StringEqualsIfExists": {"kms:CallerAccount": t.account}}),
		_stmt("AllValues", {"AWS": "*"}, {"ForAllValues:StringEquals": {"aws:PrincipalAccount": t.account}}),
		_stmt("Negated", {"AWS": "*"}, {"StringNotEquals": {"kms:CallerAccount": t.account}}),
		{"Effect": "Allow", "NotPrincipal": {"AWS": t.root}, "Action": "kms:Decrypt", "Resource": "*"},
	]
	t.pairs(public_principal.deny) == {
		["aws_kms_key.k", `aws_kms_key.k: statement "Star" allows principal "*" without a concrete account condition`],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "AwsStar" allows principal "*" without a concrete account condition`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "AwsStarList" allows principal "*" without a concrete account condition`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "LikeStar" allows principal "*" without a concrete account condition`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "IfExists" allows principal "*" without a concrete account condition`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "AllValues" allows principal "*" without a concrete account condition`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "Negated" allows principal "*" without a concrete account condition`,
		],
		[
			"aws_kms_key.k",
			"aws_kms_key.k: Statement[8] allows every principal outside NotPrincipal without a concrete account condition",
		],
	} with input as t.plan([t.key_with("k", statements)])
}

test_deny_on_key_policy_resources if {
	policy := t.policy([t.root_statement, _stmt("AwsStar", {"AWS": "*"}, {})])
	change := t.change("aws_kms_key_policy", "p", {"policy": policy})
	t.addresses(public_principal.deny) == {"aws_kms_key_policy.p"} with input as t.plan([change])
}

test_allow_account_restricted_or_named_principals if {
	statements := [
		t.root_statement,
		_stmt("Caller", {"AWS": "*"}, {"StringEquals": {"kms:CallerAccount": t.account}}),
		_stmt("Org", "*", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
		_stmt("AnyValue", {"AWS": "*"}, {"ForAnyValue:StringLike": {"AWS:PrincipalAccount": [t.account]}}),
		_stmt("Source", {"AWS": "*"}, {"StringEquals": {"aws:SourceAccount": t.account}}),
		_stmt("Arn", {"AWS": "*"}, {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}),
		_stmt("Named", {"AWS": "arn:aws:iam::111122223333:role/app"}, {}),
		_stmt("Literal", {"AWS": "*"}, {"StringEquals": {"kms:CallerAccount": "*"}}),
		object.remove(_stmt("NoResource", "*", {}), ["Resource"]),
		{"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
	]
	public_principal.deny == set() with input as t.plan([t.key_with("k", statements)])
}

_deny(sid, action, condition) := {
	"Sid": sid,
	"Effect": "Deny",
	"Principal": {"AWS": "*"},
	"Action": action,
	"Resource": "*",
	"Condition": condition,
}

_others := {"StringNotEquals": {"kms:CallerAccount": t.account}}

# A Deny to everyone outside concrete accounts (or to everyone) restricts a public Allow
# whose actions it covers.
test_allow_public_restricted_by_deny if {
	changes := [
		t.key_with("caller", [t.root_statement, _stmt("Open", "*", {}), _deny("Others", "kms:*", _others)]),
		t.key_with("org", [
			t.root_statement,
			_stmt("Open", "*", {}),
			_deny("Org", ["kms:Decrypt", "kms:Encrypt"], {"StringNotEqualsIgnoreCase": {"aws:PrincipalOrgID": "o-abc123"}}),
		]),
		t.key_with("not_action", [
			t.root_statement,
			_stmt("Open", "*", {}),
			object.remove(object.union(_deny("Others", [], _others), {"NotAction": "kms:Put*"}), ["Action"]),
		]),
		t.key_with("all", [
			t.root_statement, _stmt("Open", "*", {}),
			object.remove(_deny("All", "kms:*", {}), ["Condition"]),
		]),
		t.key_with("not_actions", [
			t.root_statement,
			object.remove(object.union(_stmt("Open", "*", {}), {"NotAction": "kms:Put*"}), ["Action"]),
			object.remove(object.union(_deny("Others", [], _others), {"NotAction": "kms:PutKeyPolicy"}), ["Action"]),
		]),
	]
	public_principal.deny == set() with input as t.plan(changes)
}

_open(address, sid, suffix) := [address, concat("", [
	address, ": statement \"", sid, "\" allows principal \"*\" without a concrete account condition", suffix,
])]

# A Deny that leaves some action or some caller open does not restrict it; one mixing an
# account exclusion with other conditions is undecidable and said so.
test_deny_public_deny_not_restricting if {
	changes := [
		t.key_with("partial", [t.root_statement, _stmt("Open", "*", {}), _deny("Others", "kms:Encrypt", _others)]),
		t.key_with("wildcard", [
			t.root_statement,
			_stmt("Open", "*", {}),
			_deny("Others", "kms:*", {"StringNotLike": {"kms:CallerAccount": "1111*"}}),
		]),
		t.key_with("mixed", [
			t.root_statement,
			_stmt("Open", "*", {}),
			_deny("Mixed", "kms:*", object.union(_others, {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
		]),
		t.key_with("not_principal", [
			t.root_statement,
			_stmt("Open", "*", {}),
			object.remove(object.union(_deny("Others", "kms:*", _others), {"NotPrincipal": {"AWS": t.root}}), ["Principal"]),
		]),
		t.key_with("not_action_open", [
			t.root_statement,
			object.remove(object.union(_stmt("Open", "*", {}), {"NotAction": "kms:Put*"}), ["Action"]),
			_deny("Others", "kms:Decrypt", _others),
		]),
		t.key_with("arn_equals", [
			t.root_statement,
			_stmt("Open", "*", {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/X"}}),
		]),
	]
	undecided := "; whether statement \"Others\" restricts it to an account could not be decided"
	t.pairs(public_principal.deny) == {
		_open("aws_kms_key.partial", "Open", ""),
		_open("aws_kms_key.wildcard", "Open", undecided),
		_open("aws_kms_key.mixed", "Open", "; whether statement \"Mixed\" restricts it to an account could not be decided"),
		_open("aws_kms_key.not_principal", "Open", ""),
		_open("aws_kms_key.not_action_open", "Open", ""),
		_open("aws_kms_key.arn_equals", "Open", ""),
	} with input as t.plan(changes)
}
