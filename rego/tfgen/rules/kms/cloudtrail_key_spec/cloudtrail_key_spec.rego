# METADATA
# title: CloudTrail key is a symmetric encryption key
# description: |
#   CloudTrail encrypts only with symmetric encryption keys, so a key used for CloudTrail must
#   have customer_master_key_spec SYMMETRIC_DEFAULT and key_usage ENCRYPT_DECRYPT (unset means
#   these defaults; unknown is a finding). A key is used for CloudTrail when a trail in the
#   plan references it or its policy names cloudtrail.amazonaws.com.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
#     description: AWS CloudTrail user guide, configure AWS KMS key policies for CloudTrail
# custom:
#   id: KMS-004
#   severity: high
#   enforcement: mandatory
#   remediation: >-
#     Use a key with customer_master_key_spec = "SYMMETRIC_DEFAULT" and key_usage =
#     "ENCRYPT_DECRYPT" for CloudTrail.
#   resource_types: [aws_kms_key]
#   frameworks: []
package tfgen.rules.kms.cloudtrail_key_spec

import data.tfgen.lib.plan
import data.tfgen.lib.result

_expected := {"customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT"}

deny contains result.fail_with(rego.metadata.chain(), key, message, {attr: actual}) if {
	some address in plan.cloudtrail_keys
	key := plan.kms_keys[address]
	some attr, wanted in _expected
	actual := plan.value(key, attr)
	actual != wanted
	message := concat("", [address, " is used for CloudTrail but has ", attr, " ", actual, ", not ", wanted])
}

deny contains result.fail(rego.metadata.chain(), key, message) if {
	some address in plan.cloudtrail_keys
	key := plan.kms_keys[address]
	some attr, _ in _expected
	plan.unknown(key, attr)
	message := concat("", [address, " is used for CloudTrail but its ", attr, " is unknown at plan time"])
}
