# METADATA
# description: |
#   IAM key-policy evaluation: a policy JSON string becomes a list of statements whose
#   principals, actions and conditions have one shape (strings or arrays, any case), and the
#   predicates rules share decide what a policy grants the way IAM does: a statement without
#   Resource or Action grants nothing, conditions are evaluated against what a request is
#   known to carry, and a matching Deny overrides any Allow (the account root included).
package tfgen.lib.policy

cloudtrail_service := "cloudtrail.amazonaws.com"

trail_context_key := "kms:encryptioncontext:aws:cloudtrail:arn"

# {"state": "ok", "statements": [...]} for a valid policy, else {"state": "invalid", "reason"}.
parse(text) := _document(json.unmarshal(text)) if {
	_kms_characters(text)
	json.is_valid(text)
} else := {"state": "invalid", "reason": _character_reason(text)} if {
	is_string(text)
	not _kms_characters(text)
} else := {"state": "invalid", "reason": "the policy is not valid JSON"}

# KMS accepts only tab, LF, CR and U+0020 to U+00FF in a key policy (CreateKey/PutKeyPolicy).
_kms_characters(text) if regex.match(`^[\t\n\r\x{20}-\x{FF}]*$`, text)

_character_reason(text) := concat("", [
	"the policy contains the character ", json.marshal(regex.find_all_string_submatch_n(`[^\t\n\r\x{20}-\x{FF}]`, text, 1)[0][0]),
	", which KMS does not accept in a key policy (only printable ASCII, Latin-1 up to U+00FF, tab, LF and CR)",
])

_document(doc) := {"state": "ok", "statements": [_statement(i, s) | some i, s in raw]} if {
	raw := _statement_list(object.get(doc, "Statement", null))
	count(raw) > 0
	every s in raw {
		_valid_statement(s)
	}
} else := {"state": "invalid", "reason": "the policy has no valid Statement list"}

_statement_list(s) := s if is_array(s)

_statement_list(s) := [s] if is_object(s)

# A statement KMS stores. One without Action/NotAction or Resource is stored but has no effect.
_valid_statement(s) if {
	is_object(s)
	s.Effect in {"Allow", "Deny"}
	count({"Action", "NotAction"} & _keys(s)) <= 1
	count({"Resource", "NotResource"} & _keys(s)) <= 1
	count({"Principal", "NotPrincipal"} & _keys(s)) == 1
}

_keys(obj) := {k | some k, _ in obj}

_statement(i, s) := {
	"index": i,
	"label": _label(i, s),
	"effect": s.Effect,
	"effective": _effective(s),
	"not_principal": "NotPrincipal" in _keys(s),
	"public": _is_public(s, aws),
	"aws": aws,
	"services": services,
	"not_action": "NotAction" in _keys(s),
	"actions": {lower(a) | some a in _strings(object.get(s, "Action", object.get(s, "NotAction", [])))},
	"conditions": _conditions(object.get(s, "Condition", {})),
	"cloudtrail": _cloudtrail_allow(s, services),
} if {
	principal := object.get(s, "Principal", object.get(s, "NotPrincipal", null))
	aws := _aws(principal)
	services := {lower(p) | some p in _strings(_field(principal, "Service"))}
}

# How messages name a statement: its Sid, else its position.
_label(i, s) := concat("", ["statement \"", s.Sid, "\""]) if {
	is_string(s.Sid)
	s.Sid != ""
} else := concat("", ["Statement[", format_int(i, 10), "]"])

# "Principal": "*" is {"AWS": "*"}.
_aws("*") := {"*"}

_aws(principal) := {p | some p in _strings(_field(principal, "AWS"))} if principal != "*"

_field(principal, name) := object.get(principal, name, []) if is_object(principal)

_field(principal, _) := [] if not is_object(principal)

# Any NotPrincipal is public: it names who is excluded, never who is allowed.
_is_public(s, _) if "NotPrincipal" in _keys(s)

_is_public(s, aws) if {
	not "NotPrincipal" in _keys(s)
	"*" in aws
}

_is_public(s, aws) := false if {
	not "NotPrincipal" in _keys(s)
	not "*" in aws
}

