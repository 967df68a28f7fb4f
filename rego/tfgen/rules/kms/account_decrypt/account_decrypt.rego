# METADATA
# title: Account-wide decrypt is limited to CloudTrail log files
# description: |
#   For a key used for CloudTrail, an Allow statement whose principal is public but
#   restricted to an account (so KMS-011 does not apply) and that allows kms:Decrypt or
#   kms:ReEncryptFrom must also require a kms:EncryptionContext:aws:cloudtrail:arn condition;
#   otherwise anyone in the account can decrypt anything under the key.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail-decrypt.html
#     description: AWS CloudTrail user guide, granting decrypt permissions for CloudTrail log files
# custom:
#   id: KMS-023
#   severity: high
#   enforcement: mandatory
#   remediation: >-
#     Add StringLike kms:EncryptionContext:aws:cloudtrail:arn =
#     arn:aws:cloudtrail:*:ACCOUNT_ID:trail/* to the decrypt statement, or name the principals.
#   resource_types: [aws_kms_key, aws_kms_external_key, aws_kms_replica_key, aws_kms_replica_external_key, aws_kms_key_policy]
#   frameworks: []
package tfgen.rules.kms.account_decrypt

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

deny contains result.fail_with(rego.metadata.chain(), plan.policy_holders[address], message, details) if {
	some address in plan.cloudtrail_policies
	some stmt in plan.policies[address].statements
	stmt.effect == "Allow"
	stmt.public
	policy.restricted_by(stmt, policy.account_restrictions)
	_decrypts(stmt)
	not _context_bound(stmt)
	message := concat("", [
		address, ": ", stmt.label, " lets any principal of the account decrypt",
		" without a kms:EncryptionContext:aws:cloudtrail:arn condition",
	])
	details := {"statement": stmt.label}
}

_decrypts(stmt) if policy.grants(stmt, "kms:decrypt")

_decrypts(stmt) if policy.grants(stmt, "kms:reencryptfrom")

_context_bound(stmt) if {
	some c in policy.trail_context_conditions(stmt)
	every v in c.values {
		is_string(v)
		v != "*"
	}
}
