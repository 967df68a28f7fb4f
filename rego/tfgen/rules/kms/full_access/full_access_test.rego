package tfgen.rules.kms.full_access_test

import data.tfgen.lib.testing as t
import data.tfgen.rules.kms.full_access

_admin(sid, principal, action) := {
	"Sid": sid,
	"Effect": "Allow",
	"Principal": principal,
	"Action": action,
	"Resource": "*",
}

test_warn_full_access_to_non_roots if {
	statements := [
		_admin("Mixed", {"AWS": [t.root, "arn:aws:iam::111122223333:user/username"]}, "kms:*"),
		_admin("Star", {"AWS": "arn:aws:iam::111122223333:role/admin"}, ["*"]),
		_admin("Service", {"Service": "cloudtrail.amazonaws.com"}, "KMS:*"),
		_admin("Public", {"AWS": "*"}, "kms:*"),
		object.union(
			object.remove(_admin("NotAction", {"AWS": "arn:aws:iam::111122223333:role/ops"}, ""), ["Action"]),
			{"NotAction": "kms:ScheduleKeyDeletion"},
		),
		{"Sid": "NotPrincipal", "Effect": "Allow", "NotPrincipal": {"AWS": t.root}, "Action": "kms:*", "Resource": "*"},
	]
	t.pairs(full_access.warn) == {
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "Mixed" grants full KMS access to arn:aws:iam::111122223333:user/username`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "Star" grants full KMS access to arn:aws:iam::111122223333:role/admin`,
		],
		["aws_kms_key.k", `aws_kms_key.k: statement "Service" grants full KMS access to cloudtrail.amazonaws.com`],
		["aws_kms_key.k", `aws_kms_key.k: statement "Public" grants full KMS access to *`],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "NotAction" grants full KMS access to arn:aws:iam::111122223333:role/ops`,
		],
		[
			"aws_kms_key.k",
			`aws_kms_key.k: statement "NotPrincipal" grants full KMS access to every principal outside NotPrincipal`,
		],
	} with input as t.plan([t.key_with("k", statements)])
}

test_allow_roots_and_scoped_actions if {
	statements := [
		_admin("Root", {"AWS": [t.root, "444455556666"]}, "kms:*"),
		_admin("Admin", {"AWS": "arn:aws:iam::111122223333:role/admin"}, ["kms:Describe*", "kms:Put*", "kms:Create*"]),
		{"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"},
	]
	full_access.warn == set() with input as t.plan([t.key_with("k", statements)])
}

# "Principal": "*" is {"AWS": "*"}; a statement without Resource grants nothing.
test_warn_plain_star_principal if {
	star := {
		"Sid": "Star", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
		"Condition": {"StringEquals": {"kms:CallerAccount": t.account}},
	}
	admin := "arn:aws:iam::111122223333:role/admin"
	no_resource := {"Sid": "NoResource", "Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*"}
	t.pairs(full_access.warn) == {[
		"aws_kms_key.k",
		`aws_kms_key.k: statement "Star" grants full KMS access to *`,
	]} with input as t.plan([t.key_with("k", [t.root_statement, star, no_resource])])
}
