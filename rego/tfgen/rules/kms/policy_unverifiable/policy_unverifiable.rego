# METADATA
# title: KMS key policy can be verified at plan time
# description: |
#   The policy of an aws_kms_key or aws_kms_key_policy that is unknown at plan time (computed
#   from other resources) or not a valid policy document cannot be checked, so it is a finding
#   rather than a silent pass. A policy with a character KMS does not accept (anything but
#   printable ASCII, Latin-1 up to U+00FF, tab, LF and CR) cannot be applied and is invalid.
#   A key without a policy gets AWS's default key policy.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
#     description: AWS KMS developer guide, key policies
#   - ref: https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
#     description: AWS KMS API reference, PutKeyPolicy (policy characters)
# custom:
#   id: KMS-010
#   severity: high
#   enforcement: mandatory
#   remediation: >-
#     Build the policy from values known at plan time (variables, jsonencode of literals) and
#     keep it a valid policy document.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.policy_unverifiable

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), plan.policy_holders[address], message) if {
	some address, doc in plan.policies
	doc.state == "unknown"
	message := concat("", [address, " has a policy that is unknown at plan time, so it cannot be verified"])
}

deny contains result.fail(rego.metadata.chain(), plan.policy_holders[address], message) if {
	some address, doc in plan.policies
	doc.state == "invalid"
	message := concat("", [address, " has an invalid policy: ", doc.reason])
}
