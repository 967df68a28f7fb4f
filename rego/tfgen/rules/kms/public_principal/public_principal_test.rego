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
		{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"},
	]
	public_principal.deny == set() with input as t.plan([t.key_with("k", statements)])
}
