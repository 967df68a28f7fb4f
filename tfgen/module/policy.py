"""The seed key policy as HCL: main.tf's locals and resources, with the module's inputs wired in."""

from __future__ import annotations

import re
from typing import Any, Final

from tfgen.module import seed
from tfgen.module.hcl import Block, Expr, Template, Value, inline

NOTE: Final = (
    "The key policy is the CloudTrail console's default key policy, statement for statement.",
    "account_id and region: the inputs, or when null the caller's account and the provider's region",
    "(aws_region's `id` is the region name in every provider version; 6.0 deprecates `name`).",
    "source_arn_condition: the aws:SourceArn condition the CloudTrail service statements get",
    "when var.trail_arns is set. cross_account_callers: the seed's own-account string, or the",
    "list of var.cross_account_ids (a conditional cannot mix a string and a list, JSON can).",
    "Statements drop a null Condition so the default output equals the documented policy.",
)


def _hcl_text(value: Any) -> Value:
    """A seed value as HCL: placeholders become interpolations of local.account_id / local.region."""
    if isinstance(value, str):
        substituted = seed.substitute(value, "${local.account_id}", "${local.region}")
        if substituted == value:
            return value
        if re.fullmatch(r"\$\{[a-z_.]+\}", substituted):
            return Expr(substituted[2:-1])
        return Template(substituted)
    if isinstance(value, list):
        return [_hcl_text(item) for item in value]
    if isinstance(value, dict):
        return {k: _hcl_text(v) for k, v in value.items()}
    raise TypeError(f"unexpected seed value {value!r}")


def statement_hcl(statement: dict[str, Any]) -> dict[str, Value]:
    """One seed statement as an HCL object, with the module's inputs wired in."""
    hcl: dict[str, Any] = {k: _hcl_text(v) for k, v in statement.items()}
    sid = statement["Sid"]
    if sid == seed.SID_ADMINISTRATORS:
        others = [a for a in statement["Principal"]["AWS"] if a != seed.ADMINISTRATOR_PLACEHOLDER]
        listed = ", ".join(inline(_hcl_text(a)) for a in others)
        hcl["Principal"] = {"AWS": Expr(f"concat([{listed}], var.key_administrators)")}
    if sid == seed.SID_CROSS_ACCOUNT:
        hcl["Condition"]["StringEquals"]["kms:CallerAccount"] = Expr("local.cross_account_callers")
    if seed.is_cloudtrail_service(statement):
        if "Condition" in statement:
            if "StringEquals" in statement["Condition"]:
                raise ValueError(f"{sid}: aws:SourceArn would replace a StringEquals condition")
            hcl["Condition"] = Expr(
                f"merge({inline(hcl['Condition'])}, local.source_arn_condition)"
            )
        else:
            hcl["Condition"] = Expr(
                "length(var.trail_arns) > 0 ? local.source_arn_condition : null"
            )
    return hcl


def main_blocks() -> list[Block]:
    """main.tf: account and region lookups, the policy in locals, the key and its optional alias."""
    policy: dict[str, Value] = {
        "Version": seed.SEED_POLICY["Version"],
        "Id": seed.SEED_POLICY["Id"],
        "Statement": Expr(
            "[for statement in local.statements : { for key, value in statement : key => value if value != null }]"
        ),
    }
    # Read only when the input is null, so a caller that passes both plans without AWS calls.
    caller = Block(
        "data",
        ("aws_caller_identity", "current"),
        {"count": Expr("var.account_id == null ? 1 : 0")},
    )
    region = Block("data", ("aws_region", "current"), {"count": Expr("var.region == null ? 1 : 0")})
    locals_ = Block(
        "locals",
        attributes={
            "account_id": Expr(
                "coalesce(var.account_id, one(data.aws_caller_identity.current[*].account_id))"
            ),
            "region": Expr("coalesce(var.region, one(data.aws_region.current[*].id))"),
            "source_arn_condition": Expr(
                'length(var.trail_arns) > 0 ? { StringEquals = { "aws:SourceArn" = var.trail_arns } } : {}'
            ),
            "cross_account_callers": Expr(
                "jsondecode(length(var.cross_account_ids) > 0 ? jsonencode(var.cross_account_ids) : jsonencode(local.account_id))"
            ),
            "statements": [statement_hcl(s) for s in seed.SEED_POLICY["Statement"]],
            "policy": policy,
        },
    )
    kms_key = Block(
        "resource",
        ("aws_kms_key", "this"),
        {
            "description": Expr("var.description"),
            "deletion_window_in_days": Expr("var.deletion_window_in_days"),
            "enable_key_rotation": Expr("var.enable_key_rotation"),
            "policy": Expr("jsonencode(local.policy)"),
            "tags": Expr("var.tags"),
        },
    )
    alias = Block(
        "resource",
        ("aws_kms_alias", "this"),
        {
            "count": Expr("var.alias == null ? 0 : 1"),
            "name": Template("alias/${var.alias}"),
            "target_key_id": Expr("aws_kms_key.this.key_id"),
        },
    )
    return [caller, region, locals_, kms_key, alias]