# A statement takes effect only with an Action (or NotAction) and a Resource that can match
# the key; KMS stores one without them, but it grants and denies nothing.
_effective(s) if {
	count(_strings(object.get(s, "Action", object.get(s, "NotAction", [])))) > 0
	count(_strings(object.get(s, "Resource", object.get(s, "NotResource", [])))) > 0
	not "*" in _strings(object.get(s, "NotResource", []))
} else := false

_strings(x) := [x] if is_string(x)

_strings(x) := [v | some v in x; is_string(v)] if is_array(x)

_strings(x) := [] if {
	not is_string(x)
	not is_array(x)
}

# One entry per operator/key pair. A non-object Condition or block adds nothing.
_conditions(condition) := [c |
	is_object(condition)
	some operator, block in condition
	is_object(block)
	some key, values in block
	c := _condition(operator, key, values)
]

_condition(operator, key, values) := {
	"operator": operator,
	"base": trim_suffix(unqualified, "ifexists"),
	"all_values": startswith(op, "forallvalues:"),
	"if_exists": endswith(unqualified, "ifexists"),
	"key": lower(key),
	"values": _values(values),
} if {
	op := lower(operator)
	unqualified := trim_prefix(trim_prefix(op, "foranyvalue:"), "forallvalues:")
}

_values(v) := v if is_array(v)

_values(v) := [v] if not is_array(v)

# --- actions and principals ----------------------------------------------------------------

