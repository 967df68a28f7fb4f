# METADATA
# title: The trail's KMS key lets CloudTrail encrypt for this trail
# description: |
#   When a trail's kms_key_id refers (through configuration references, module outputs,
#   module variables, aliases, or a known ARN) to a key in the same plan, the key's effective
#   policy (its aws_kms_key_policy if any, else its own) must pass KMS-020 and KMS-021 for this
#   trail's requests (a Deny that applies to them counts), and some grant's aws:SourceArn and
#   encryption-context scope must admit this trail's ARN, or its name when the ARN is not yet
#   known. A policy unknown at plan time or invalid cannot pass. Where the plan does not say
#   which of several key instances the trail uses, every candidate is judged and one finding
#   names them; a sensitive kms_key_id that links to no key in configuration cannot be checked
#   and fails.
# related_resources:
#   - ref: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
#     description: AWS CloudTrail user guide, configure AWS KMS key policies for CloudTrail
# custom:
#   id: CT-002
#   severity: high
#   enforcement: mandatory
#   remediation: >-
#     Grant cloudtrail.amazonaws.com kms:GenerateDataKey* (conditioned on this trail's ARN
#     pattern) and kms:DescribeKey in the key policy; reference the key instance the trail uses
#     directly (not through a sensitive value or a computed index) so the plan shows it.
#   resource_types: [aws_cloudtrail]
#   frameworks: []
package tfgen.rules.cloudtrail.key_grants

import data.tfgen.lib.plan
import data.tfgen.lib.policy
import data.tfgen.lib.result

deny contains result.fail_with(rego.metadata.chain(), trail, message, {"key": key, "policy": holder}) if {
	some address, keys in plan.trail_keys
	trail := plan.trails[address]
	some key in keys
	some holder in plan.effective_policies[key]
	problems := _problems(holder, trail)
	count(problems) > 0
	message := concat("", [address, " uses ", key, " whose policy (", holder, ") fails: ", concat("; ", problems)])
}

# The plan does not say which instance the trail uses: one finding when any candidate fails.
deny contains result.fail_with(rego.metadata.chain(), trail, message, {"candidates": sort(candidates)}) if {
	some address, candidates in plan.trail_candidates
	trail := plan.trails[address]
	failing := {concat("", [key, " whose policy (", holder, ") fails: ", concat("; ", problems)]) |
		some key in candidates
		some holder in plan.effective_policies[key]
		problems := _problems(holder, trail)
		count(problems) > 0
	}
	count(failing) > 0
	message := concat("", [
		address, " uses one of ", concat(", ", sort(candidates)),
		" (the plan does not say which instance): ", concat("; ", failing),
	])
}

deny contains result.fail(rego.metadata.chain(), plan.trails[address], message) if {
	some address in plan.hidden_trail_keys
	message := concat("", [
		address,
		" cannot be checked: its kms_key_id is sensitive, so the plan does not show which key it uses",
	])
}

_problems(holder, _) := {"it is unknown at plan time"} if plan.policies[holder].state == "unknown"

_problems(holder, _) := {"it is not valid policy JSON"} if plan.policies[holder].state == "invalid"

# KMS-020/KMS-021 for this trail's requests (a Deny that applies to it counts), and some
# grant's aws:SourceArn / encryption-context scope must admit this trail.
_problems(holder, trail) := policy.review_problems(_review(holder, request), request) if {
	plan.policies[holder].state in {"ok", "default"}
	request := _request(trail)
}

# A trail whose ARN is unknown adds nothing to CloudTrail's requests: the policy's own review.
_review(holder, request) := plan.cloudtrail_reviews[holder] if {
	not is_string(request.arn)
} else := policy.review(plan.policies[holder].statements, policy.trail_context(request))

# The trail as its requests name it: ARN and name where known at plan time, else null.
_request(trail) := {"arn": _known(trail, "arn"), "name": _known(trail, "name")}

_known(rc, attr) := v if {
	v := plan.value(rc, attr)
} else := null
