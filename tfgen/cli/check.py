"""`tfgen check PLAN...`: evaluate plans against the rule pack and gate on the findings."""

from __future__ import annotations

import argparse
from pathlib import Path

from tfgen.cli import Subparsers, options
from tfgen.gate import Batch


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "check",
        help="evaluate `terraform show -json` plans against the rule pack",
        description="Exit 0: no blocking finding; 1: a blocking (mandatory) finding; 2: any error.",
    )
    parser.add_argument(
        "plans",
        nargs="+",
        metavar="PLAN",
        help="plan JSON file, a directory (the .json files below it, hidden directories left "
        "out), or - for stdin",
    )
    parser.add_argument(
        "--source-dir",
        type=Path,
        help="the directory the plans were made in: findings then point at its .tf file:line, "
        "and its tfgen:ignore comments apply",
    )
    options.add_gate_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pack, config = options.prepare(args)
    return options.run_gate(args, Batch.read(args.plans, args.source_dir), pack, config)
