package tfgen.rules.kms.root_access_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.root_access

_admin(principal, action) := {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}

_message(address) := concat("", [address, ": no statement lets the account root administer the key (kms:PutKeyPolicy)"])

_key_arn := "arn:aws:kms:us-east-1:111122223333:key/1"

test_deny_without_root_administration if {
	other_root := _admin({"AWS": "arn:aws:iam::444455556666:root"}, "kms:*")
	bare_other_root := _admin({"AWS": "444455556666"}, "kms:*")
	changes := [
		t.key_with("no_root", [_admin({"AWS": "arn:aws:iam::111122223333:role/admin"}, "kms:*")]),
		t.key_with("root_reads", [_admin({"AWS": t.root}, ["kms:Describe*", "kms:Get*"])]),
		t.key_with("root_denied_only", [object.union(_admin({"AWS": t.root}, "kms:*"), {"Effect": "Deny"})]),
		t.key_with("not_principal", [{"Effect": "Allow", "NotPrincipal": {"AWS": t.root}, "Action": "kms:*"}]),
		object.union(t.key_with("other_account", [other_root]), {"change": {"after": {"arn": _key_arn}}}),
		t.change("aws_kms_key_policy", "p", {"key_id": _key_arn, "policy": t.policy([bare_other_root])}),
	]
	t.pairs(root_access.deny) == {
		["aws_kms_key.no_root", _message("aws_kms_key.no_root")],
		["aws_kms_key.root_reads", _message("aws_kms_key.root_reads")],
		["aws_kms_key.root_denied_only", _message("aws_kms_key.root_denied_only")],
		["aws_kms_key.not_principal", _message("aws_kms_key.not_principal")],
		["aws_kms_key.other_account", _message("aws_kms_key.other_account")],
		["aws_kms_key_policy.p", _message("aws_kms_key_policy.p")],
	} with input as t.plan(changes)
}

test_allow_root_arn_bare_id_or_default_policy if {
	changes := [
		t.key("arn", t.good_key),
		t.key_with("bare_id", [_admin({"AWS": t.account}, "kms:*")]),
		t.key_with("put_only", [_admin({"AWS": [t.root]}, "kms:PutKeyPolicy")]),
		t.key_with("star", [_admin({"AWS": t.root}, "*")]),
		object.union(t.key("owned", t.good_key), {"change": {"after": {"arn": "arn:aws:kms:us-east-1:111122223333:key/1"}}}),
		t.key("default", {}),
		t.change("aws_kms_key_policy", "p", {"key_id": "k", "policy": t.policy([t.root_statement])}),
	]
	root_access.deny == set() with input as t.plan(changes)
}
