# Builders for rule tests: plans, resource changes and policies. An ordinary library package
# that only tests import: `opa build --ignore=testing` leaves it out of the pack and bundle,
# and scripts/check-coverage.py does not count it.
package tfgen.lib.testing

account := "111122223333"

root := "arn:aws:iam::111122223333:root"

trail_arns := "arn:aws:cloudtrail:*:111122223333:trail/*"

# A plan document with these resource changes and (optionally) configuration.
plan(changes) := {"format_version": "1.2", "resource_changes": changes}

plan_with_config(changes, root_module) := {
	"format_version": "1.2",
	"resource_changes": changes,
	"configuration": {"root_module": root_module},
}

# A managed resource change in the root module.
change(type, name, after) := {
	"address": concat(".", [type, name]),
	"mode": "managed",
	"type": type,
	"name": name,
	"change": {"actions": ["create"], "after": after, "after_unknown": {}},
}

# The same with attributes unknown at plan time.
unknown_change(type, name, after, unknown) := object.union(
	change(type, name, after),
	{"change": {"actions": ["create"], "after": after, "after_unknown": unknown}},
)

key(name, after) := change("aws_kms_key", name, after)

trail(name, after) := change("aws_cloudtrail", name, after)

# A policy JSON string.
policy(statements) := json.marshal({"Version": "2012-10-17", "Statement": statements})

root_statement := {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}

encrypt_statement := {
	"Sid": "Encrypt",
	"Effect": "Allow",
	"Principal": {"Service": "cloudtrail.amazonaws.com"},
	"Action": "kms:GenerateDataKey*",
	"Resource": "*",
	"Condition": {
		"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arns},
		"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"},
	},
}

describe_statement := {
	"Sid": "Describe",
	"Effect": "Allow",
	"Principal": {"Service": "cloudtrail.amazonaws.com"},
	"Action": "kms:DescribeKey",
	"Resource": "*",
	"Condition": {"StringEquals": {"aws:SourceAccount": account}},
}

decrypt_statement := {
	"Sid": "Decrypt",
	"Effect": "Allow",
	"Principal": {"AWS": "*"},
	"Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
	"Resource": "*",
	"Condition": {
		"StringEquals": {"kms:CallerAccount": account},
		"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arns},
	},
}

# A key that passes every rule, for CloudTrail when `cloudtrail_statements` are added.
good_key := {
	"customer_master_key_spec": "SYMMETRIC_DEFAULT",
	"key_usage": "ENCRYPT_DECRYPT",
	"enable_key_rotation": true,
	"is_enabled": true,
	"deletion_window_in_days": 30,
	"policy": policy([root_statement]),
}

cloudtrail_key := object.union(good_key, {"policy": policy(cloudtrail_statements)})

cloudtrail_statements := [root_statement, encrypt_statement, describe_statement, decrypt_statement]

# A good key with this policy statement list.
key_with(name, statements) := key(name, object.union(good_key, {"policy": policy(statements)}))

# The addresses of a result set.
addresses(results) := {r.address | some r in results}

# [address, message] pairs of a result set.
pairs(results) := {[r.address, r.message] | some r in results}
