# CloudTrail's grants in a key policy: whether cloudtrail.amazonaws.com may call
# kms:GenerateDataKey* (scoped to account-specific trail ARNs) and kms:DescribeKey after the
# Denies, for the key (KMS-020/KMS-021) and for one trail (CT-002).
package tfgen.lib.policy

_cloudtrail := {"service": cloudtrail_service}

# What CloudTrail's own requests carry as a service principal.
_service_context := {"aws:principalisawsservice": "true", "aws:principalservicename": cloudtrail_service}

_source_keys := {"aws:sourcearn", "aws:sourceaccount", trail_context_key}

# An effective Allow to the CloudTrail service principal (decided once, when parsed).
_cloudtrail_allow(effect, effective, not_principal, services) if {
	cloudtrail_service in services
	effect == "Allow"
	effective
	not not_principal
} else := false

# The statement is an effective Allow to the CloudTrail service principal.
cloudtrail_statement(stmt) if stmt.cloudtrail

# The policy grants CloudTrail something: a mention in a Deny alone does not.
grants_cloudtrail(statements) if {
	some stmt in statements
	cloudtrail_statement(stmt)
}

# Allow statements that let CloudTrail call `action`.
cloudtrail_grants(statements, action) := [stmt |
	some stmt in statements
	cloudtrail_statement(stmt)
	grants(stmt, action)
]

# For a CloudTrail grant, decided once when parsed: what a request under it carries
# (`grant_context`) and its conditions on other keys no CloudTrail request is known to
# satisfy (`foreign`).
_cloudtrail_scope(false, _) := {}

_cloudtrail_scope(true, []) := {"grant_context": _cloudtrail_context, "foreign": set()}

_cloudtrail_scope(true, conditions) := {
	"grant_context": object.union(_cloudtrail_context, _grant_context(conditions)),
	"foreign": _foreign_keys(conditions),
} if {
	conditions != []
}

# What every request CloudTrail makes carries.
_cloudtrail_context := object.union(request_context, _service_context)

# The source account a grant's trail scope names.
_grant_context(conditions) := {"aws:sourceaccount": account} if {
	accounts := {_value_account(c.key, v) |
		some c in conditions
		c.key in _source_keys
		_positive(c)
		some v in c.values
	}
	count(accounts) == 1
	some account in accounts
} else := {}

_value_account("aws:sourceaccount", v) := v if regex.match(`^[0-9]{12}$`, v)

_value_account(key, v) := account if {
	key != "aws:sourceaccount"
	account := _arn_fields(v)[4]
	regex.match(`^[0-9]{12}$`, account)
}

# Conditions on keys other than the trail scope that no CloudTrail request is known to
# satisfy (aws:SecureTransport true is: KMS accepts HTTPS only).
_foreign_keys(conditions) := {c.key |
	some c in conditions
	not c.key in _source_keys
	condition_result(c, _cloudtrail_context) != "yes"
}

# The grants of `action` to CloudTrail with what the Denies do to each under `ctx`:
# {"stmt", "denied_by", "undecided"} entries.
_cloudtrail_access(statements, action, ctx) := [{"stmt": stmt, "denied_by": a.denied_by, "undecided": u} |
	some stmt in cloudtrail_grants(statements, action)
	a := _deny_access(statements, action, object.union(stmt.grant_context, ctx))
	u := a.undecided | {concat("", [stmt.label, " (condition on ", concat(", ", stmt.foreign), ")"]) |
		count(stmt.foreign) > 0
	}
]

_deny_access(statements, action, ctx) := {"denied_by": denied, "undecided": undecided} if {
	denies := deny_results(statements, _cloudtrail, action, ctx)
	denied := {label | some label, r in denies; r == "yes"}
	undecided := {label | some label, r in denies; r == "unknown"}
}

# CloudTrail's encrypt and describe grants under a policy for requests that carry `ctx`, and
# the problems KMS-020 and KMS-021 find in them ({"statement", "message"} objects).
review(statements, ctx) := {
	"encrypt": encrypt,
	"describe": describe,
	"encrypt_problems": _encrypt_problems(encrypt),
	"describe_problems": _problems(describe, "kms:DescribeKey"),
} if {
	encrypt := _cloudtrail_access(statements, "kms:generatedatakey", ctx)
	describe := _cloudtrail_access(statements, "kms:describekey", ctx)
}

