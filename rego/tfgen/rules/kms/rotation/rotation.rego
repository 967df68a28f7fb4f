# METADATA
# title: KMS key rotation is enabled
# description: |
#   Symmetric encryption keys must set enable_key_rotation = true; unset counts as off and an
#   unknown value is a finding. Asymmetric and HMAC keys (and keys in a custom key store),
#   which cannot rotate automatically, are not checked.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
#     description: AWS KMS developer guide, rotating AWS KMS keys
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4
#     description: AWS Security Hub control KMS.4
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
#     description: CIS AWS Foundations Benchmark 3.6 (v3.0.0, v5.0.0), 3.8 (v1.4.0)
# custom:
#   id: KMS-001
#   severity: medium
#   enforcement: mandatory
#   remediation: Set enable_key_rotation = true on the aws_kms_key.
#   resource_types: [aws_kms_key]
#   frameworks:
#     - CIS AWS 3.6 (v3.0.0)
#     - CIS AWS 3.6 (v5.0.0)
#     - CIS AWS 3.8 (v1.4.0)
#     - AWS Security Hub KMS.4
package tfgen.rules.kms.rotation

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), key, _message(key)) if {
	some key in plan.kms_keys
	not _cannot_rotate(key)
	not _rotation_enabled(key)
}

_rotation_enabled(key) if plan.value(key, "enable_key_rotation") == true

_message(key) := concat("", [key.address, " has enable_key_rotation unknown at plan time"]) if {
	plan.unknown(key, "enable_key_rotation")
} else := concat("", [key.address, " does not enable automatic key rotation"])

_cannot_rotate(key) if plan.value(key, "customer_master_key_spec") != "SYMMETRIC_DEFAULT"

_cannot_rotate(key) if plan.value(key, "key_usage") != "ENCRYPT_DECRYPT"

_cannot_rotate(key) if plan.value(key, "custom_key_store_id") != ""
