"""`tfgen bundle build|verify|export`: the rule pack as a (signed) OPA bundle, or a policy set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfgen import bundle_sign, hcp
from tfgen.cli import Subparsers
from tfgen.cli.options import add_rules_argument
from tfgen.errors import InputError
from tfgen.rulepack import RulePack, find_pack, with_extra_rules


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "bundle",
        help="build or verify an OPA bundle of the rule pack, or export it as a policy set",
        description="build: the rule pack as an OPA bundle whose manifest revision is the pack "
        "digest, signed with --signing-key if given. "
        "export: write the rule pack as an HCP Terraform / Terraform Enterprise OPA "
        "policy set (policies.hcl, one policy per rule, the plan read from input.plan). "
        "verify: check a signed OPA bundle's signature and that its files are the rule pack its "
        "manifest revision names.",
    )
    actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    build = actions.add_parser(
        "build",
        help="build the rule pack as an OPA bundle, optionally signed",
        description="`opa build -b` of the rule pack's policy files: manifest revision = the pack "
        "digest, roots declared (so other bundles can be served beside it), and with "
        "--signing-key a .signatures.json that OPA servers check with their `keys` config.",
    )
    build.add_argument(
        "--output",
        type=Path,
        default=Path("tfgen-bundle.tar.gz"),
        help="bundle file to write (default: tfgen-bundle.tar.gz)",
    )
    add_rules_argument(build)
    _add_extra_rules(build)
    build.add_argument(
        "--signing-key",
        type=Path,
        metavar="KEY",
        help="PEM private key file (RS256, ES256), or a file holding the shared secret (HS256)",
    )
    build.add_argument(
        "--signing-alg",
        choices=bundle_sign.ALGORITHMS,
        help="with --signing-key (default: RS256)",
    )
    build.add_argument("--force", action="store_true", help="overwrite an existing --output")
    build.set_defaults(func=run_build)

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
    _add_extra_rules(export)
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


def _add_extra_rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--extra-rules",
        type=Path,
        metavar="DIR",
        help="add an organisation's rules (DIR/<group>/<name>/<name>.rego) to the pack",
    )


def _pack(args: argparse.Namespace) -> RulePack:
    pack = find_pack(args.rules)
    return with_extra_rules(pack, args.extra_rules, args.toolchain) if args.extra_rules else pack


def run_build(args: argparse.Namespace) -> int:
    if args.signing_alg and args.signing_key is None:
        raise InputError("--signing-alg", "needs --signing-key")
    pack = _pack(args)
    algorithm = args.signing_alg or "RS256"
    bundle_sign.build(
        pack,
        args.output,
        key=args.signing_key,
        algorithm=algorithm,
        force=args.force,
        toolchain=args.toolchain,
    )
    signed = f", signed with {algorithm}" if args.signing_key else ", unsigned"
    print(f"wrote {args.output}: rule pack {pack.version}, revision {pack.digest}{signed}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    pack = _pack(args)
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
    result = bundle_sign.verify(
        args.bundle, args.verification_key, args.signing_alg, args.toolchain
    )
    print(
        f"verified {args.bundle}: revision {result.revision}, roots {', '.join(result.roots)}, "
        f"{result.files} files, signed with {args.signing_alg} key id {result.key_id}"
    )
    return 0
