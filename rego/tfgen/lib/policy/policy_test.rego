package tfgen.lib.policy_test

import data.tfgen.lib.policy
import data.tfgen.lib.testing as t

_one(statement) := policy.parse(t.policy([object.union({"Resource": "*"}, statement)])).statements[0]

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
		"effective": false,
		"cloudtrail": false,
		"not_principal": false,
		"public": true,
		"aws": {"*"},
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

_c(operator, values) := _one({
	"Effect": "Allow", "Principal": "*", "Action": "kms:*",
	"Condition": {operator: {"aws:SourceArn": values}},
}).conditions[0]

_trail := "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"

test_condition_operators if {
	ctx := {"aws:sourcearn": _trail}
	every case in [
		["StringEquals", _trail, "yes"],
		["StringEquals", "*", "no"],
		["StringNotEquals", _trail, "no"],
		["StringNotEquals", "x", "yes"],
		["StringEqualsIgnoreCase", upper(_trail), "yes"],
		["StringNotEqualsIgnoreCase", upper(_trail), "no"],
		["StringNotEqualsIgnoreCase", "x", "yes"],
		["StringLike", "arn:aws:cloudtrail:*:111122223333:trail/*", "yes"],
		["StringLike", "arn:aws:cloudtrail:*:111122223333:trail/[m]*", "no"],
		["StringNotLike", ["x", "y*"], "yes"],
		["StringNotLike", "*", "no"],
		["ArnEquals", "arn:aws:cloudtrail:*:*:trail/*", "yes"],
		["ArnLike", "arn:aws:cloudtrail:*:*", "no"],
		["ArnEquals", "arn:aws:cloudtrail:us-east-1:444455556666:trail/main", "no"],
		["ArnNotEquals", "arn:aws:cloudtrail:*:444455556666:trail/*", "yes"],
		["ArnNotLike", "arn:aws:cloudtrail:*:111122223333:trail/*", "no"],
		["StringEqualsIfExists", _trail, "yes"],
		["NumericEquals", "1", "unknown"],
		["Bool", true, "no"],
		["StringEquals", "${aws:username}", "unknown"],
		["StringEquals", [1], "unknown"],
	] {
		policy.condition_result(_c(case[0], case[1]), ctx) == case[2]
	}
	policy.condition_result(_c("StringEquals", _trail), {}) == "unknown"
	tls := {"aws:sourcearn": "true"}
	policy.condition_result(_c("Bool", true), tls) == "yes"
	policy.condition_result(_c("Bool", "FALSE"), tls) == "no"
}

