# Which conditions really restrict a grant (concrete values for their operator), and when a
# public Allow is restricted to accounts by a Deny.
package tfgen.lib.policy

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
	positive := _negations[c.base]
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

# Negated operators and the positive operator they negate.
_negations := {
	"stringnotequals": "stringequals",
	"stringnotequalsignorecase": "stringequalsignorecase",
	"stringnotlike": "stringlike",
	"arnnotequals": "arnequals",
	"arnnotlike": "arnlike",
}
