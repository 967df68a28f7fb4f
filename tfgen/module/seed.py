"""The CloudTrail console's default KMS key policy (AWS documentation), and what the module makes of it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

# Placeholders as AWS writes them in the documented policy.
ACCOUNT_PLACEHOLDER = "aws-account-id"
REGION_PLACEHOLDER = "region"
ADMINISTRATOR_PLACEHOLDER = "arn:aws:iam::aws-account-id:user/username"

# Statement ids, in the documented order.
SID_ADMINISTRATORS = "Enable IAM User Permissions"
SID_ENCRYPT = "Allow CloudTrail to encrypt logs"
SID_DESCRIBE = "Allow CloudTrail to describe key"
SID_DECRYPT = "Allow principals in the account to decrypt log files"
SID_ALIAS = "Allow alias creation during setup"
SID_CROSS_ACCOUNT = "Enable cross account log decryption"

_TRAIL_PATTERN = "arn:aws:cloudtrail:*:aws-account-id:trail/*"

# "Default Key Policy Created in CloudTrail Console", verbatim (the seed file in ../shared/seed).
SEED_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "Key policy created by CloudTrail",
    "Statement": [
        {
            "Sid": SID_ADMINISTRATORS,
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::aws-account-id:root", ADMINISTRATOR_PLACEHOLDER]},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": SID_ENCRYPT,
            "Effect": "Allow",
            "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": _TRAIL_PATTERN}
            },
        },
        {
            "Sid": SID_DESCRIBE,
            "Effect": "Allow",
            "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        },
        {
            "Sid": SID_DECRYPT,
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": ACCOUNT_PLACEHOLDER},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": _TRAIL_PATTERN},
            },
        },
        {
            "Sid": SID_ALIAS,
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:CreateAlias",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": "ec2.region.amazonaws.com",
                    "kms:CallerAccount": ACCOUNT_PLACEHOLDER,
                }
            },
        },
        {
            "Sid": SID_CROSS_ACCOUNT,
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": ACCOUNT_PLACEHOLDER},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": _TRAIL_PATTERN},
            },
        },
    ],
}


def substitute(text: str, account_id: str, region: str) -> str:
    """Replace the account placeholder anywhere and the region inside `ec2.region.amazonaws.com`."""
    text = text.replace(ACCOUNT_PLACEHOLDER, account_id)
    return text.replace(f"ec2.{REGION_PLACEHOLDER}.amazonaws.com", f"ec2.{region}.amazonaws.com")


def _substituted(value: Any, account_id: str, region: str) -> Any:
    if isinstance(value, str):
        return substitute(value, account_id, region)
    if isinstance(value, list):
        return [_substituted(item, account_id, region) for item in value]
    if isinstance(value, dict):
        return {k: _substituted(v, account_id, region) for k, v in value.items()}
    return value


def is_cloudtrail_service(statement: dict[str, Any]) -> bool:
    """Statements whose principal is the CloudTrail service get the `aws:SourceArn` condition."""
    principal = statement.get("Principal", {})
    return isinstance(principal, dict) and principal.get("Service") == ["cloudtrail.amazonaws.com"]


def intended_policy(
    account_id: str,
    region: str,
    key_administrators: Sequence[str] = (),
    cross_account_ids: Sequence[str] = (),
    trail_arns: Sequence[str] = (),
) -> dict[str, Any]:
    """The policy JSON the generated module plans for these inputs (the test oracle)."""
    policy: dict[str, Any] = _substituted(copy.deepcopy(SEED_POLICY), account_id, region)
    for statement in policy["Statement"]:
        sid = statement["Sid"]
        if sid == SID_ADMINISTRATORS:
            root = f"arn:aws:iam::{account_id}:root"
            statement["Principal"]["AWS"] = [root, *key_administrators]
        if trail_arns and is_cloudtrail_service(statement):
            condition = statement.setdefault("Condition", {})
            condition["StringEquals"] = {"aws:SourceArn": list(trail_arns)}
        if sid == SID_CROSS_ACCOUNT and cross_account_ids:
            statement["Condition"]["StringEquals"]["kms:CallerAccount"] = list(cross_account_ids)
    return policy
