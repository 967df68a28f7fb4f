package tfgen.rules.org.key_owner_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.org.key_owner

test_warn_missing_empty_or_unknown_owner if {
	changes := [
		t.key("untagged", t.good_key),
		t.key("empty", object.union(t.good_key, {"tags": {"Owner": " "}})),
		t.unknown_change("aws_kms_key", "later", t.good_key, {"tags": true}),
	]
	t.addresses(key_owner.warn) == {"aws_kms_key.untagged", "aws_kms_key.empty", "aws_kms_key.later"} with input as t.plan(changes)
}

test_allow_owned_key if {
	count(key_owner.warn) == 0 with input as t.plan([t.key("owned", object.union(t.good_key, {"tags": {"Owner": "platform"}}))])
}
