"""`tfgen generate`: write the CloudTrail KMS key module."""

from __future__ import annotations

import argparse

from tfgen.cli import Subparsers


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("generate", help="write the CloudTrail KMS key Terraform module")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
