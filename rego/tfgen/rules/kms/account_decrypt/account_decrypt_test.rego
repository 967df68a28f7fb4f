package tfgen.rules.kms.account_decrypt_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.account_decrypt
import data.tfgen.rules.kms.public_principal

_decrypt(sid, action, condition) := {
	"Sid": sid,
	"Effect": "Allow",
	"Principal": {"AWS": "*"},
	"Action": action,
	"Resource": "*",
	"Condition": condition,
}

_star_context := {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "*"}}

_ec2 := "ec2.us-east-1.amazonaws.com"

_caller := {"StringEquals": {"kms:CallerAccount": t.account}}

_message(sid) := concat("", [
	"aws_kms_key.k: statement \"", sid, "\" lets any principal of the account decrypt",
	" without a concrete kms:EncryptionContext:aws:cloudtrail:arn condition",
])

test_deny_account_wide_decrypt_without_context if {
	statements := [
		t.root_statement, t.encrypt_statement, t.describe_statement,
		_decrypt("Plain", ["kms:Decrypt", "kms:ReEncryptFrom"], _caller),
		_decrypt("ReEncrypt", "kms:ReEncrypt*", _caller),
		_decrypt("StarContext", "kms:Decr*", object.union(_caller, _star_context)),
	]
	t.pairs(account_decrypt.deny) == {
		["aws_kms_key.k", _message("Plain")],
		["aws_kms_key.k", _message("ReEncrypt")],
		["aws_kms_key.k", _message("StarContext")],
	} with input as t.plan([t.key_with("k", statements)])
}

# KMS-011 owns public statements without an account restriction; KMS-023 stays silent.
test_allow_disjoint_from_kms_011 if {
	statements := [t.root_statement, t.encrypt_statement, t.describe_statement, _decrypt("Open", "kms:Decrypt", {})]
	account_decrypt.deny == set() with input as t.plan([t.key_with("k", statements)])
	t.addresses(public_principal.deny) == {"aws_kms_key.k"} with input as t.plan([t.key_with("k", statements)])
}

test_allow_context_bound_or_other_actions if {
	statements := [
		t.root_statement, t.encrypt_statement, t.describe_statement, t.decrypt_statement,
		_decrypt("Alias", "kms:CreateAlias", {"StringEquals": {"kms:ViaService": _ec2, "kms:CallerAccount": t.account}}),
		object.union(_decrypt("Named", "kms:Decrypt", {}), {"Principal": {"AWS": "arn:aws:iam::111122223333:role/auditor"}}),
	]
	account_decrypt.deny == set() with input as t.plan([t.key_with("k", statements)])
}

# Named principals (concrete aws:PrincipalArn) are not account-wide; an ARN pattern with a
# wildcard resource part, a Deny-based account restriction or a "**" context pattern is.
test_deny_account_wide_forms if {
	role_pattern := {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}
	stars := object.union(_caller, {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "**"}})
	others := {
		"Sid": "Others", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
		"Condition": {"StringNotEquals": {"kms:CallerAccount": t.account}},
	}
	statements := [
		t.root_statement, t.encrypt_statement, t.describe_statement, others,
		_decrypt("Roles", "kms:Decrypt", role_pattern),
		_decrypt("Stars", "kms:Decrypt", stars),
		_decrypt("ByDeny", "kms:Decrypt", {}),
	]
	t.pairs(account_decrypt.deny) == {
		["aws_kms_key.k", _message("Roles")],
		["aws_kms_key.k", _message("Stars")],
		["aws_kms_key.k", _message("ByDeny")],
	} with input as t.plan([t.key_with("k", statements)])
}

test_allow_named_principals_or_literal_context if {
	roles := ["arn:aws:iam::111122223333:role/auditor", "arn:aws:iam::111122223333:role/ops"]
	named := {"ArnEquals": {"aws:PrincipalArn": roles}}
	literal := object.union(_caller, {"StringEquals": {"kms:EncryptionContext:aws:cloudtrail:arn": "*"}})
	statements := [
		t.root_statement, t.encrypt_statement, t.describe_statement,
		_decrypt("Named", "kms:Decrypt", object.union(_caller, named)),
		_decrypt("Literal", "kms:Decrypt", literal),
	]
	account_decrypt.deny == set() with input as t.plan([t.key_with("k", statements)])
}
