package tfgen.rules.kms.cloudtrail_source_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.cloudtrail_source

_with_condition(condition) := object.union(object.remove(t.encrypt_statement, ["Condition"]), {"Condition": condition})

test_warn_cloudtrail_statements_without_source_condition if {
	encrypt := _with_condition({"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}})
	describe := object.remove(t.describe_statement, ["Condition"])
	t.pairs(cloudtrail_source.warn) == {[
		"aws_kms_key.k",
		concat("", [
			`aws_kms_key.k: statement "Describe", statement "Encrypt" allow cloudtrail.amazonaws.com`,
			" without an aws:SourceArn or aws:SourceAccount condition",
		]),
	]} with input as t.plan([t.key_with("k", [t.root_statement, encrypt, describe])])
}

test_allow_source_bound_statements if {
	encrypt := _with_condition({"ArnLike": {"AWS:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}})
	changes := [t.key("console", t.cloudtrail_key), t.key_with("like", [t.root_statement, encrypt, t.describe_statement])]
	cloudtrail_source.warn == set() with input as t.plan(changes)
}
