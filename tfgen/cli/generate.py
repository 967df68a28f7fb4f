"""`tfgen generate`: write the CloudTrail KMS key module."""

from __future__ import annotations

import argparse
from pathlib import Path

from tfgen.cli import Subparsers
from tfgen.errors import InputError
from tfgen.module import DEFAULT_DESCRIPTION, ModuleOptions, generate
from tfgen.module.options import OptionError


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "generate",
        help="write the CloudTrail KMS key Terraform module",
        description=(
            "Write a Terraform module whose aws_kms_key carries the CloudTrail console's default "
            "key policy. Without options the example uses AWS's documented values (account "
            "111122223333, region us-east-1, key administrator user/username)."
        ),
        epilog=(
            "Account values (account id, region, administrators, cross-account ids, trail ARNs, "
            "tags) go into examples/basic, a root module that `tfgen plan DIR/examples/basic "
            "--offline` plans; alias, deletion window, rotation and description become the "
            "module's variable defaults. Files tfgen wrote are regenerated in place; any other "
            "existing file is kept unless --force."
        ),
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="module directory to write"
    )
    parser.add_argument(
        "--account-id", default=ModuleOptions.account_id, metavar="ID", help="12-digit account id"
    )
    parser.add_argument("--region", default=ModuleOptions.region, help="region for kms:ViaService")
    admins = parser.add_mutually_exclusive_group()
    admins.add_argument(
        "--key-administrator",
        action="append",
        dest="key_administrators",
        metavar="ARN",
        help="IAM user/role ARN beside the account root (repeatable)",
    )
    admins.add_argument(
        "--no-key-administrators",
        action="store_const",
        const=[],
        dest="key_administrators",
        help="only the account root administers the key",
    )
    parser.add_argument(
        "--cross-account-id",
        action="append",
        default=[],
        dest="cross_account_ids",
        metavar="ID",
        help="account allowed to decrypt log files (repeatable)",
    )
    parser.add_argument(
        "--trail-arn",
        action="append",
        default=[],
        dest="trail_arns",
        metavar="ARN",
        help="add aws:SourceArn conditions for this trail (repeatable)",
    )
    parser.add_argument("--alias", metavar="NAME", help="alias name without alias/ (default: none)")
    parser.add_argument(
        "--deletion-window",
        type=int,
        default=ModuleOptions.deletion_window_in_days,
        metavar="DAYS",
        help="7 to 30 (default: %(default)s)",
    )
    parser.add_argument(
        "--no-rotation", action="store_true", help="turn yearly key rotation off by default"
    )
    parser.add_argument(
        "--description", default=DEFAULT_DESCRIPTION, metavar="TEXT", help="key description"
    )
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        dest="tags",
        metavar="KEY=VALUE",
        help="tag for the example's key (repeatable)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite files that tfgen did not write"
    )
    parser.set_defaults(func=run)


def _tag(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise InputError(f"--tag {text!r}", "expected KEY=VALUE")
    return name, value


# The flag that sets each ModuleOptions field, for error messages.
_FLAGS = {
    "account_id": "--account-id",
    "region": "--region",
    "key_administrators": "--key-administrator",
    "cross_account_ids": "--cross-account-id",
    "trail_arns": "--trail-arn",
    "alias": "--alias",
    "deletion_window_in_days": "--deletion-window",
    "description": "--description",
    "tags": "--tag",
}


def run(args: argparse.Namespace) -> int:
    administrators = args.key_administrators
    options = ModuleOptions(
        account_id=args.account_id,
        region=args.region,
        key_administrators=None if administrators is None else tuple(administrators),
        cross_account_ids=tuple(args.cross_account_ids),
        trail_arns=tuple(args.trail_arns),
        alias=args.alias,
        deletion_window_in_days=args.deletion_window,
        enable_key_rotation=not args.no_rotation,
        description=args.description,
        tags=tuple(_tag(t) for t in args.tags),
    )
    try:
        result = generate(args.out, options, force=args.force)
    except OptionError as exc:
        raise InputError(f"{_FLAGS[exc.field]} {exc.shown}".strip(), exc.reason) from exc
    written = len(result.written)
    print(
        f"tfgen: {written} file{'' if written == 1 else 's'} written, "
        f"{len(result.unchanged)} unchanged in {args.out}"
    )
    return 0
