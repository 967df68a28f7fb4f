# METADATA
# title: Full KMS access is granted only to account roots
# description: |
#   kms:* (or *, or an Allow with NotAction) lets a principal change the key policy, disable
#   and delete the key. Granting it to anything but an account root (arn:aws:iam::ID:root or
#   the bare account id) is a finding naming the statement and the principals.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
#     description: AWS KMS developer guide, default key policy and key administrators
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/least-privilege.html
#     description: AWS KMS developer guide, least-privilege permissions
# custom:
#   id: KMS-012
#   severity: medium
#   enforcement: advisory
#   remediation: >-
#     Grant key administrators only the administrative actions they need instead of kms:*.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.full_access

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

warn contains result.fail_with(rego.metadata.chain(), plan.policy_holders[address], message, details) if {
	some address, doc in plan.policies
	some stmt in doc.statements
	policy.grants_all(stmt)
	others := _grantees(stmt)
	count(others) > 0
	message := concat("", [address, ": ", stmt.label, " grants full KMS access to ", concat(", ", others)])
	details := {"statement": stmt.label, "principals": others}
}

_grantees(stmt) := {"every principal outside NotPrincipal"} if stmt.not_principal

_grantees(stmt) := {p | some p in stmt.aws; not policy.root_account(p)} | stmt.services if {
	not stmt.not_principal
}
