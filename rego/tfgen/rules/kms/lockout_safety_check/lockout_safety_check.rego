# METADATA
# title: KMS key policy lockout safety check is not bypassed
# description: |
#   bypass_policy_lockout_safety_check = true on aws_kms_key or aws_kms_key_policy lets a
#   policy lock every principal out of the key. True or unknown is a finding.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
#     description: AWS KMS API reference, PutKeyPolicy BypassPolicyLockoutSafetyCheck
# custom:
#   id: KMS-003
#   severity: high
#   enforcement: mandatory
#   remediation: Remove bypass_policy_lockout_safety_check or set it to false.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.lockout_safety_check

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), rc, message) if {
	some rc in plan.policy_holders
	plan.value(rc, "bypass_policy_lockout_safety_check") == true
	message := concat("", [rc.address, " bypasses the key policy lockout safety check"])
}

deny contains result.fail(rego.metadata.chain(), rc, message) if {
	some rc in plan.policy_holders
	plan.unknown(rc, "bypass_policy_lockout_safety_check")
	message := concat("", [rc.address, " has bypass_policy_lockout_safety_check unknown at plan time"])
}
