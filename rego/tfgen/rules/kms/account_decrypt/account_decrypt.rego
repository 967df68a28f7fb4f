# METADATA
# title: Account-wide decrypt is limited to CloudTrail log files
# description: |
#   For a key used for CloudTrail, an Allow statement whose principal is public but
#   restricted to an account or organization (by its conditions or by a Deny, so KMS-011 does
#   not apply) and that allows kms:Decrypt or kms:ReEncryptFrom must also require a concrete
#   kms:EncryptionContext:aws:cloudtrail:arn condition (a named account; "*" or "**" under
#   StringLike is none); otherwise anyone in the account can decrypt anything under the key.
#   A restriction to named principals (aws:PrincipalArn without a wildcard resource part) is
#   not account-wide.
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
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.account_decrypt

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

deny contains result.fail_with(rego.metadata.chain(), plan.policy_holders[address], message, details) if {
	some address in plan.cloudtrail_policies
	statements := plan.policies[address].statements
	some stmt in statements
	stmt.effect == "Allow"
	stmt.public
	_account_wide(statements, stmt)
	_decrypts(stmt)
	not policy.restricted_by(stmt, {policy.trail_context_key})
	message := concat("", [
		address, ": ", stmt.label, " lets any principal of the account decrypt",
		" without a concrete kms:EncryptionContext:aws:cloudtrail:arn condition",
	])
	details := {"statement": stmt.label}
}

# Restricted to an account or organization (so KMS-011 passes), not to named principals.
_account_wide(_, stmt) if {
	policy.restricted_by(stmt, policy.account_restrictions)
	not policy.named_principals(stmt)
}

_account_wide(statements, stmt) if {
	not policy.restricted_by(stmt, policy.account_restrictions)
	policy.account_denied(statements, stmt)
}

_decrypts(stmt) if policy.grants(stmt, "kms:decrypt")

_decrypts(stmt) if policy.grants(stmt, "kms:reencryptfrom")