# IAM wildcards are * and ?; every other glob metacharacter is literal.
_glob(pattern) := strings.replace_n({"\\": "\\\\", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}"}, pattern)

_like_match(pattern, value) if glob.match(_glob(pattern), null, value)

# The statement's Action/NotAction covers `action` (lower case, e.g. "kms:decrypt").
acts_on(stmt, action) if {
	stmt.effective
	not stmt.not_action
	some pattern in stmt.actions
	_like_match(pattern, action)
}

acts_on(stmt, action) if {
	stmt.effective
	stmt.not_action
	every pattern in stmt.actions {
		not _like_match(pattern, action)
	}
}

# The statement allows `action`, whatever its principals and conditions.
grants(stmt, action) if {
	stmt.effect == "Allow"
	acts_on(stmt, action)
}

# The statement allows every KMS action: "*", "kms:*" or a NotAction list.
grants_all(stmt) if {
	stmt.effect == "Allow"
	stmt.effective
	some pattern in stmt.actions
	pattern in {"*", "kms:*"}
	not stmt.not_action
}

grants_all(stmt) if {
	stmt.effect == "Allow"
	stmt.effective
	stmt.not_action
}

# The account and partition of a root principal: arn:PARTITION:iam::ID:root or the bare ID
# (whose partition is the key's).
root_of(principal) := {"account": m[2], "partition": m[1]} if {
	some m in regex.find_all_string_submatch_n(`^arn:(aws[a-z-]*):iam::([0-9]{12}):root$`, principal, 1)
}

root_of(principal) := {"account": principal, "partition": null} if regex.match(`^[0-9]{12}$`, principal)

# The account id of a root principal.
root_account(principal) := root_of(principal).account

# The Principal (or NotPrincipal) element names `who`: {"service": name} or a root
# {"account": ID, "partition": P}; "*" names everyone, services included.
_names(stmt, _) if "*" in stmt.aws

_names(stmt, who) if who.service in stmt.services

_names(stmt, who) if {
	some p in stmt.aws
	_same_root(root_of(p), who)
}

_same_root(root, who) if {
	root.account == who.account
	_same_partition(root.partition, who.partition)
}

_same_partition(a, b) if a == b

_same_partition(null, _)

_same_partition(a, null) if a != null

# The statement applies to `who`: named by Principal, or not excluded by NotPrincipal.
applies_to(stmt, who) if {
	not stmt.not_principal
	_names(stmt, who)
}

applies_to(stmt, who) if {
	stmt.not_principal
	not _names(stmt, who)
}

# --- conditions ----------------------------------------------------------------------------

# Whether condition `c` holds for a request whose context holds `ctx` (lower-case keys):
# "yes", "no", or "unknown" when the key's value or the operator is beyond what is known.
condition_result(c, ctx) := "unknown" if {
	not _decidable(c, ctx)
} else := "yes" if {
	_holds(c.base, c.values, ctx[c.key])
} else := "no"

_decidable(c, ctx) if {
	is_string(ctx[c.key])
	c.base in _operators
	count(c.values) > 0
	every v in c.values {
		is_string(v)
		not contains(v, "${")
	}
}

_operators := {
	"stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
	"stringlike", "stringnotlike", "arnequals", "arnlike", "arnnotequals", "arnnotlike",
}

_holds("stringequals", values, x) if x in values

_holds("stringnotequals", values, x) if not x in values

_holds("stringequalsignorecase", values, x) if lower(x) in {lower(v) | some v in values}

_holds("stringnotequalsignorecase", values, x) if not lower(x) in {lower(v) | some v in values}

_holds("stringlike", values, x) if {
	some v in values
	_like_match(v, x)
}

_holds("stringnotlike", values, x) if {
	every v in values {
		not _like_match(v, x)
	}
}

_holds(op, values, x) if {
	op in {"arnequals", "arnlike"}
	some v in values
	arn_match(v, x)
}

_holds(op, values, x) if {
	op in {"arnnotequals", "arnnotlike"}
	every v in values {
		not arn_match(v, x)
	}
}

# ArnEquals and ArnLike: each of the six ARN fields matches on its own, with * and ?.
arn_match(pattern, arn) if {
	p := _arn_fields(pattern)
	a := _arn_fields(arn)
	every i in numbers.range(0, 5) {
		_like_match(p[i], a[i])
	}
}

_arn_fields(arn) := array.concat(array.slice(parts, 0, 5), [concat(":", array.slice(parts, 5, count(parts)))]) if {
	parts := split(arn, ":")
	count(parts) >= 6
}

# Whether all of the statement's conditions hold for `ctx`: "yes", "no" or "unknown".
conditions_result(stmt, ctx) := "no" if {
	some c in stmt.conditions
	condition_result(c, ctx) == "no"
} else := "unknown" if {
	some c in stmt.conditions
	condition_result(c, ctx) == "unknown"
} else := "yes"

# What a request by `root` ({"account", "partition"}) carries; nothing of an unknown account.
root_context(root) := object.union(
	{"kms:calleraccount": root.account, "aws:principalaccount": root.account},
	{"aws:principalarn": concat("", ["arn:", root.partition, ":iam::", root.account, ":root"]) | is_string(root.partition)},
) if is_string(root.account)

root_context(root) := {} if not is_string(root.account)

# --- access after Deny ---------------------------------------------------------------------

# Whether `who` may call `action` under `ctx` after every Deny: {"state": "yes"|"no"|"unknown",
# "denied_by": labels of Denies that apply, "undecided": labels whose effect is unknown}.
# A matching Deny overrides every Allow; one whose condition cannot be decided leaves it open.
access(statements, who, action, ctx) := {"state": state, "denied_by": denied, "undecided": undecided} if {
	allows := {stmt.label: conditions_result(stmt, ctx) |
		some stmt in statements
		grants(stmt, action)
		applies_to(stmt, who)
	}
	denies := deny_results(statements, who, action, ctx)
	denied := {label | some label, r in denies; r == "yes"}
	undecided := {label | some label, r in object.union(allows, denies); r == "unknown"}
	state := _access_state(allows, denies)
}

# The Denies that apply to `who` and `action`, each with its condition's result for `ctx`.
deny_results(statements, who, action, ctx) := {stmt.label: conditions_result(stmt, ctx) |
	some stmt in statements
	stmt.effect == "Deny"
	acts_on(stmt, action)
	applies_to(stmt, who)
}

_access_state(allows, denies) := "no" if {
	some r in denies
	r == "yes"
} else := "yes" if {
	some r in allows
	r == "yes"
	every d in denies {
		d == "no"
	}
} else := "unknown" if {
	some r in allows
	r != "no"
} else := "no"

# --- concrete restrictions -----------------------------------------------------------------

account_restrictions := {
	"kms:calleraccount",
	"aws:principalaccount",
	"aws:principalorgid",
	"aws:sourceaccount",
	"aws:principalarn",
}

# A condition that really narrows the request: a positive string/ARN operator, not
# IfExists, not ForAllValues (true when the key is absent), and every value concrete for its
# operator: StringEquals takes "*" literally, under StringLike it matches anything, and
# ArnEquals is ArnLike (an ARN value is concrete when its account field is).
concrete(c) if {
	_positive(c)
	every v in c.values {
		_concrete_value(c, v)
	}
}

_positive(c) if {
	c.base in {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
	not c.if_exists
	not c.all_values
	count(c.values) > 0
}

_concrete_value(c, v) if {
	is_string(v)
	v != ""
	not _like(c.base)
}

_concrete_value(c, v) if {
	is_string(v)
	_like(c.base)
	not c.key in _arn_keys
	not _wildcard(v)
}

_concrete_value(c, v) if {
	is_string(v)
	_like(c.base)
	c.key in _arn_keys
	account := _arn_fields(v)[4]
	account != ""
	not _wildcard(account)
}

_arn_keys := {"aws:principalarn", "aws:sourcearn", trail_context_key}

# ArnEquals matches like ArnLike.
_like(base) if base in {"stringlike", "arnlike", "arnequals"}

_wildcard(v) if contains(v, "*")

_wildcard(v) if contains(v, "?")

# The statement carries a concrete condition on one of `keys`.
restricted_by(stmt, keys) if {
	some c in stmt.conditions
	c.key in keys
	concrete(c)
}

# Restricted to named principals: a concrete aws:PrincipalArn whose every value names one
# principal (no wildcard in the resource part), so the grant is not account-wide.
named_principals(stmt) if {
	some c in stmt.conditions
	c.key == "aws:principalarn"
	concrete(c)
	every v in c.values {
		not _wildcard(_arn_fields(v)[5])
	}
}

# A public Allow is restricted to accounts by a Deny: one that applies to everyone, covers
# every action the Allow grants, and whose only conditions (if any) exclude concrete
# accounts (StringNotEquals kms:CallerAccount ...), so every caller outside them is denied.
account_denied(statements, allow) if {
	some deny in statements
	_account_deny(deny)
	covers_actions(deny, allow)
}

_account_deny(deny) if {
	deny.effect == "Deny"
	deny.effective
	not deny.not_principal
	"*" in deny.aws
	every c in deny.conditions {
		_account_exclusion(c)
	}
}

_account_exclusion(c) if {
	c.key in account_restrictions
	not c.all_values
	count(c.values) > 0
	positive := {"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase", "stringnotlike": "stringlike", "arnnotequals": "arnequals", "arnnotlike": "arnlike"}[c.base]
	every v in c.values {
		_concrete_value(object.union(c, {"base": positive}), v)
	}
}

# Public Denies covering `allow` that name an account but also depend on other conditions
# or wildcard values: whether they restrict it cannot be decided.
account_deny_undecided(statements, allow) := {deny.label |
	some deny in statements
	deny.effect == "Deny"
	deny.effective
	"*" in deny.aws
	not deny.not_principal
	covers_actions(deny, allow)
	some c in deny.conditions
	c.key in account_restrictions
	not _account_deny(deny)
}

# Every action `allow` grants is also acted on by `deny`.
covers_actions(deny, _) if {
	not deny.not_action
	some p in deny.actions
	p in {"*", "kms:*"}
}

covers_actions(deny, allow) if {
	not allow.not_action
	every a in allow.actions {
		_covers(deny, a)
	}
}

covers_actions(deny, allow) if {
	allow.not_action
	deny.not_action
	every n in deny.actions {
		some a in allow.actions
		_like_match(a, n)
	}
}

_covers(deny, a) if {
	not deny.not_action
	some p in deny.actions
	_like_match(p, a)
}

_covers(deny, a) if {
	deny.not_action
	every n in deny.actions {
		not _like_match(n, a)
		not _like_match(a, n)
	}
}

# --- CloudTrail grants ---------------------------------------------------------------------

_cloudtrail := {"service": cloudtrail_service}

_source_keys := {"aws:sourcearn", "aws:sourceaccount", trail_context_key}

# An effective Allow to the CloudTrail service principal (decided once, when parsed).
_cloudtrail_allow(s, services) if {
	s.Effect == "Allow"
	_effective(s)
	not "NotPrincipal" in _keys(s)
	cloudtrail_service in services
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

# What a CloudTrail request under grant `stmt` carries: the source account its scope names.
_grant_context(stmt) := {"aws:sourceaccount": account} if {
	accounts := {a |
		some c in stmt.conditions
		c.key in _source_keys
		_positive(c)
		some v in c.values
		a := _value_account(c.key, v)
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

# Conditions of a CloudTrail grant on keys other than its trail scope, which no CloudTrail
# request is known to satisfy.
_foreign_keys(stmt) := {c.key | some c in stmt.conditions; not c.key in _source_keys}

# The grants of `action` to CloudTrail with what the Denies do to each under `ctx`:
# {"stmt", "denied_by", "undecided"} entries.
_cloudtrail_access(statements, action, ctx) := [{"stmt": stmt, "denied_by": a.denied_by, "undecided": u} |
	some stmt in cloudtrail_grants(statements, action)
	a := _deny_access(statements, action, object.union(_grant_context(stmt), ctx))
	foreign := _foreign_keys(stmt)
	u := a.undecided | {concat("", [stmt.label, " (condition on ", concat(", ", foreign), ")"]) | count(foreign) > 0}
]

_deny_access(statements, action, ctx) := {"denied_by": denied, "undecided": undecided} if {
	denies := deny_results(statements, _cloudtrail, action, ctx)
	denied := {label | some label, r in denies; r == "yes"}
	undecided := {label | some label, r in denies; r == "unknown"}
}

# Problems with CloudTrail's kms:GenerateDataKey* grant (KMS-020), one object per problem.
encrypt_problems(statements) := _encrypt_problems(_cloudtrail_access(statements, "kms:generatedatakey", {}))

_encrypt_problems(entries) := _problems(entries, "kms:GenerateDataKey*") | {problem |
	some entry in entries
	_live(entry)
	not _trail_scoped(entry.stmt)
	problem := {"statement": entry.stmt.label, "message": _scope_message(entry.stmt)}
}

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

# --- one trail -----------------------------------------------------------------------------

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
trail_problems(statements, trail) := {p.message | some p in problems} | _for_trail(encrypt, describe, trail) if {
	ctx := trail_context(trail)
	encrypt := _cloudtrail_access(statements, "kms:generatedatakey", ctx)
	describe := _cloudtrail_access(statements, "kms:describekey", ctx)
	problems := _encrypt_problems(encrypt) | _problems(describe, "kms:DescribeKey")
}

_for_trail(encrypt, describe, trail) := {"no grant of kms:GenerateDataKey* to cloudtrail.amazonaws.com admits this trail (aws:SourceArn or kms:EncryptionContext:aws:cloudtrail:arn names other trails)"} if {
	_unadmitted(encrypt, trail)
} else := {"no grant of kms:DescribeKey to cloudtrail.amazonaws.com admits this trail (aws:SourceArn names other trails)"} if {
	_unadmitted(describe, trail)
} else := set()

# Some grant is live, but none admits the trail.
_unadmitted(entries, trail) if {
	some entry in entries
	_live(entry)
	not _admitted(entries, trail)
}

_admitted(entries, trail) if {
	some entry in entries
	_live(entry)
	every c in entry.stmt.conditions {
		_admits(c, trail)
	}
}

# A live grant's conditions are all on the trail's keys (others leave it undecided).
_admits(c, trail) if {
	condition_result(c, trail_context(trail)) == "yes"
}

# Without the ARN: the trail name against the resource part of ARN values.
_admits(c, trail) if {
	not is_string(trail.arn)
	_name_admitted(c, trail)
}

_name_admitted(c, _) if c.key == "aws:sourceaccount"

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

_name_matches(base, resource, name) if {
	_like(base)
	_like_match(resource, concat("", ["trail/", name]))
}

_name_matches("stringequals", resource, name) if resource == concat("", ["trail/", name])

_name_matches("stringequalsignorecase", resource, name) if lower(resource) == lower(concat("", ["trail/", name]))

# A condition value as message text.
text(v) := v if is_string(v)

text(v) := json.marshal(v) if not is_string(v)
