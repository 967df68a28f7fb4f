package tfgen.lib.result_test

import data.tfgen.lib.result

_chain := [
	{"path": ["tfgen", "rules", "kms", "x", "deny"]},
	{"path": ["tfgen", "rules", "kms", "x"], "annotations": {
		"scope": "package",
		"title": "T",
		"custom": {"id": "KMS-999", "severity": "low", "enforcement": "advisory"},
	}},
]

_rc := {"address": "aws_kms_key.k", "type": "aws_kms_key"}

test_fail_builds_the_contract_shape if {
	result.fail(_chain, _rc, "m") == {
		"rule_id": "KMS-999",
		"title": "T",
		"severity": "low",
		"enforcement": "advisory",
		"address": "aws_kms_key.k",
		"resource_type": "aws_kms_key",
		"message": "m",
		"msg": "m",
		"details": {},
	}
	result.fail_with(_chain, _rc, "m", {"a": 1}).details == {"a": 1}
}

test_fail_needs_package_metadata if {
	not result.fail([{"path": ["x"]}], _rc, "m")
}
