# METADATA
# title: The account root can administer the key
# description: |
#   Some Allow statement must let the owning account's root (arn:PARTITION:iam::ID:root, the
#   bare account id, or "*") call kms:PutKeyPolicy, e.g. through kms:*, so IAM policies keep
#   working and the key cannot become unmanageable. The statement needs Resource and Action,
#   its conditions must hold for the root (kms:CallerAccount, aws:PrincipalAccount,
#   aws:PrincipalArn), and no Deny may apply to the root (an explicit Deny overrides every
#   Allow, NotPrincipal included); a condition that cannot be decided at plan time is a
#   finding that says so. The owning account and partition come from the key's ARN when known
#   at plan time, else the partition from the plan's AWS provider region and any account's
#   root counts. A key without a policy gets AWS's default key policy, which passes.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
#     description: AWS KMS developer guide, allow access to the AWS account and enable IAM policies
#   - ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
#     description: IAM user guide, policy evaluation logic (an explicit deny overrides an allow)
# custom:
#   id: KMS-013
#   severity: high
#   enforcement: mandatory
#   remediation: Add a statement allowing kms:* to arn:aws:iam::ACCOUNT_ID:root.
#   resource_types:
#     - aws_kms_key
#     - aws_kms_external_key
#     - aws_kms_replica_key
#     - aws_kms_replica_external_key
#     - aws_kms_key_policy
#   frameworks: []
package tfgen.rules.kms.root_access

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

deny contains result.fail_with(rego.metadata.chain(), rc, message, details) if {
	some address, doc in plan.policies
	doc.state == "ok"
	rc := plan.policy_holders[address]
	owner := _owner(rc)
	not _plainly_administered(doc.statements, owner)
	access := _root_access(doc.statements, owner)
	access.state != "yes"
	message := concat("", [address, ": ", _reason(access)])
	details := {"denied_by": access.denied_by, "undecided": access.undecided}
}

_reason(access) := concat("", [
	concat(", ", access.denied_by),
	" denies the account root kms:PutKeyPolicy, which overrides every Allow: no one can administer the key",
]) if {
	access.state == "no"
	count(access.denied_by) > 0
} else := concat("", [
	"whether the account root can administer the key (kms:PutKeyPolicy) could not be decided: ",
	concat(", ", access.undecided), " depend on request values unknown at plan time",
]) if {
	access.state == "unknown"
} else := "no statement lets the account root administer the key (kms:PutKeyPolicy)"

# The common case, decided without evaluating conditions: no Deny, and an unconditional Allow
# of kms:PutKeyPolicy to "*" or to a root of the owner's account (any, when unknown) and
# partition.
_plainly_administered(statements, owner) if {
	not _has_deny(statements)
	some stmt in statements
	count(stmt.conditions) == 0
	not stmt.not_principal
	policy.grants(stmt, "kms:putkeypolicy")
	some principal in stmt.aws
	_owner_root(principal, owner)
}

_has_deny(statements) if {
	some stmt in statements
	stmt.effect == "Deny"
}

_owner_root("*", _)

_owner_root(principal, owner) if {
	root := policy.root_of(principal)
	owner.account in {null, root.account}
	owner.partition in {null, root.partition}
}

_owner_root(principal, owner) if {
	root := policy.root_of(principal)
	owner.account in {null, root.account}
	root.partition == null
}

# The owner's root, or (owner unknown) the best of the roots the policy names.
_root_access(statements, owner) := {
	"state": _best({a.state | some a in results}),
	"denied_by": {label | some a in results; some label in a.denied_by},
	"undecided": {label | some a in results; some label in a.undecided},
} if {
	results := [policy.access(statements, who, "kms:putkeypolicy", policy.root_context(who)) |
		some who in _candidates(statements, owner)
	]
}

_best(states) := "yes" if {
	"yes" in states
} else := "unknown" if {
	"unknown" in states
} else := "no"

_candidates(_, owner) := {owner} if is_string(owner.account)

_candidates(statements, owner) := {owner} | {_root_who(policy.root_of(principal), owner) |
	some stmt in statements
	policy.grants(stmt, "kms:putkeypolicy")
	some principal in stmt.aws
} if not is_string(owner.account)

_root_who(root, owner) := {"account": root.account, "partition": _partition(root.partition, owner.partition)}

_partition(null, owner) := owner

_partition(p, owner) := p if {
	p != null
	owner in {null, p}
}

# The owning account and partition, from the key ARN (the key's arn, aws_kms_key_policy's
# key_id) when known at plan time, else the plan's partition if any.
_owner(rc) := {"account": parts[4], "partition": parts[1]} if {
	attr := object.get({"aws_kms_key_policy": "key_id"}, rc.type, "arn")
	arn := plan.value(rc, attr)
	startswith(arn, "arn:")
	parts := split(arn, ":")
} else := {"account": null, "partition": plan.aws_partition}
