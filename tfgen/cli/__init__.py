"""Command line: parse arguments, call the core, map TfgenError to exit codes. Nothing else."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TypeAlias

from tfgen import __version__
from tfgen.errors import TfgenError

# A string: argparse._SubParsersAction is not subscriptable at run time on Python 3.11.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _version_text() -> str:
    from tfgen.terraform import Terraform
    from tfgen.toolchain import opa_binary, opa_version, pins

    lines = [f"tfgen {__version__}"]
    try:
        opa = opa_binary()
        lines.append(f"opa {opa_version(opa)} ({opa}; pinned {pins()['opa']})")
    except TfgenError as exc:
        lines.append(f"opa unavailable: {exc.message}")
    try:
        tf = Terraform.find()
        lines.append(f"terraform {tf.version()} ({' '.join(tf.command)})")
    except TfgenError as exc:
        lines.append(f"terraform unavailable: {exc.message}")
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest, nargs=0, help="print tfgen, OPA and Terraform versions"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(_version_text())
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tfgen", description=__doc__)
    parser.add_argument("--version", action=_VersionAction)
    sub: Subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _register_all(sub)
    return parser


def _register_all(sub: Subparsers) -> None:
    """Each subcommand module adds its parser and sets `func` to a callable returning an exit code."""
    from tfgen.cli import check, generate, opa, plan

    for module in (generate, check, plan, opa):
        module.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except TfgenError as exc:
        print(f"tfgen: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tfgen: interrupted", file=sys.stderr)
        return 130
    return code