test_access_states if {
	root := {"account": t.account, "partition": "aws"}
	ctx := policy.root_context(root)
	ctx == {
		"kms:calleraccount": t.account, "aws:principalaccount": t.account, "aws:principalarn": t.root,
		"aws:securetransport": "true", "aws:principalisawsservice": "false",
	}
	no_partition := {
		"kms:calleraccount": t.account, "aws:principalaccount": t.account,
		"aws:securetransport": "true", "aws:principalisawsservice": "false",
	}
	policy.root_context({"account": t.account, "partition": null}) == no_partition
	policy.root_context({"account": null, "partition": "aws"}) == {
		"aws:securetransport": "true",
		"aws:principalisawsservice": "false",
	}
	statements := policy.parse(t.policy([t.root_statement])).statements
	policy.access(statements, root, "kms:putkeypolicy", ctx) == {"state": "yes", "denied_by": set(), "undecided": set()}
	policy.access(statements, {"service": "cloudtrail.amazonaws.com"}, "kms:putkeypolicy", {}).state == "no"
	conditional := object.union(t.root_statement, {"Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
	undecided := policy.parse(t.policy([conditional])).statements
	policy.access(undecided, root, "kms:putkeypolicy", ctx) == {
		"state": "unknown", "denied_by": set(),
		"undecided": {`statement "Root"`},
	}
}

test_arn_match if {
	policy.arn_match("arn:aws:iam::*:role/a:b", "arn:aws:iam::111122223333:role/a:b")
	not policy.arn_match("arn:aws:iam::*:role/a", "arn:aws:iam::111122223333:role/a:b")
	not policy.arn_match("arn:*", "arn:aws:iam::111122223333:root")
	not policy.arn_match("arn:aws:iam::111122223333:root", "111122223333")
}

_ct(operator, key, value) := {
	"Sid": "Trail",
	"Effect": "Allow",
	"Principal": {"Service": "cloudtrail.amazonaws.com"},
	"Action": ["kms:GenerateDataKey*", "kms:DescribeKey"],
	"Resource": "*",
	"Condition": object.union(
		{"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": t.trail_arns}},
		{operator: {key: value}},
	),
}

_problems(statement, trail) := policy.trail_problems(
	policy.parse(t.policy([t.root_statement, statement])).statements,
	trail,
)

_other_trails := concat("", [
	"no grant of kms:GenerateDataKey* to cloudtrail.amazonaws.com admits this trail",
	" (aws:SourceArn or kms:EncryptionContext:aws:cloudtrail:arn names other trails)",
])

test_trail_problems_source_arn if {
	main := {"arn": _trail, "name": "main"}
	other := "arn:aws:cloudtrail:us-east-1:111122223333:trail/other"
	_problems(_ct("StringEquals", "aws:SourceArn", _trail), main) == set()
	_problems(_ct("StringEquals", "aws:SourceArn", other), main) == {_other_trails}
	_problems(_ct("ArnEquals", "aws:SourceArn", "arn:aws:cloudtrail:*:*:trail/main"), main) == set()
	_problems(_ct("StringEqualsIgnoreCase", "aws:SourceArn", upper(_trail)), main) == set()
	_problems(_ct("StringEquals", "aws:SourceAccount", "444455556666"), main) == {_other_trails}
	_problems(_ct("StringEquals", "aws:SourceAccount", t.account), main) == set()
	_problems(_ct("Bool", "aws:SecureTransport", true), main) == set()
	_problems(_ct("Bool", "aws:PrincipalIsAWSService", "true"), {"arn": null, "name": "main"}) == set()
}

test_trail_problems_by_name if {
	other := "arn:aws:cloudtrail:us-east-1:111122223333:trail/other"
	_problems(_ct("StringEquals", "aws:SourceArn", _trail), {"arn": null, "name": "main"}) == set()
	_problems(_ct("StringEquals", "aws:SourceArn", other), {"arn": null, "name": "main"}) == {_other_trails}
	_problems(_ct("StringEqualsIgnoreCase", "aws:SourceArn", upper(_trail)), {"arn": null, "name": "main"}) == set()
	m_star := "arn:aws:cloudtrail:*:111122223333:trail/m*"
	_problems(_ct("StringLike", "aws:SourceArn", m_star), {"arn": null, "name": "main"}) == set()
	_problems(_ct("StringEquals", "aws:SourceAccount", "444455556666"), {"arn": null, "name": "main"}) == set()
	_problems(_ct("StringNotEquals", "aws:SourceArn", other), {"arn": null, "name": "main"}) == set()
	_problems(_ct("StringEquals", "aws:SourceArn", other), {"arn": null, "name": null}) == set()
}

test_trail_problems_describe_and_denies if {
	main := {"arn": _trail, "name": "main"}
	other := "arn:aws:cloudtrail:us-east-1:111122223333:trail/other"
	describe_other := object.union(t.describe_statement, {"Condition": {"StringEquals": {"aws:SourceArn": other}}})
	statements := policy.parse(t.policy([t.root_statement, t.encrypt_statement, describe_other])).statements
	policy.trail_problems(statements, main) == {concat("", [
		"no grant of kms:DescribeKey to cloudtrail.amazonaws.com admits this trail",
		" (aws:SourceArn names other trails)",
	])}
	deny := {
		"Sid": "NotMain", "Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"},
		"Action": "kms:*", "Resource": "*",
		"Condition": {"StringLike": {"aws:SourceArn": "*/main"}},
	}
	denied := policy.parse(t.policy(array.concat(t.cloudtrail_statements, [deny]))).statements
	policy.trail_problems(denied, main) == {
		concat("", [
			`statement "NotMain" denies cloudtrail.amazonaws.com kms:GenerateDataKey*,`,
			" which overrides every statement allowing it",
		]),
		`statement "NotMain" denies cloudtrail.amazonaws.com kms:DescribeKey, which overrides every statement allowing it`,
	}

	# The testing encrypt statement's aws:SourceArn names trail/main only.
	main2 := {"arn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main2", "name": "main2"}
	policy.trail_problems(denied, main2) == {_other_trails}
	policy.trail_problems([], main) == {
		"no statement allows cloudtrail.amazonaws.com kms:GenerateDataKey*",
		"no statement allows cloudtrail.amazonaws.com kms:DescribeKey",
	}
}
