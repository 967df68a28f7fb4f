"""Command line: parse arguments, call the core, map TfgenError to exit codes. Nothing else."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

from tfgen import __version__
from tfgen.errors import InputError, TfgenError, ToolchainError
from tfgen.toolchain import Toolchain, default_cache_dir

# A string: argparse._SubParsersAction is not subscriptable at run time on Python 3.11.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

DESCRIPTION = (
    "Generate the CloudTrail KMS key Terraform module, and gate Terraform plans with the OPA rule "
    "pack for KMS keys and CloudTrail encryption. Exit codes: 0 pass, 1 blocking finding, 2 error."
)


# Core errors name parameters; the user gave flags (or the variables behind them).
# The subcommands, each a module of this package, in the order `tfgen --help` lists them.
COMMANDS = ("generate", "check", "plan", "baseline", "opa", "rules", "bundle")
_FLAGS = {"timeout": "--timeout", "engine": "--engine", "url": "--opa-url"}
_REASONS = {"url": "the opa engine needs --opa-url or TFGEN_OPA_URL"}
# Toolchain settings come from these variables (see toolchain()).
_VARIABLES = {"opa_bin": "TFGEN_OPA_BIN"}


def describe(exc: TfgenError) -> str:
    """An error's one line, in the command line's words."""
    if isinstance(exc, InputError) and exc.source in _FLAGS:
        return f"{_FLAGS[exc.source]}: {_REASONS.get(exc.source, exc.reason)}"
    if isinstance(exc, ToolchainError) and exc.parameter in _VARIABLES:
        name, variable = exc.parameter, _VARIABLES[exc.parameter]
        text = exc.message.replace(f"{name}=", f"{variable}=")
        return text.replace(f"set {name} ", f"set {variable} ")
    return exc.message


def env_default(name: str) -> str | None:
    """A flag's default from the environment: the variable's value, unless unset or empty."""
    return os.environ.get(name) or None


def env_path(name: str) -> Path | None:
    value = env_default(name)
    return Path(value) if value else None


def toolchain() -> Toolchain:
    """The toolchain from TFGEN_OPA_BIN, TFGEN_CACHE_DIR and TFGEN_PROVIDER_MIRROR (unset: tfgen's
    defaults); every command gets it as its `toolchain` default."""
    return Toolchain(
        opa_bin=env_path("TFGEN_OPA_BIN"),
        cache_dir=env_path("TFGEN_CACHE_DIR") or default_cache_dir(),
        provider_mirror=env_path("TFGEN_PROVIDER_MIRROR"),
    )


def _version_text() -> str:
    from tfgen.rulepack import find_pack
    from tfgen.terraform import Terraform
    from tfgen.toolchain import opa_version, pins
    from tfgen.wasmbuild import policy_origin

    tools = toolchain()
    lines = [f"tfgen {__version__}"]
    try:
        lines.append(f"policy: {policy_origin(find_pack(), tools)}")
    except TfgenError as exc:
        lines.append(f"policy unavailable: {describe(exc)}")
    try:
        opa = tools.opa()
        lines.append(f"opa {opa_version(opa)} ({opa}; pinned {pins()['opa']})")
    except TfgenError as exc:
        lines.append(f"opa unavailable: {describe(exc)}")
    try:
        tf = Terraform.find(env_default("TFGEN_TERRAFORM"), os.environ)
        lines.append(f"terraform {tf.version()} ({' '.join(tf.command)})")
    except TfgenError as exc:
        lines.append(f"terraform unavailable: {exc.message}")
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest, nargs=0, help="print tfgen, policy, OPA and Terraform versions"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(_version_text())
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, only the subcommand they name is imported and added."""
    parser = _Parser(prog="tfgen", description=DESCRIPTION)
    parser.add_argument("--version", action=_VersionAction)
    parser.set_defaults(toolchain=toolchain())
    sub: Subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for command in (named,) if named in COMMANDS else COMMANDS:
        # Each subcommand module adds its parser and sets `func` to a callable returning an exit
        # code; a check does not pay for importing the generator, Terraform or bundle code.
        importlib.import_module(f"tfgen.cli.{command}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(arguments).parse_args(arguments)
    try:
        code: int = args.func(args)
    except TfgenError as exc:
        print(f"tfgen: error: {describe(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tfgen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug must still fail closed: exit 2, never 0 or 1
        if os.environ.get("TFGEN_DEBUG"):
            traceback.print_exc()
        reason = " ".join(str(exc).split())[:300]
        print(
            f"tfgen: internal error: {type(exc).__name__}: {reason} (TFGEN_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 2
    return code
