# METADATA
# title: CloudTrail logs are encrypted with a KMS key
# description: |
#   A trail must set kms_key_id so log files are encrypted with SSE-KMS. Unset or empty is a
#   finding; a value unknown at plan time (e.g. a key created in the same plan) counts as set.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html
#     description: AWS CloudTrail user guide, encrypting log files with AWS KMS keys (SSE-KMS)
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-2
#     description: AWS Security Hub control CloudTrail.2
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
#     description: CIS AWS Foundations Benchmark 3.5 (v3.0.0, v5.0.0), 3.7 (v1.4.0)
# custom:
#   id: CT-001
#   severity: high
#   enforcement: mandatory
#   remediation: Set kms_key_id on the aws_cloudtrail to the ARN of a customer managed KMS key.
#   resource_types: [aws_cloudtrail]
#   frameworks:
#     - CIS AWS 3.5 (v3.0.0)
#     - CIS AWS 3.5 (v5.0.0)
#     - CIS AWS 3.7 (v1.4.0)
#     - AWS Security Hub CloudTrail.2
package tfgen.rules.cloudtrail.encryption

import data.tfgen.lib.plan
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), trail, message) if {
	some trail in plan.trails
	not plan.unknown(trail, "kms_key_id")
	object.get(trail.change.after, "kms_key_id", null) in {null, ""}
	message := concat("", [trail.address, " does not encrypt its log files with a KMS key (kms_key_id is not set)"])
}
