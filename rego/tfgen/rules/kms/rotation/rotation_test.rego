package tfgen.rules.kms.rotation_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.rotation

test_deny_rotation_off_unset_or_unknown if {
	unset := object.remove(t.good_key, ["enable_key_rotation"])
	changes := [
		t.key("off", object.union(t.good_key, {"enable_key_rotation": false})),
		t.key("unset", unset),
		t.unknown_change("aws_kms_key", "unknown", unset, {"enable_key_rotation": true}),
	]
	t.pairs(rotation.deny) == {
		["aws_kms_key.off", "aws_kms_key.off does not enable automatic key rotation"],
		["aws_kms_key.unset", "aws_kms_key.unset does not enable automatic key rotation"],
		["aws_kms_key.unknown", "aws_kms_key.unknown has enable_key_rotation unknown at plan time"],
	} with input as t.plan(changes)
}

test_deny_result_shape if {
	rotation.deny == {{
		"rule_id": "KMS-001",
		"title": "KMS key rotation is enabled",
		"severity": "medium",
		"enforcement": "mandatory",
		"address": "aws_kms_key.off",
		"resource_type": "aws_kms_key",
		"message": "aws_kms_key.off does not enable automatic key rotation",
		"msg": "aws_kms_key.off does not enable automatic key rotation",
		"details": {},
	}} with input as t.plan([t.key("off", {})])
}

test_allow_rotating_and_non_rotatable_keys if {
	changes := [
		t.key("on", t.good_key),
		t.key("rsa", {"customer_master_key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}),
		t.key("hmac", {"customer_master_key_spec": "HMAC_256", "key_usage": "GENERATE_VERIFY_MAC"}),
		t.key("ecc_agree", {"customer_master_key_spec": "ECC_NIST_P256", "key_usage": "KEY_AGREEMENT"}),
		t.key("custom_store", {"custom_key_store_id": "cks-1"}),
		t.key("usage_only", {"key_usage": "GENERATE_VERIFY_MAC"}),
	]
	rotation.deny == set() with input as t.plan(changes)
}
