package tfgen.rules.kms.root_access_test

import data.tfgen.lib.plan
import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.root_access

_admin(principal, action) := {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}

_message(address) := concat("", [address, ": no statement lets the account root administer the key (kms:PutKeyPolicy)"])

_key_arn := "arn:aws:kms:us-east-1:111122223333:key/1"

test_deny_without_root_administration if {
	other_root := _admin({"AWS": "arn:aws:iam::444455556666:root"}, "kms:*")
	bare_other_root := _admin({"AWS": "444455556666"}, "kms:*")
	changes := [
		t.key_with("no_root", [_admin({"AWS": "arn:aws:iam::111122223333:role/admin"}, "kms:*")]),
		t.key_with("root_reads", [_admin({"AWS": t.root}, ["kms:Describe*", "kms:Get*"])]),
		t.key_with("root_denied_only", [object.union(_admin({"AWS": t.root}, "kms:*"), {"Effect": "Deny"})]),
		t.key_with("not_principal", [{"Effect": "Allow", "NotPrincipal": {"AWS": t.root}, "Action": "kms:*"}]),
		object.union(t.key_with("other_account", [other_root]), {"change": {"after": {"arn": _key_arn}}}),
		t.change("aws_kms_key_policy", "p", {"key_id": _key_arn, "policy": t.policy([bare_other_root])}),
	]
	t.pairs(root_access.deny) == {
		["aws_kms_key.no_root", _message("aws_kms_key.no_root")],
		["aws_kms_key.root_reads", _message("aws_kms_key.root_reads")],
		["aws_kms_key.root_denied_only", _message("aws_kms_key.root_denied_only")],
		["aws_kms_key.not_principal", _message("aws_kms_key.not_principal")],
		["aws_kms_key.other_account", _message("aws_kms_key.other_account")],
		["aws_kms_key_policy.p", _message("aws_kms_key_policy.p")],
	} with input as t.plan(changes)
}

test_allow_root_arn_bare_id_or_default_policy if {
	changes := [
		t.key("arn", t.good_key),
		t.key_with("bare_id", [_admin({"AWS": t.account}, "kms:*")]),
		t.key_with("put_only", [_admin({"AWS": [t.root]}, "kms:PutKeyPolicy")]),
		t.key_with("star", [_admin({"AWS": t.root}, "*")]),
		object.union(t.key("owned", t.good_key), {"change": {"after": {"arn": "arn:aws:kms:us-east-1:111122223333:key/1"}}}),
		t.key("default", {}),
		t.change("aws_kms_key_policy", "p", {"key_id": "k", "policy": t.policy([t.root_statement])}),
	]
	root_access.deny == set() with input as t.plan(changes)
}

_deny(fields) := object.union({"Effect": "Deny", "Resource": "*"}, fields)

_denied_message(address, labels) := concat("", [
	address, ": ", labels,
	" denies the account root kms:PutKeyPolicy, which overrides every Allow: no one can administer the key",
])

# An explicit Deny overrides the root's Allow: NotPrincipal leaving one admin, a public
# NotAction Deny, and a Deny naming the bare account id.
test_deny_root_put_key_policy_denied if {
	admin := "arn:aws:iam::111122223333:role/admin"
	changes := [
		t.key_with("one_admin", [
			t.root_statement,
			_deny({"Sid": "OnlyAdmin", "NotPrincipal": {"AWS": admin}, "Action": "kms:PutKeyPolicy"}),
		]),
		t.key_with("not_action", [
			t.root_statement,
			_deny({"Sid": "UseOnly", "Principal": "*", "NotAction": ["kms:Encrypt", "kms:Decrypt"]}),
		]),
		t.key_with("bare_id", [
			t.root_statement,
			_deny({"Sid": "Account", "Principal": {"AWS": t.account}, "Action": "kms:*"}),
		]),
		t.key_with("arn_denied", [
			object.union(t.root_statement, {"Principal": {"AWS": t.account}}),
			_deny({"Sid": "Root", "Principal": {"AWS": t.root}, "Action": "kms:*"}),
		]),
	]
	t.pairs(root_access.deny) == {
		["aws_kms_key.one_admin", _denied_message("aws_kms_key.one_admin", `statement "OnlyAdmin"`)],
		["aws_kms_key.not_action", _denied_message("aws_kms_key.not_action", `statement "UseOnly"`)],
		["aws_kms_key.bare_id", _denied_message("aws_kms_key.bare_id", `statement "Account"`)],
		["aws_kms_key.arn_denied", _denied_message("aws_kms_key.arn_denied", `statement "Root"`)],
	} with input as t.plan(changes)
}

# Denies that do not reach the owner's root: other callers' accounts, NotPrincipal naming
# the root, other actions, a Deny without Resource.
test_allow_root_denies_that_do_not_apply if {
	statements := [
		t.root_statement,
		_deny({"Principal": "*", "Action": "kms:*", "Condition": {"StringNotEquals": {"kms:CallerAccount": t.account}}}),
		_deny({"NotPrincipal": {"AWS": [t.root, "arn:aws:iam::111122223333:role/admin"]}, "Action": "kms:PutKeyPolicy"}),
		_deny({"Principal": "*", "Action": "kms:ScheduleKeyDeletion"}),
		object.remove(_deny({"Principal": "*", "Action": "kms:*"}), ["Resource"]),
		_deny({"Principal": {"AWS": "arn:aws-us-gov:iam::111122223333:root"}, "Action": "kms:*"}),
		_deny({"Principal": "*", "Action": "kms:*", "Condition": {"Bool": {"aws:SecureTransport": false}}}),
	]
	root_access.deny == set() with input as t.plan([object.union(
		t.key_with("k", statements),
		{"change": {"after": {"arn": _key_arn}}},
	)])
}

