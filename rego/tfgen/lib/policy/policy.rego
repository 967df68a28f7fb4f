# METADATA
# description: |
#   IAM key-policy normalisation: a policy JSON string becomes a list of statements whose
#   principals, actions and conditions have one shape (strings or arrays, any case), plus the
#   predicates rules share (grants, public principals, account roots, concrete conditions).
package tfgen.lib.policy

cloudtrail_service := "cloudtrail.amazonaws.com"

trail_context_key := "kms:encryptioncontext:aws:cloudtrail:arn"

# {"state": "ok", "statements": [...]} for a valid policy, else {"state": "invalid", "reason"}.
parse(text) := _document(json.unmarshal(text)) if {
	json.is_valid(text)
} else := {"state": "invalid", "reason": "the policy is not valid JSON"}

_document(doc) := {"state": "ok", "statements": [_statement(i, s) | some i, s in raw]} if {
	raw := _statement_list(object.get(doc, "Statement", null))
	count(raw) > 0
	every s in raw {
		_valid_statement(s)
	}
} else := {"state": "invalid", "reason": "the policy has no valid Statement list"}

_statement_list(s) := s if is_array(s)

_statement_list(s) := [s] if is_object(s)

_valid_statement(s) if {
	is_object(s)
	s.Effect in {"Allow", "Deny"}
	count({"Action", "NotAction"} & _keys(s)) == 1
	count({"Principal", "NotPrincipal"} & _keys(s)) == 1
}

_keys(obj) := {k | some k, _ in obj}

_statement(i, s) := {
	"index": i,
	"label": _label(i, s),
	"effect": s.Effect,
	"not_principal": "NotPrincipal" in _keys(s),
	"public": _is_public(s, principal),
	"aws": {p | some p in _strings(_field(principal, "AWS"))},
	"services": {lower(p) | some p in _strings(_field(principal, "Service"))},
	"not_action": "NotAction" in _keys(s),
	"actions": {lower(a) | some a in _strings(object.get(s, "Action", object.get(s, "NotAction", [])))},
	"conditions": _conditions(object.get(s, "Condition", {})),
} if {
	principal := object.get(s, "Principal", object.get(s, "NotPrincipal", null))
}

# How messages name a statement: its Sid, else its position.
_label(i, s) := concat("", ["statement \"", s.Sid, "\""]) if {
	is_string(s.Sid)
	s.Sid != ""
} else := concat("", ["Statement[", format_int(i, 10), "]"])

_field(principal, name) := object.get(principal, name, []) if is_object(principal)

_field(principal, _) := [] if not is_object(principal)

# Any NotPrincipal is public: it names who is excluded, never who is allowed.
_is_public(s, _) if "NotPrincipal" in _keys(s)

_is_public(s, principal) if {
	not "NotPrincipal" in _keys(s)
	_public(principal)
}

_is_public(s, principal) := false if {
	not "NotPrincipal" in _keys(s)
	not _public(principal)
}

_public("*")

_public(principal) if "*" in _strings(_field(principal, "AWS"))

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

# The statement allows `action` (lower case, e.g. "kms:decrypt").
grants(stmt, action) if {
	stmt.effect == "Allow"
	not stmt.not_action
	some pattern in stmt.actions
	glob.match(pattern, null, action)
}

grants(stmt, action) if {
	stmt.effect == "Allow"
	stmt.not_action
	every pattern in stmt.actions {
		not glob.match(pattern, null, action)
	}
}

# The statement allows every KMS action: "*", "kms:*" or a NotAction list.
grants_all(stmt) if {
	stmt.effect == "Allow"
	some pattern in stmt.actions
	pattern in {"*", "kms:*"}
	not stmt.not_action
}

grants_all(stmt) if {
	stmt.effect == "Allow"
	stmt.not_action
}

# The account id of a root principal: arn:aws:iam::ID:root or the bare ID.
root_account(principal) := m[1] if {
	some m in regex.find_all_string_submatch_n(`^arn:aws[a-z-]*:iam::([0-9]{12}):root$`, principal, 1)
}

