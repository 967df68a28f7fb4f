# METADATA
# title: CloudTrail may describe the key
# description: |
#   For a key used for CloudTrail, cloudtrail.amazonaws.com needs kms:DescribeKey to validate
#   the key when a trail is created or updated, and no Deny may take it away (a Deny whose
#   condition cannot be decided at plan time is a finding that says so). A key without a policy
#   gets AWS's default policy, which does not grant CloudTrail.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
#     description: AWS CloudTrail user guide, configure AWS KMS key policies for CloudTrail
# custom:
#   id: KMS-021
#   severity: high
#   enforcement: mandatory
#   remediation: Add a statement allowing cloudtrail.amazonaws.com kms:DescribeKey.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.cloudtrail_describe

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), plan.policy_holders[address], message) if {
	some address, review in plan.cloudtrail_reviews
	some problem in review.describe_problems
	message := concat("", [address, ": ", problem.message])
}
