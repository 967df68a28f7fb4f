"""`tfgen baseline PLAN... --output FILE`: record today's findings, so only new ones block."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfgen import gate
from tfgen.baseline import dumps, from_findings
from tfgen.cli import Subparsers, describe, options
from tfgen.fileio import check_target, write_text_atomic


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "baseline",
        help="write the findings of these plans to a baseline file for `check/plan --baseline`",
        description="Evaluates the plans like `tfgen check` and writes one entry per finding "
        "(rule id, address, digest of its cause) as sorted JSON. Waived findings are left to "
        "their waivers. Exit 0: written; 2: any error (nothing written).",
    )
    parser.add_argument("plans", nargs="+", metavar="PLAN", help="plan JSON file, or - for stdin")
    parser.add_argument(
        "--output", type=Path, required=True, metavar="FILE", help="e.g. .tfgen-baseline.json"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing FILE")
    parser.add_argument(
        "--source-dir", type=Path, help="the plans' directory: its tfgen:ignore comments apply"
    )
    options.add_policy_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_target(args.output, force=args.force)
    pack, config = gate.load_policy(
        args.rules, args.config, extra_rules=args.extra_rules, toolchain=args.toolchain
    )
    batch = gate.Batch.read(args.plans, args.source_dir)
    report = gate.run(
        batch,
        pack,
        config,
        engine=args.engine,
        options=options.engine_options(args),
        base=Path.cwd(),
        describe=describe,
    )
    for error in report.errors:
        print(f"tfgen: error: {error}", file=sys.stderr)
    if report.errors:
        return 2
    baseline = from_findings(report.findings)
    write_text_atomic(args.output, dumps(baseline), force=args.force)
    print(f"tfgen: {len(baseline.entries)} finding(s) recorded in {args.output}", file=sys.stderr)
    return 0
