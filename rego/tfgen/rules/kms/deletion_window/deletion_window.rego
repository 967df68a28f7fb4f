# METADATA
# title: KMS key deletion window is long enough
# description: |
#   deletion_window_in_days must be at least the configured minimum
#   (data.tfgen_config.min_deletion_window_days, default 30). Unset means AWS's default of
#   30 days; an unknown value is a finding.
# related_resources:
#   - ref: https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
#     description: AWS KMS developer guide, deleting AWS KMS keys
# custom:
#   id: KMS-002
#   severity: low
#   enforcement: advisory
#   remediation: Set deletion_window_in_days to the configured minimum or more (AWS allows 7 to 30).
#   resource_types: [aws_kms_key]
#   frameworks: []
package tfgen.rules.kms.deletion_window

import data.tfgen.lib.plan
import data.tfgen.lib.result

default _minimum := 30

_minimum := data.tfgen_config.min_deletion_window_days

warn contains result.fail_with(rego.metadata.chain(), key, message, {"days": days, "minimum": _minimum}) if {
	some key in plan.kms_keys
	days := _days(key)
	days < _minimum
	message := concat("", [
		key.address, " has a deletion window of ", format_int(days, 10),
		" days, below the minimum of ", format_int(_minimum, 10),
	])
}

warn contains result.fail(rego.metadata.chain(), key, message) if {
	some key in plan.kms_keys
	plan.unknown(key, "deletion_window_in_days")
	message := concat("", [key.address, " has deletion_window_in_days unknown at plan time"])
}

# Unset means AWS's default window.
_days(key) := plan.value(key, "deletion_window_in_days")

_days(key) := 30 if plan.absent(key, "deletion_window_in_days")