# Problems with CloudTrail's kms:GenerateDataKey* grant (KMS-020), one object per problem.
encrypt_problems(statements) := _encrypt_problems(_cloudtrail_access(statements, "kms:generatedatakey", {}))

_encrypt_problems(entries) := _problems(entries, "kms:GenerateDataKey*") | {_scope_problem(entry.stmt) |
	some entry in entries
	_live(entry)
	not _trail_scoped(entry.stmt)
}

_scope_problem(stmt) := {"statement": stmt.label, "message": _scope_message(stmt)}

# Problems with CloudTrail's kms:DescribeKey grant (KMS-021).
describe_problems(statements) := _problems(_cloudtrail_access(statements, "kms:describekey", {}), "kms:DescribeKey")

# A grant that no Deny removes and whose conditions are all about the trail.
_live(entry) if {
	count(entry.denied_by) == 0
	count(entry.undecided) == 0
}

_live_grants(statements, action, ctx) := [entry.stmt |
	some entry in _cloudtrail_access(statements, action, ctx)
	_live(entry)
]

_problems(entries, name) := {_missing(name)} if {
	count(entries) == 0
} else := set() if {
	some entry in entries
	_live(entry)
} else := {_denied(name, denied)} if {
	denied := {label | some e in entries; some label in e.denied_by}
	every e in entries {
		count(e.denied_by) > 0
	}
} else := {_undecided(name, {label | some e in entries; some label in e.undecided})}

_missing(action) := {"statement": "", "message": concat("", ["no statement allows cloudtrail.amazonaws.com ", action])}

_denied(action, labels) := {"statement": "", "message": concat("", [
	concat(", ", labels), " denies cloudtrail.amazonaws.com ", action,
	", which overrides every statement allowing it",
])}

_undecided(action, labels) := {"statement": "", "message": concat("", [
	"whether cloudtrail.amazonaws.com may call ", action, " could not be decided: ",
	concat(", ", labels), " depend on request values unknown at plan time",
])}

# The CloudTrail encryption-context conditions of a statement (positive operators only).
trail_context_conditions(stmt) := [c |
	some c in stmt.conditions
	c.key == trail_context_key
	_positive(c)
]

# A trail ARN pattern names one account: arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME
# with a 12-digit ACCOUNT (any case under an IgnoreCase operator).
account_specific_trail_arn(v) if {
	is_string(v)
	parts := split(lower(v), ":")
	count(parts) == 6
	parts[0] == "arn"
	parts[2] == "cloudtrail"
	regex.match(`^[0-9]{12}$`, parts[4])
	startswith(parts[5], "trail/")
}

# The grant is conditioned on kms:EncryptionContext:aws:cloudtrail:arn with only
# account-specific trail ARNs.
_trail_scoped(stmt) if {
	some c in trail_context_conditions(stmt)
	every v in c.values {
		_scoped_value(c, v)
	}
}

# StringEquals takes * literally: such a value matches no trail.
_scoped_value(c, v) if {
	account_specific_trail_arn(v)
	_like(c.base)
}

_scoped_value(c, v) if {
	account_specific_trail_arn(v)
	not _like(c.base)
	not _wildcard(v)
}

_scope_message(stmt) := concat("", [
	stmt.label,
	" allows cloudtrail.amazonaws.com kms:GenerateDataKey* without a kms:EncryptionContext:aws:cloudtrail:arn condition",
]) if {
	count(trail_context_conditions(stmt)) == 0
} else := concat("", [
	stmt.label,
	" scopes kms:EncryptionContext:aws:cloudtrail:arn to ",
	concat(", ", _any_account_values(stmt)),
	", which is not an account-specific trail ARN",
]) if {
	count(_any_account_values(stmt)) > 0
} else := concat("", [
	stmt.label,
	" compares kms:EncryptionContext:aws:cloudtrail:arn by equality with ",
	concat(", ", _literal_wildcard_values(stmt)),
	", whose wildcard is taken literally and matches no trail",
])

_any_account_values(stmt) := {text(v) |
	some c in trail_context_conditions(stmt)
	some v in c.values
	not account_specific_trail_arn(v)
}

