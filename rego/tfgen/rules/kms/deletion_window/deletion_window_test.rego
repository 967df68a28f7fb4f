package tfgen.rules.kms.deletion_window_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.deletion_window

test_warn_short_or_unknown_window if {
	changes := [
		t.key("seven", {"deletion_window_in_days": 7}),
		t.unknown_change("aws_kms_key", "unknown", {}, {"deletion_window_in_days": true}),
	]
	t.pairs(deletion_window.warn) == {
		["aws_kms_key.seven", "aws_kms_key.seven has a deletion window of 7 days, below the minimum of 30"],
		["aws_kms_key.unknown", "aws_kms_key.unknown has deletion_window_in_days unknown at plan time"],
	} with input as t.plan(changes)
}

test_allow_default_and_full_window if {
	changes := [t.key("unset", {}), t.key("full", {"deletion_window_in_days": 30})]
	deletion_window.warn == set() with input as t.plan(changes)
}

test_configured_minimum if {
	changes := [t.key("seven", {"deletion_window_in_days": 7}), t.key("ten", {"deletion_window_in_days": 10})]
	t.addresses(deletion_window.warn) == {"aws_kms_key.seven"} with input as t.plan(changes)
		with data.tfgen_config as {"min_deletion_window_days": 10}
}
