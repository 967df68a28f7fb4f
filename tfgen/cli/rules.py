"""`tfgen rules`: list the rule pack's catalog (id, title, severity, enforcement, fix, references)."""

from __future__ import annotations

import argparse
import sys

from tfgen.cli import Subparsers
from tfgen.cli.options import add_rules_argument
from tfgen.report.catalog import CATALOG_FORMATS, render
from tfgen.rulepack import find_pack


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "rules",
        help="list the rules of the rule pack, from their METADATA",
        description="The rule catalog: id, title, severity, enforcement, resource types, "
        "remediation and references of every rule.",
    )
    parser.add_argument("--format", choices=CATALOG_FORMATS, default="text", help="default: text")
    add_rules_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pack = find_pack(args.rules)
    sys.stdout.write(render(pack.rules, args.format, pack.version))
    return 0
