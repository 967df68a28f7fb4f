"""`tfgen bundle export`: the rule pack in a form another policy service loads."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfgen import hcp
from tfgen.cli import Subparsers
from tfgen.cli.options import add_rules_argument
from tfgen.rulepack import find_pack


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "bundle",
        help="export the rule pack for another policy service",
        description="export: write the rule pack as an HCP Terraform / Terraform Enterprise OPA "
        "policy set (policies.hcl, one policy per rule, the plan read from input.plan).",
    )
    actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    export = actions.add_parser(
        "export",
        help="write the rule pack as an HCP Terraform policy set",
        description="Write the rule pack as an OPA policy set for HCP Terraform and Terraform "
        "Enterprise: policies.hcl with one policy per rule (enforcement_level from its METADATA), "
        "the pack's policy files, and one wrapper package per rule that reads the plan from "
        "input.plan.",
    )
    export.add_argument(
        "--hcp-policy-set",
        type=Path,
        required=True,
        metavar="DIR",
        help="directory to write the policy set into (new or empty, unless --force)",
    )
    add_rules_argument(export)
    export.add_argument(
        "--force", action="store_true", help="write into a non-empty DIR, overwriting its files"
    )
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    pack = find_pack(args.rules)
    result = hcp.export(pack, args.hcp_policy_set, force=args.force)
    policies = len(hcp.policies(pack))
    print(f"wrote {args.hcp_policy_set}: {policies} policies, {len(result.written)} files")
    if result.foreign:
        names = ", ".join(str(p.relative_to(args.hcp_policy_set)) for p in result.foreign[:5])
        more = " ..." if len(result.foreign) > 5 else ""
        print(
            f"tfgen: note: {args.hcp_policy_set} also holds {len(result.foreign)} files tfgen did "
            f"not write, which HCP Terraform loads too: {names}{more}",
            file=sys.stderr,
        )
    return 0
