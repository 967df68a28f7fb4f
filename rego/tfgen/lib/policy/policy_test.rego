package tfgen.lib.policy_test

import data.tfgen.lib.policy
import data.tfgen.lib.testing as t

_one(statement) := policy.parse(t.policy([statement])).statements[0]

test_parse_invalid_documents if {
	policy.parse("{not json").reason == "the policy is not valid JSON"
	every text in [
		"[]",
		`{"Statement": []}`,
		`{"Statement": "Allow"}`,
		`{"Statement": [{"Effect": "Allow", "Action": "kms:*"}]}`,
		`{"Statement": [{"Effect": "Permit", "Principal": "*", "Action": "kms:*"}]}`,
		`{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "NotAction": "kms:Decrypt"}]}`,
		`{"Statement": ["x"]}`,
	] {
		policy.parse(text) == {"state": "invalid", "reason": "the policy has no valid Statement list"}
	}
}

test_parse_single_statement_object if {
	doc := policy.parse(`{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "KMS:Decrypt"}}`)
	doc.state == "ok"
	doc.statements == [{
		"index": 0,
		"label": "Statement[0]",
		"effect": "Allow",
		"not_principal": false,
		"public": true,
		"aws": set(),
		"services": set(),
		"not_action": false,
		"actions": {"kms:decrypt"},
		"conditions": [],
	}]
}

