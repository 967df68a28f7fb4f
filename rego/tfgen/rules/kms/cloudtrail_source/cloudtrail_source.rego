# METADATA
# title: CloudTrail grants are bound to the source trail or account
# description: |
#   Statements that allow cloudtrail.amazonaws.com should carry an aws:SourceArn or
#   aws:SourceAccount condition with concrete values (an ARN with a * account, under ArnEquals
#   as under ArnLike, or * under StringLike, is none), so another account's trail cannot use
#   the key through CloudTrail (confused deputy). One finding per key names the statements.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cross-service-confused-deputy-prevention.html
#     description: AWS CloudTrail user guide, cross-service confused deputy prevention
# custom:
#   id: KMS-022
#   severity: medium
#   enforcement: advisory
#   remediation: >-
#     Add StringEquals aws:SourceArn with the trail ARNs (or aws:SourceAccount with the account
#     id) to each CloudTrail statement.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.cloudtrail_source

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

_source_keys := {"aws:sourcearn", "aws:sourceaccount"}

warn contains result.fail_with(rego.metadata.chain(), plan.policy_holders[address], message, details) if {
	some address in plan.cloudtrail_policies
	doc := plan.policies[address]
	labels := {stmt.label |
		some stmt in doc.statements
		policy.cloudtrail_statement(stmt)
		not policy.restricted_by(stmt, _source_keys)
	}
	count(labels) > 0
	message := concat("", [
		address, ": ", concat(", ", labels),
		" allow cloudtrail.amazonaws.com without an aws:SourceArn or aws:SourceAccount condition",
	])
	details := {"statements": labels}
}
