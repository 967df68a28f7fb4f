# METADATA
# title: CloudTrail key is enabled
# description: |
#   A disabled key stops CloudTrail from writing encrypted log files. A key used for
#   CloudTrail with is_enabled = false or unknown is a finding (unset means enabled).
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html
#     description: AWS KMS developer guide, enabling and disabling keys
# custom:
#   id: KMS-005
#   severity: high
#   enforcement: mandatory
#   remediation: Set is_enabled = true (or remove it) on keys that encrypt CloudTrail logs.
#   resource_types: [aws_kms_key]
#   frameworks: []
package tfgen.rules.kms.cloudtrail_key_enabled

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), key, message) if {
	some address in plan.cloudtrail_keys
	key := plan.kms_keys[address]
	plan.value(key, "is_enabled") == false
	message := concat("", [address, " is used for CloudTrail but is disabled"])
}

deny contains result.fail(rego.metadata.chain(), key, message) if {
	some address in plan.cloudtrail_keys
	key := plan.kms_keys[address]
	plan.unknown(key, "is_enabled")
	message := concat("", [address, " is used for CloudTrail but is_enabled is unknown at plan time"])
}
