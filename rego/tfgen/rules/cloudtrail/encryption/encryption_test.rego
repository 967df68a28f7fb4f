package tfgen.rules.cloudtrail.encryption_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.cloudtrail.encryption

test_deny_trails_without_kms_key if {
	changes := [
		t.trail("unset", {"name": "a"}),
		t.trail("null", {"kms_key_id": null}),
		t.trail("empty", {"kms_key_id": ""}),
	]
	t.pairs(encryption.deny) == {
		[
			"aws_cloudtrail.unset",
			"aws_cloudtrail.unset does not encrypt its log files with a KMS key (kms_key_id is not set)",
		],
		[
			"aws_cloudtrail.null",
			"aws_cloudtrail.null does not encrypt its log files with a KMS key (kms_key_id is not set)",
		],
		[
			"aws_cloudtrail.empty",
			"aws_cloudtrail.empty does not encrypt its log files with a KMS key (kms_key_id is not set)",
		],
	} with input as t.plan(changes)
}

test_allow_known_or_unknown_key if {
	changes := [
		t.trail("known", {"kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/1"}),
		t.unknown_change("aws_cloudtrail", "unknown", {}, {"kms_key_id": true}),
	]
	encryption.deny == set() with input as t.plan(changes)
}
