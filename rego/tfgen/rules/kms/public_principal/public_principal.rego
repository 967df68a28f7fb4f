# METADATA
# title: KMS key policy grants no public principal without an account condition
# description: |
#   An Allow statement whose principal is "*", {"AWS": "*"}, {"AWS": ["*"]} or any NotPrincipal
#   grants every AWS principal unless a condition on kms:CallerAccount, aws:PrincipalAccount,
#   aws:PrincipalOrgID, aws:SourceAccount or aws:PrincipalArn restricts it with concrete
#   values, or a Deny to everyone restricts it (every action it grants, only conditions that
#   exclude concrete accounts, such as StringNotEquals kms:CallerAccount). An empty Condition,
#   an IfExists or ForAllValues operator, a negated operator or a wildcard under a Like or ARN
#   operator (ArnEquals matches like ArnLike) is no restriction; StringEquals takes * literally.
#   A statement without Resource or Action grants nothing.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
#     description: AWS KMS developer guide, key policy elements and principals
#   - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
#     description: IAM user guide, ForAllValues with absent keys
# custom:
#   id: KMS-011
#   severity: critical
#   enforcement: mandatory
#   remediation: >-
#     Name the principals explicitly, or add a StringEquals condition on kms:CallerAccount or
#     aws:PrincipalOrgID with concrete values.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.public_principal

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

deny contains result.fail_with(rego.metadata.chain(), plan.policy_holders[address], message, details) if {
	some address, doc in plan.policies
	some stmt in doc.statements
	stmt.public
	stmt.effect == "Allow"
	stmt.effective
	not policy.restricted_by(stmt, policy.account_restrictions)
	not policy.account_denied(doc.statements, stmt)
	undecided := policy.account_deny_undecided(doc.statements, stmt)
	message := concat("", [
		address, ": ", stmt.label, " allows ", _who(stmt), " without a concrete account condition",
		_undecided(undecided),
	])
	details := {"statement": stmt.label}
}

_undecided(labels) := "" if count(labels) == 0

_undecided(labels) := concat("", [
	"; whether ", concat(", ", labels),
	" restricts it to an account could not be decided",
]) if {
	count(labels) > 0
}

_who(stmt) := "every principal outside NotPrincipal" if stmt.not_principal

_who(stmt) := "principal \"*\"" if not stmt.not_principal
