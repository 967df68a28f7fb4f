"""The module's `terraform test` files: the intended policy per input, and every validation block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tfgen.module import seed
from tfgen.module.hcl import Block, Expr, Value
from tfgen.module.interface import TESTS_TERRAFORM_MIN
from tfgen.module.options import (
    DELETION_WINDOW,
    MAX_DESCRIPTION,
    SEED_ACCOUNT_ID,
    SEED_ADMINISTRATOR,
    SEED_REGION,
)

NOTE: Final = (
    f"Terraform >= {TESTS_TERRAFORM_MIN}: the AWS provider is a mock_provider, whose schema and",
    "validation come from the installed provider and which never calls AWS, so these tests run",
    "offline on any provider version versions.tf admits. Run: terraform init && terraform test",
)

SEED_INPUTS: Final[Mapping[str, Any]] = {
    "account_id": SEED_ACCOUNT_ID,
    "region": SEED_REGION,
    "key_administrators": [SEED_ADMINISTRATOR],
}
TRAIL_ARNS: Final = (
    "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events",
    "arn:aws:cloudtrail:eu-west-1:111122223333:trail/data-events",
)
CROSS_ACCOUNT_IDS: Final = ("444455556666", "777788889999")

_LOW, _HIGH = DELETION_WINDOW
BAD_INPUTS: Final[tuple[tuple[str, str, Value], ...]] = (
    ("account_id_not_12_digits", "account_id", "11112222333"),
    ("region_malformed", "region", "US-EAST-1"),
    ("key_administrator_not_iam", "key_administrators", ["arn:aws:s3:::bucket"]),
    ("cross_account_id_malformed", "cross_account_ids", ["4444-5555-6666"]),
    ("trail_arn_malformed", "trail_arns", ["arn:aws:cloudtrail:us-east-1:111122223333:bucket/x"]),
    ("deletion_window_too_short", "deletion_window_in_days", _LOW - 1),
    ("deletion_window_too_long", "deletion_window_in_days", _HIGH + 1),
    ("deletion_window_fractional", "deletion_window_in_days", Expr(f"{_LOW}.5")),
    ("description_too_long", "description", Expr(f'format("%{MAX_DESCRIPTION + 1}s", "")')),
    ("alias_with_prefix", "alias", "alias/cloudtrail"),
    ("alias_reserved", "alias", "aws/cloudtrail"),
)


# What the mocked aws_caller_identity and aws_region data sources return.
PROVIDER_ACCOUNT_ID: Final = "444455556666"
PROVIDER_REGION: Final = "eu-west-1"


def _prelude(mock_data: bool = False) -> list[Block]:
    provider = Block("mock_provider", ("aws",))
    if mock_data:
        provider.block(
            "mock_data", "aws_caller_identity", defaults={"account_id": PROVIDER_ACCOUNT_ID}
        )
        provider.block("mock_data", "aws_region", defaults={"id": PROVIDER_REGION})
    return [provider, Block("variables", attributes=dict(SEED_INPUTS))]


def _policy_run(
    name: str, extra: Mapping[str, Value], intended: Mapping[str, Any] | None = None
) -> Block:
    """A plan whose key policy must equal the intended one, given as data in the run's variables."""
    run = Block("run", (name,), {"command": Expr("plan")})
    expected = seed.intended_policy(**{**SEED_INPUTS, **(intended or extra)})
    run.block("variables", **extra, expected_policy=expected)
    run.block(
        "assert",
        condition=Expr("jsondecode(aws_kms_key.this.policy) == var.expected_policy"),
        error_message=f"The planned key policy is not the intended one ({name}).",
    )
    return run


def policy_blocks() -> list[Block]:
    """tests/policy.tftest.hcl: the seed policy, each extension, provider lookups, key settings, outputs."""
    defaults = Block("run", ("key_defaults",), {"command": Expr("plan")})
    defaults.block(
        "assert",
        condition=Expr("aws_kms_key.this.enable_key_rotation == true"),
        error_message="Key rotation must be on by default.",
    )
    defaults.block(
        "assert",
        condition=Expr("length(aws_kms_alias.this) == 0"),
        error_message="No alias is created without var.alias.",
    )
    alias = Block("run", ("alias",), {"command": Expr("plan")})
    alias.block("variables", alias="cloudtrail", deletion_window_in_days=_LOW)
    alias.block(
        "assert",
        condition=Expr('aws_kms_alias.this[0].name == "alias/cloudtrail"'),
        error_message="The alias must be alias/<var.alias>.",
    )
    alias.block(
        "assert",
        condition=Expr(f"aws_kms_key.this.deletion_window_in_days == {_LOW}"),
        error_message="The deletion window must come from var.deletion_window_in_days.",
    )
    # Applied against the mock provider, so computed attributes (ARNs, ids) have values.
    outputs = Block("run", ("outputs",), {"command": Expr("apply")})
    outputs.block("variables", alias="cloudtrail")
    for output, value in (
        ("key_arn", "aws_kms_key.this.arn"),
        ("key_id", "aws_kms_key.this.key_id"),
        ("key_policy", "aws_kms_key.this.policy"),
        ("alias_arn", "aws_kms_alias.this[0].arn"),
        ("alias_name", '"alias/cloudtrail"'),
    ):
        outputs.block(
            "assert",
            condition=Expr(f"output.{output} == {value}"),
            error_message=f"output.{output} must be {value}.",
        )
    return [
        *_prelude(mock_data=True),
        _policy_run("seed_policy", {}),
        _policy_run("trail_arns", {"trail_arns": list(TRAIL_ARNS)}),
        _policy_run("cross_account_ids", {"cross_account_ids": list(CROSS_ACCOUNT_IDS)}),
        _policy_run(
            "account_and_region_from_provider",
            {"account_id": None, "region": None},
            {"account_id": PROVIDER_ACCOUNT_ID, "region": PROVIDER_REGION},
        ),
        defaults,
        alias,
        outputs,
    ]


def validation_blocks() -> list[Block]:
    """tests/validation.tftest.hcl: each bad input fails its own variable's validation."""
    runs = []
    for name, variable, value in BAD_INPUTS:
        run = Block(
            "run", (name,), {"command": Expr("plan"), "expect_failures": [Expr(f"var.{variable}")]}
        )
        run.block("variables", **{variable: value})
        runs.append(run)
    return [*_prelude(), *runs]