root_account(principal) := principal if regex.match(`^[0-9]{12}$`, principal)

account_restrictions := {
	"kms:calleraccount",
	"aws:principalaccount",
	"aws:principalorgid",
	"aws:sourceaccount",
	"aws:principalarn",
}

# A condition that really narrows the request: a positive string/ARN operator, not
# IfExists, not ForAllValues (true when the key is absent), and no wildcard value under a
# Like operator (StringEquals takes "*" literally).
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

# For ARN-valued keys a Like pattern is concrete when its account field is.
_concrete_value(c, v) if {
	is_string(v)
	_like(c.base)
	c.key in _arn_keys
	account := split(v, ":")[4]
	account != ""
	not _wildcard(account)
}

_arn_keys := {"aws:principalarn", "aws:sourcearn"}

_like(base) if base in {"stringlike", "arnlike"}

_wildcard(v) if contains(v, "*")

_wildcard(v) if contains(v, "?")

# The statement carries a concrete condition on one of `keys`.
restricted_by(stmt, keys) if {
	some c in stmt.conditions
	c.key in keys
	concrete(c)
}

# The CloudTrail encryption-context conditions of a statement (positive operators only).
trail_context_conditions(stmt) := [c |
	some c in stmt.conditions
	c.key == trail_context_key
	_positive(c)
]

# A trail ARN pattern names one account: arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME
# with a 12-digit ACCOUNT.
account_specific_trail_arn(v) if {
	is_string(v)
	parts := split(v, ":")
	count(parts) == 6
	parts[0] == "arn"
	parts[2] == "cloudtrail"
	regex.match(`^[0-9]{12}$`, parts[4])
	startswith(parts[5], "trail/")
}

# The statement is an Allow to the CloudTrail service principal.
cloudtrail_statement(stmt) if {
	stmt.effect == "Allow"
	not stmt.not_principal
	cloudtrail_service in stmt.services
}

# --- CloudTrail grants --------------------------------------------------------------------

# Allow statements that let CloudTrail call `action`.
cloudtrail_grants(statements, action) := [stmt |
	some stmt in statements
	cloudtrail_statement(stmt)
	grants(stmt, action)
]

# Problems with CloudTrail's kms:GenerateDataKey* grant (KMS-020), one object per problem.
encrypt_problems(statements) := {_missing("kms:GenerateDataKey*")} if {
	count(cloudtrail_grants(statements, "kms:generatedatakey")) == 0
}

encrypt_problems(statements) := {problem |
	some stmt in cloudtrail_grants(statements, "kms:generatedatakey")
	not _trail_scoped(stmt)
	problem := {"statement": stmt.label, "message": _scope_message(stmt)}
} if {
	count(cloudtrail_grants(statements, "kms:generatedatakey")) > 0
}

# The grant is conditioned on kms:EncryptionContext:aws:cloudtrail:arn with only
# account-specific trail ARNs.
_trail_scoped(stmt) if {
	some c in trail_context_conditions(stmt)
	every v in c.values {
		_scoped_value(c, v)
	}
}

# StringEquals/ArnEquals take * literally: such a value matches no trail.
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

_missing(action) := {"statement": "", "message": concat("", ["no statement allows cloudtrail.amazonaws.com ", action])}

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

# Problems with CloudTrail's kms:DescribeKey grant (KMS-021).
describe_problems(statements) := {_missing("kms:DescribeKey")} if {
	count(cloudtrail_grants(statements, "kms:describekey")) == 0
} else := set()

# The trail ARN patterns of well-scoped encrypt grants.
trail_patterns(statements) := {v |
	some stmt in cloudtrail_grants(statements, "kms:generatedatakey")
	_trail_scoped(stmt)
	some c in trail_context_conditions(stmt)
	some v in c.values
}

# A condition value as message text.
text(v) := v if is_string(v)

text(v) := json.marshal(v) if not is_string(v)
