"""`tfgen bundle export|verify`: the rule pack for other policy services, and signed bundles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfgen import bundle_sign, hcp
from tfgen.cli import Subparsers
from tfgen.cli.options import add_rules_argument
from tfgen.rulepack import find_pack


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "bundle",
        help="export the rule pack for another policy service, or verify a signed bundle",
        description="export: write the rule pack as an HCP Terraform / Terraform Enterprise OPA "
        "policy set (policies.hcl, one policy per rule, the plan read from input.plan). "
        "verify: check a signed OPA bundle's signature and that its files are the rule pack its "
        "manifest revision names.",
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

    verify = actions.add_parser(
        "verify",
        help="check a signed bundle's signature and digest",
        description="Check the bundle's .signatures.json with the key (by OPA, with the algorithm "
        "given here, never the one the token names) and that its policy files hash to the "
        "manifest revision. Exit 0 if both hold, 2 if not.",
    )
    verify.add_argument("bundle", type=Path, metavar="FILE", help="the bundle (.tar.gz)")
    verify.add_argument(
        "--verification-key",
        type=Path,
        required=True,
        metavar="KEY",
        help="PEM public key file (RS256, ES256), or a file holding the shared secret (HS256)",
    )
    verify.add_argument(
        "--signing-alg", choices=bundle_sign.ALGORITHMS, default="RS256", help="default: RS256"
    )
    verify.set_defaults(func=run_verify)


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


def run_verify(args: argparse.Namespace) -> int:
    result = bundle_sign.verify(args.bundle, args.verification_key, args.signing_alg)
    print(
        f"verified {args.bundle}: revision {result.revision}, roots {', '.join(result.roots)}, "
        f"{result.files} files, signed with {args.signing_alg} key id {result.key_id}"
    )
    return 0
