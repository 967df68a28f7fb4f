package main_test

import data.main
import data.tfgen.lib.testing as t

test_report_unions_deny_and_warn if {
	report := main.report with input as t.plan([t.key("k", {"policy": t.policy([t.root_statement])})])
	report.pack == {"name": "tfgen"}
	{[r.rule_id, r.address] | some r in report.deny} == {["KMS-001", "aws_kms_key.k"]}
	{[r.rule_id, r.address] | some r in report.warn} == set()
}

test_report_warn if {
	user_admin := object.union(t.root_statement, {"Principal": {"AWS": "arn:aws:iam::111122223333:user/u"}})
	report := main.report with input as t.plan([t.key_with("k", [t.root_statement, user_admin])])
	report.deny == set()
	{[r.rule_id, r.address] | some r in report.warn} == {["KMS-012", "aws_kms_key.k"]}
}

test_empty_plan if {
	main.report.deny == set() with input as {}
	main.report.warn == set() with input as {}
}

test_report_echoes_the_configuration if {
	main.report.config == {} with input as {}
	main.report.config == {"min_deletion_window_days": 14} with input as {}
		with data.tfgen_config as {"min_deletion_window_days": 14}
}