# A Deny whose condition cannot be decided at plan time keeps the finding and says so.
test_deny_root_undecided_deny if {
	mfa := _deny({
		"Sid": "Mfa", "Principal": "*", "Action": "kms:*",
		"Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
	})
	t.pairs(root_access.deny) == {[
		"aws_kms_key.k",
		concat("", [
			"aws_kms_key.k: whether the account root can administer the key (kms:PutKeyPolicy) could not be decided: ",
			`statement "Mfa" depend on request values unknown at plan time`,
		]),
	]} with input as t.plan([t.key_with("k", [t.root_statement, mfa])])
}

# Statements without Resource (or Action) have no effect; conditions on the root's grant
# count; the partition of the root must be the key's.
test_deny_root_grant_without_effect if {
	other_caller := {"StringEquals": {"kms:CallerAccount": "444455556666"}}
	gov_root := "arn:aws-us-gov:iam::111122223333:root"
	changes := [
		t.key_with("no_resource", [object.remove(t.root_statement, ["Resource"])]),
		t.key_with("no_action", [object.remove(t.root_statement, ["Action"])]),
		t.key_with("other_caller", [object.union(t.root_statement, {"Condition": other_caller})]),
		object.union(
			t.key_with("gov_root", [object.union(t.root_statement, {"Principal": {"AWS": gov_root}})]),
			{"change": {"after": {"arn": _key_arn}}},
		),
		t.change("aws_kms_replica_key", "gov_replica", {
			"arn": "arn:aws:kms:eu-west-1:111122223333:key/1",
			"policy": t.policy([object.union(t.root_statement, {"Principal": {"AWS": gov_root}})]),
		}),
	]
	t.pairs(root_access.deny) == {
		["aws_kms_key.no_resource", _message("aws_kms_key.no_resource")],
		["aws_kms_key.no_action", _message("aws_kms_key.no_action")],
		["aws_kms_key.other_caller", _message("aws_kms_key.other_caller")],
		["aws_kms_key.gov_root", _message("aws_kms_key.gov_root")],
		["aws_kms_replica_key.gov_replica", _message("aws_kms_replica_key.gov_replica")],
	} with input as t.plan(changes)
}

test_allow_root_conditions_that_hold if {
	own := {"StringEquals": {"kms:CallerAccount": t.account}, "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}
	gov_root := "arn:aws-us-gov:iam::111122223333:root"
	changes := [
		t.key_with("own_caller", [object.union(t.root_statement, {"Condition": own})]),
		t.key_with("public_root", [object.union(t.root_statement, {"Principal": "*"})]),
		object.union(
			t.key_with("gov", [object.union(t.root_statement, {"Principal": {"AWS": [gov_root, "111122223333"]}})]),
			{"change": {"after": {"arn": "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1"}}},
		),
	]
	root_access.deny == set() with input as t.plan(changes)
}

_with_regions(changes, regions) := object.union(t.plan(changes), {"configuration": {"provider_config": {name: cfg |
	some i, region in regions
	name := concat("", ["aws.", format_int(i, 10)])
	cfg := {"name": "aws", "expressions": {"region": region}}
}}})

_gov_root := object.union(t.root_statement, {"Principal": {"AWS": "arn:aws-us-gov:iam::111122223333:root"}})

# Without the key's ARN the owner's partition is the plan's (its aws provider regions).
test_deny_root_of_other_partition if {
	gov := [t.key_with("gov", [_gov_root])]
	t.pairs(root_access.deny) == {["aws_kms_key.gov", _message("aws_kms_key.gov")]} with input as _with_regions(
		gov,
		[{"constant_value": "us-east-1"}],
	)
}

test_allow_root_of_plan_partition if {
	gov := [t.key_with("gov", [_gov_root])]
	root_access.deny == set() with input as _with_regions(gov, [{"constant_value": "us-gov-west-1"}])
	gov_and_aws := [{"constant_value": "us-gov-west-1"}, {"constant_value": "us-east-1"}]
	root_access.deny == set() with input as _with_regions(gov, gov_and_aws)
	gov_and_variable := [{"constant_value": "us-gov-west-1"}, {"references": ["var.region"]}]
	root_access.deny == set() with input as _with_regions(gov, gov_and_variable)
}

test_plan_partitions if {
	every case in [
		["cn-north-1", "aws-cn"], ["us-iso-east-1", "aws-iso"], ["us-isob-east-1", "aws-iso-b"],
		["eu-west-1", "aws"], ["us-gov-east-1", "aws-us-gov"],
	] {
		plan.aws_partition == case[1] with input as _with_regions([], [{"constant_value": case[0]}])
	}
	plan.aws_partition == null with input as t.plan([])
}
