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

# ArnEquals matches like ArnLike, so a wildcard account binds nothing; StringLike "*" matches
# every account while StringEquals "*" is a literal.
test_warn_wildcard_source_conditions if {
	arn_equals := _with_condition({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}})
	like_star := _describe_with({"StringLike": {"aws:SourceAccount": "*"}})
	t.pairs(cloudtrail_source.warn) == {[
		"aws_kms_key.k",
		concat("", [
			`aws_kms_key.k: statement "Describe", statement "Encrypt" allow cloudtrail.amazonaws.com`,
			" without an aws:SourceArn or aws:SourceAccount condition",
		]),
	]} with input as t.plan([t.key_with("k", [t.root_statement, arn_equals, like_star])])
}

test_allow_literal_star_source if {
	literal := _describe_with({"StringEquals": {"aws:SourceAccount": "*"}})
	statements := [t.root_statement, t.encrypt_statement, literal]
	cloudtrail_source.warn == set() with input as t.plan([t.key_with("k", statements)])
}

_describe_with(condition) := object.union(object.remove(t.describe_statement, ["Condition"]), {"Condition": condition})
