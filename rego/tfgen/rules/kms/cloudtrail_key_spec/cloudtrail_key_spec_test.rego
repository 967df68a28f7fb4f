package tfgen.rules.kms.cloudtrail_key_spec_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.cloudtrail_key_spec

_arn(name) := concat("", ["arn:aws:kms:us-east-1:111122223333:key/", name])

_used(name, after) := t.key(name, object.union(after, {"arn": _arn(name)}))

test_deny_non_symmetric_cloudtrail_keys if {
	changes := [
		_used("rsa", {"customer_master_key_spec": "RSA_2048", "key_usage": "ENCRYPT_DECRYPT"}),
		_used("hmac", {"customer_master_key_spec": "HMAC_256", "key_usage": "GENERATE_VERIFY_MAC"}),
		t.unknown_change("aws_kms_key", "unknown", {"arn": _arn("unknown")}, {"key_usage": true}),
		t.trail("rsa", {"kms_key_id": _arn("rsa")}),
		t.trail("hmac", {"kms_key_id": _arn("hmac")}),
		t.trail("unknown", {"kms_key_id": _arn("unknown")}),
	]
	t.pairs(cloudtrail_key_spec.deny) == {
		[
			"aws_kms_key.rsa",
			"aws_kms_key.rsa is used for CloudTrail but has customer_master_key_spec RSA_2048, not SYMMETRIC_DEFAULT",
		],
		[
			"aws_kms_key.hmac",
			"aws_kms_key.hmac is used for CloudTrail but has customer_master_key_spec HMAC_256, not SYMMETRIC_DEFAULT",
		],
		[
			"aws_kms_key.hmac",
			"aws_kms_key.hmac is used for CloudTrail but has key_usage GENERATE_VERIFY_MAC, not ENCRYPT_DECRYPT",
		],
		["aws_kms_key.unknown", "aws_kms_key.unknown is used for CloudTrail but its key_usage is unknown at plan time"],
	} with input as t.plan(changes)
}

test_allow_symmetric_or_unrelated_keys if {
	changes := [
		_used("symmetric", t.good_key),
		_used("defaults", {}),
		t.key("rsa_unused", {"customer_master_key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}),
		t.trail("symmetric", {"kms_key_id": _arn("symmetric")}),
		t.trail("defaults", {"kms_key_id": _arn("defaults")}),
	]
	cloudtrail_key_spec.deny == set() with input as t.plan(changes)
}
