# METADATA
# title: CloudTrail may encrypt only for trails of named accounts
# description: |
#   For a key used for CloudTrail, cloudtrail.amazonaws.com needs kms:GenerateDataKey*, and
#   every statement granting it must carry a kms:EncryptionContext:aws:cloudtrail:arn
#   condition whose trail ARNs name a 12-digit account (arn:aws:cloudtrail:REGION:ID:trail/NAME;
#   a * account is a finding). A grant without Resource, one overridden by a Deny, or one whose
#   other conditions cannot be decided at plan time does not count. A key without a policy gets
#   AWS's default policy, which does not grant CloudTrail.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
#     description: AWS CloudTrail user guide, configure AWS KMS key policies for CloudTrail
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html
#     description: AWS CloudTrail user guide, default key policy created in the CloudTrail console
# custom:
#   id: KMS-020
#   severity: high
#   enforcement: mandatory
#   remediation: >-
#     Allow cloudtrail.amazonaws.com kms:GenerateDataKey* with StringLike
#     kms:EncryptionContext:aws:cloudtrail:arn set to arn:aws:cloudtrail:*:ACCOUNT_ID:trail/*.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.cloudtrail_encrypt

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail_with(rego.metadata.chain(), plan.policy_holders[address], message, details) if {
	some address, review in plan.cloudtrail_reviews
	some problem in review.encrypt_problems
	message := concat("", [address, ": ", problem.message])
	details := {"statement": problem.statement}
}
