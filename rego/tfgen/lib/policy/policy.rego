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
	"the policy contains the character ",
	json.marshal(regex.find_all_string_submatch_n(`[^\t\n\r\x{20}-\x{FF}]`, text, 1)[0][0]),
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
	keys := object.keys(s)
	count({"Action", "NotAction"} & keys) <= 1
	count({"Resource", "NotResource"} & keys) <= 1
	count({"Principal", "NotPrincipal"} & keys) == 1
}

_statement(i, s) := object.union(
	{
		"index": i,
		"label": _label(i, s),
		"effect": s.Effect,
		"effective": effective,
		"not_principal": not_principal,
		"public": _is_public(not_principal, aws),
		"aws": aws,
		"services": services,
		"not_action": "NotAction" in keys,
		"actions": {lower(a) | some a in actions},
		"conditions": conditions,
		"cloudtrail": cloudtrail,
	},
	_cloudtrail_scope(cloudtrail, conditions),
) if {
	keys := object.keys(s)
	not_principal := "NotPrincipal" in keys
	principal := object.get(s, "Principal", object.get(s, "NotPrincipal", null))
	aws := _aws(principal)
	services := {lower(p) | some p in _strings(_field(principal, "Service"))}
	actions := _strings(object.get(s, "Action", object.get(s, "NotAction", [])))
	effective := _effective(actions, s)
	conditions := _conditions(object.get(s, "Condition", {}))
	cloudtrail := _cloudtrail_allow(s.Effect, effective, not_principal, services)
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
_is_public(true, _) := true

_is_public(false, aws) := "*" in aws

# A statement takes effect only with an Action (or NotAction) and a Resource that can match
# the key; KMS stores one without them, but it grants and denies nothing.
_effective(actions, s) if {
	count(actions) > 0
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
_conditions(condition) := [_condition(operator, key, values) |
	is_object(condition)
	some operator, block in condition
	is_object(block)
	some key, values in block
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
	_all_actions(stmt)
}

_all_actions(stmt) if stmt.not_action

_all_actions(stmt) if {
	some pattern in stmt.actions
	pattern in {"*", "kms:*"}
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

# Whether condition `c` holds for a request whose context holds `ctx` (lower-case keys):
# "yes", "no", or "unknown" when the key's value or the operator is beyond what is known.
condition_result(c, ctx) := "unknown" if {
	not _decidable(c, ctx)
} else := "yes" if {
	_holds(c.base, [_value_text(v) | some v in c.values], ctx[c.key])
} else := "no"

_decidable(c, ctx) if {
	is_string(ctx[c.key])
	c.base in _operators
	count(c.values) > 0
	every v in c.values {
		not contains(_value_text(v), "${")
	}
}

_operators := {
	"stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
	"stringlike", "stringnotlike", "arnequals", "arnlike", "arnnotequals", "arnnotlike", "bool",
}

# A condition value as the request compares it (Bool values may be JSON booleans).
_value_text(v) := v if is_string(v)

_value_text(v) := json.marshal(v) if is_boolean(v)

# What every KMS request carries: KMS endpoints accept HTTPS only.
request_context := {"aws:securetransport": "true"}

_holds("stringequals", values, x) if x in values

_holds("stringnotequals", values, x) if not x in values

_holds("stringequalsignorecase", values, x) if lower(x) in {lower(v) | some v in values}

_holds("stringnotequalsignorecase", values, x) if not lower(x) in {lower(v) | some v in values}

_holds("bool", values, x) if lower(x) in {lower(v) | some v in values}

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
	object.union(request_context, {
		"kms:calleraccount": root.account,
		"aws:principalaccount": root.account,
		"aws:principalisawsservice": "false",
	}),
	{"aws:principalarn": arn |
		is_string(root.partition)
		arn := concat("", ["arn:", root.partition, ":iam::", root.account, ":root"])
	},
) if is_string(root.account)

root_context(root) := object.union(request_context, {"aws:principalisawsservice": "false"}) if {
	not is_string(root.account)
}

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

# A condition value as message text.
text(v) := v if is_string(v)

text(v) := json.marshal(v) if not is_string(v)