_literal_wildcard_values(stmt) := {v |
	some c in trail_context_conditions(stmt)
	some v in c.values
	account_specific_trail_arn(v)
	not _scoped_value(c, v)
}

# The trail ARN patterns of well-scoped encrypt grants.
trail_patterns(statements) := {v |
	some stmt in _live_grants(statements, "kms:generatedatakey", {})
	_trail_scoped(stmt)
	some c in trail_context_conditions(stmt)
	some v in c.values
}

# What a request CloudTrail makes for `trail` ({"arn": ARN or null, "name": NAME or null})
# carries: its ARN as aws:SourceArn and encryption context, its account as aws:SourceAccount.
trail_context(trail) := {
	"aws:sourcearn": trail.arn,
	"aws:sourceaccount": _arn_fields(trail.arn)[4],
	trail_context_key: trail.arn,
} if is_string(trail.arn)

trail_context(trail) := {} if not is_string(trail.arn)

# Why the policy does not let CloudTrail encrypt for and describe the key for `trail`
# (messages; empty when it does): KMS-020/KMS-021 judged with this trail's request context
# (so a Deny that applies to the trail overrides the grants), and some grant's trail
# conditions (aws:SourceArn, aws:SourceAccount, the encryption context; IgnoreCase and ARN
# operators included) must admit the trail. When its ARN is unknown, the trail name is
# compared with the ARN values' resource part.
trail_problems(statements, trail) := review_problems(review(statements, trail_context(trail)), trail)

# The same from a review made with the trail's context (when its ARN is unknown, that is the
# policy's review for an empty context).
review_problems(r, trail) := {p.message | some p in problems} | _for_trail(r.encrypt, r.describe, trail) if {
	problems := r.encrypt_problems | r.describe_problems
}

_for_trail(encrypt, describe, trail) := {concat("", [
	"no grant of kms:GenerateDataKey* to cloudtrail.amazonaws.com admits this trail",
	" (aws:SourceArn or kms:EncryptionContext:aws:cloudtrail:arn names other trails)",
])} if {
	_unadmitted(encrypt, trail)
} else := {concat("", [
	"no grant of kms:DescribeKey to cloudtrail.amazonaws.com admits this trail",
	" (aws:SourceArn names other trails)",
])} if {
	_unadmitted(describe, trail)
} else := set()

# Some grant is live, but none admits the trail.
_unadmitted(entries, trail) if {
	some entry in entries
	_live(entry)
	not _admitted(entries, trail)
}

# A live grant whose conditions hold for the trail's requests (others would leave it undecided).
_admitted(entries, trail) if {
	is_string(trail.arn)
	some entry in entries
	_live(entry)
	ctx := object.union(entry.stmt.grant_context, trail_context(trail))
	every c in entry.stmt.conditions {
		condition_result(c, ctx) == "yes"
	}
}

# Without the ARN: the trail name against the resource part of ARN values. A live grant's
# conditions on other keys hold for every CloudTrail request.
_admitted(entries, trail) if {
	not is_string(trail.arn)
	some entry in entries
	_live(entry)
	every c in entry.stmt.conditions {
		_name_admitted(c, trail)
	}
}

_name_admitted(c, _) if not c.key in _trail_name_keys

_name_admitted(c, trail) if {
	c.key != "aws:sourceaccount"
	_positive(c)
	is_string(trail.name)
	some v in c.values
	_name_matches(c.base, _arn_fields(v)[5], trail.name)
}

# Neither ARN nor name known, or a negated operator: nothing to compare.
_name_admitted(c, trail) if {
	c.key != "aws:sourceaccount"
	not is_string(trail.name)
}

_name_admitted(c, _) if {
	c.key != "aws:sourceaccount"
	not _positive(c)
}

# The keys whose values name trails by ARN.
_trail_name_keys := {"aws:sourcearn", trail_context_key}

_name_matches(base, resource, name) if {
	_like(base)
	_like_match(resource, concat("", ["trail/", name]))
}

_name_matches("stringequals", resource, name) if resource == concat("", ["trail/", name])

_name_matches("stringequalsignorecase", resource, name) if lower(resource) == lower(concat("", ["trail/", name]))
