# METADATA
# title: KMS keys name their owning team
# description: |
#   Every aws_kms_key carries a non-empty Owner tag, so an alert on the key reaches a team.
#   A key without tags, or whose tags are unknown at plan time, is a finding.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/tagging-keys.html
#     description: AWS KMS developer guide, tagging keys
# custom:
#   id: ORG-001
#   severity: low
#   enforcement: advisory
#   remediation: Add tags = { Owner = "<team>" } to the aws_kms_key.
#   resource_types: [aws_kms_key]
package tfgen.rules.org.key_owner

import data.tfgen.lib.plan
import data.tfgen.lib.result

warn contains result.fail(rego.metadata.chain(), key, concat("", [key.address, " has no Owner tag"])) if {
	some key in plan.kms_keys
	not _owner(key)
}

_owner(key) if trim_space(plan.value(key, "tags").Owner) != ""
