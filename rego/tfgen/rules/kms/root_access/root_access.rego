# METADATA
# title: The account root can administer the key
# description: |
#   Some Allow statement must let the owning account's root (arn:aws:iam::ID:root or the bare
#   account id) call kms:PutKeyPolicy, e.g. through kms:*, so IAM policies keep working and
#   the key cannot become unmanageable. The owning account is taken from the key's ARN when
#   known at plan time; otherwise any account root counts. A key without a policy gets AWS's
#   default key policy, which passes.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
#     description: AWS KMS developer guide, allow access to the AWS account and enable IAM policies
# custom:
#   id: KMS-013
#   severity: high
#   enforcement: mandatory
#   remediation: Add a statement allowing kms:* to arn:aws:iam::ACCOUNT_ID:root.
#   resource_types: [aws_kms_key, aws_kms_external_key, aws_kms_replica_key, aws_kms_replica_external_key, aws_kms_key_policy]
#   frameworks: []
package tfgen.rules.kms.root_access

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

deny contains result.fail(rego.metadata.chain(), rc, message) if {
	some address, doc in plan.policies
	doc.state == "ok"
	rc := plan.policy_holders[address]
	not _root_administers(doc, rc)
	message := concat("", [address, ": no statement lets the account root administer the key (kms:PutKeyPolicy)"])
}

_root_administers(doc, rc) if {
	some stmt in doc.statements
	not stmt.not_principal
	policy.grants(stmt, "kms:putkeypolicy")
	some principal in stmt.aws
	_owner_root(rc, policy.root_account(principal))
}

_owner_root(rc, account) if _owner(rc) == account

_owner_root(rc, _) if not _owner(rc)

# The owning account, from the key ARN (aws_kms_key.arn, aws_kms_key_policy.key_id) if known.
_owner(rc) := split(arn, ":")[4] if {
	attr := {"aws_kms_key": "arn", "aws_kms_key_policy": "key_id"}[rc.type]
	arn := plan.value(rc, attr)
	startswith(arn, "arn:")
}