test_parse_principal_forms if {
	_one({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*"}).public
	_one({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "kms:*"}).public
	_one({"Effect": "Allow", "Principal": {"AWS": [t.root, "*"]}, "Action": "kms:*"}).public
	not _one({"Effect": "Allow", "Principal": {"AWS": t.root}, "Action": "kms:*"}).public
	not _one({"Effect": "Allow", "Principal": {"AWS": 7}, "Action": "kms:*"}).public
	stmt := _one({"Sid": "S", "Effect": "Allow", "NotPrincipal": {"AWS": t.root}, "Action": ["kms:*"]})
	stmt.not_principal
	stmt.label == `statement "S"`
	stmt.aws == {t.root}
	service := _one({"Effect": "Allow", "Principal": {"Service": ["CloudTrail.amazonaws.com"]}, "Action": "kms:*"})
	service.services == {"cloudtrail.amazonaws.com"}
}

_cond(operator, base, all_values, if_exists, key, values) := {
	"operator": operator,
	"base": base,
	"all_values": all_values,
	"if_exists": if_exists,
	"key": key,
	"values": values,
}

test_parse_conditions if {
	stmt := _one({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Condition": {
		"ForAnyValue:StringLike": {"KMS:CallerAccount": ["1", "2"]},
		"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"},
		"forallvalues:stringequals": {"aws:PrincipalAccount": "1"},
		"Bool": {"aws:SecureTransport": true},
		"Broken": "x",
	}})
	{c | some c in stmt.conditions} == {
		_cond("ForAnyValue:StringLike", "stringlike", false, false, "kms:calleraccount", ["1", "2"]),
		_cond("StringEqualsIfExists", "stringequals", false, true, "aws:principalorgid", ["o-1"]),
		_cond("forallvalues:stringequals", "stringequals", true, false, "aws:principalaccount", ["1"]),
		_cond("Bool", "bool", false, false, "aws:securetransport", [true]),
	}
	_one({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Condition": []}).conditions == []
}

test_grants_action_forms if {
	policy.grants(_one({"Effect": "Allow", "Principal": "*", "Action": "*"}), "kms:decrypt")
	policy.grants(_one({"Effect": "Allow", "Principal": "*", "Action": "kms:*"}), "kms:decrypt")
	policy.grants(_one({"Effect": "Allow", "Principal": "*", "Action": "kms:Decr*"}), "kms:decrypt")
	policy.grants(_one({"Effect": "Allow", "Principal": "*", "Action": ["kms:Encrypt", "KMS:DECRYPT"]}), "kms:decrypt")
	policy.grants(_one({"Effect": "Allow", "Principal": "*", "NotAction": "kms:Encrypt"}), "kms:decrypt")
	not policy.grants(_one({"Effect": "Allow", "Principal": "*", "NotAction": "kms:D*"}), "kms:decrypt")
	not policy.grants(_one({"Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt"}), "kms:decrypt")
	not policy.grants(_one({"Effect": "Deny", "Principal": "*", "Action": "kms:*"}), "kms:decrypt")
}

test_grants_all if {
	policy.grants_all(_one({"Effect": "Allow", "Principal": "*", "Action": "*"}))
	policy.grants_all(_one({"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "KMS:*"]}))
	policy.grants_all(_one({"Effect": "Allow", "Principal": "*", "NotAction": "kms:Decrypt"}))
	not policy.grants_all(_one({"Effect": "Allow", "Principal": "*", "Action": "kms:Decr*"}))
	not policy.grants_all(_one({"Effect": "Deny", "Principal": "*", "Action": "*"}))
}

test_root_account if {
	policy.root_account(t.root) == t.account
	policy.root_account("arn:aws-us-gov:iam::111122223333:root") == t.account
	policy.root_account(t.account) == t.account
	not policy.root_account("arn:aws:iam::111122223333:user/admin")
	not policy.root_account("arn:aws:iam::*:root")
}

_restricted(operator, key, value) if {
	stmt := _one({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Condition": {operator: {key: value}}})
	policy.restricted_by(stmt, policy.account_restrictions)
}

test_concrete_account_conditions if {
	_restricted("StringEquals", "kms:CallerAccount", t.account)
	_restricted("StringEquals", "kms:CallerAccount", "*")
	_restricted("StringLike", "aws:PrincipalOrgID", ["o-abc"])
	_restricted("ForAnyValue:StringEquals", "AWS:SourceAccount", t.account)
	_restricted("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/*")
	_restricted("StringEqualsIgnoreCase", "aws:PrincipalAccount", t.account)
}

test_no_concrete_account_conditions if {
	not _restricted("StringLike", "kms:CallerAccount", "*")
	not _restricted("StringLike", "kms:CallerAccount", ["111122223333", "1111?2223333"])
	not _restricted("StringEquals", "kms:CallerAccount", "")
	not _restricted("StringEquals", "kms:CallerAccount", [])
	not _restricted("StringEquals", "kms:CallerAccount", 111122223333)
	not _restricted("StringEqualsIfExists", "kms:CallerAccount", t.account)
	not _restricted("ForAllValues:StringEquals", "kms:CallerAccount", t.account)
	not _restricted("StringNotEquals", "kms:CallerAccount", t.account)
	not _restricted("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/admin")
	not _restricted("ArnLike", "aws:PrincipalArn", "arn:aws:iam:::role/admin")
	not _restricted("StringEquals", "kms:ViaService", "ec2.us-east-1.amazonaws.com")
}

test_account_specific_trail_arn if {
	policy.account_specific_trail_arn("arn:aws:cloudtrail:*:111122223333:trail/*")
	policy.account_specific_trail_arn("arn:aws:cloudtrail:us-east-1:111122223333:trail/main")
	not policy.account_specific_trail_arn("arn:aws:cloudtrail:*:*:trail/*")
	not policy.account_specific_trail_arn("arn:aws:cloudtrail:*:1111*:trail/*")
	not policy.account_specific_trail_arn("arn:aws:s3:*:111122223333:trail/*")
	not policy.account_specific_trail_arn("*")
	not policy.account_specific_trail_arn(1)
}

test_encrypt_problems if {
	count(policy.encrypt_problems(policy.parse(t.policy([t.encrypt_statement])).statements)) == 0
	missing := "no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*"
	policy.encrypt_problems([]) == {{"statement": "", "message": missing}}
	unconditioned := object.remove(t.encrypt_statement, ["Condition"])
	policy.encrypt_problems(policy.parse(t.policy([unconditioned])).statements) == {{
		"statement": `statement "Encrypt"`,
		"message": concat("", [
			`statement "Encrypt" allows cloudtrail.amazonaws.com kms:GenerateDataKey*`,
			" without a kms:EncryptionContext:aws:cloudtrail:arn condition",
		]),
	}}
	values := ["arn:aws:cloudtrail:*:*:trail/*", 5]
	any_account := object.union(
		t.encrypt_statement,
		{"Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": values}}},
	)
	policy.encrypt_problems(policy.parse(t.policy([any_account])).statements) == {{
		"statement": `statement "Encrypt"`,
		"message": concat("", [
			`statement "Encrypt" scopes kms:EncryptionContext:aws:cloudtrail:arn`,
			" to 5, arn:aws:cloudtrail:*:*:trail/*, which is not an account-specific trail ARN",
		]),
	}}
}

test_describe_problems if {
	count(policy.describe_problems(policy.parse(t.policy([t.describe_statement])).statements)) == 0
	missing := "no statement allows cloudtrail.amazonaws.com kms:DescribeKey"
	policy.describe_problems([]) == {{"statement": "", "message": missing}}
}

test_trail_patterns if {
	policy.trail_patterns(policy.parse(t.policy([t.encrypt_statement, t.describe_statement])).statements) == {t.trail_arns}
}

test_text if {
	policy.text("a") == "a"
	policy.text(["a"]) == `["a"]`
}
