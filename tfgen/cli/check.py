"""`tfgen check PLAN...`: evaluate plans against the rule pack and gate on the findings."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tfgen.check import check_plans, unevaluated_report
from tfgen.cli import Subparsers
from tfgen.config import ENFORCEMENTS, Config, check_rule_ids, load_config
from tfgen.engines import DEFAULT_TIMEOUT, ENGINES, EngineOptions, open_engine
from tfgen.errors import InputError, TfgenError
from tfgen.model import SEVERITIES, PlanInfo
from tfgen.planfile import STDIN, load_plan
from tfgen.redact import Secrets, redact_plan, redact_report
from tfgen.report import FORMATS, render
from tfgen.rulepack import RulePack, locate
from tfgen.sources import attach_locations
from tfgen.waivers import finalize

# Batches of at least this many plans show a progress bar on a terminal.
PROGRESS_MIN_PLANS = 10
PROGRESS_WIDTH = 30


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "check",
        help="evaluate `terraform show -json` plans against the rule pack",
        description="Exit 0: no blocking finding; 1: a blocking (mandatory) finding; 2: any error.",
    )
    parser.add_argument("plans", nargs="+", metavar="PLAN", help="plan JSON file, or - for stdin")
    parser.add_argument(
        "--source-dir",
        type=Path,
        help="the directory the plans were made in: findings then point at its .tf file:line",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Engine, config, gate and output options, shared by `tfgen check` and `tfgen plan`."""
    parser.add_argument("--engine", choices=ENGINES, default="embedded", help="default: embedded")
    parser.add_argument("--opa-url", help="OPA server for --engine opa (env TFGEN_OPA_URL)")
    parser.add_argument("--opa-token", help="bearer token for the OPA server (env TFGEN_OPA_TOKEN)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for one evaluation (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="--engine docker: leave the container running for the next run",
    )
    parser.add_argument(
        "--compose-file", type=Path, help="--engine docker: compose file (env TFGEN_COMPOSE_FILE)"
    )
    parser.add_argument(
        "--load-pack",
        action="store_true",
        help="--engine opa: upload the rule pack through the policy API first",
    )
    parser.add_argument("--rules", type=Path, help="rule pack directory (env TFGEN_RULES_DIR)")
    parser.add_argument(
        "--config",
        type=Path,
        help="tfgen config file (default: the nearest .tfgen.toml or pyproject.toml [tool.tfgen])",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing --output (or --save-plan)"
    )
    parser.add_argument(
        "--fail-on",
        choices=ENFORCEMENTS,
        help="fail on mandatory findings only (default), or on advisory ones too",
    )
    parser.add_argument(
        "--severity-threshold",
        choices=tuple(reversed(SEVERITIES)),
        help="report and gate only findings of this severity or higher (default: low)",
    )


def prepare(args: argparse.Namespace) -> tuple[RulePack, Config]:
    """What needs no plan: --output, the rule pack and the config with the flags applied."""
    if args.output is not None and args.output.exists() and not args.force:
        raise InputError(str(args.output), "exists; pass --force to overwrite it")
    pack = locate(args.rules)
    if not pack.rules:
        raise InputError(
            str(pack.root), "rule pack has no rules (tfgen/rules/<group>/<name>/<name>.rego)"
        )
    config = load_config(args.config).with_flags(args.fail_on, args.severity_threshold)
    check_rule_ids(config, {rule.rule_id for rule in pack.rules})
    return pack, config


def run(args: argparse.Namespace) -> int:
    if args.plans.count(STDIN) > 1:
        raise InputError(STDIN, "stdin can be read only once")
    pack, config = prepare(args)
    plans: list[tuple[PlanInfo, Mapping[str, Any]]] = []
    errors: list[str] = []
    secrets = Secrets()
    for source in args.plans:
        try:
            info, plan = load_plan(source)
        except InputError as exc:
            errors.append(exc.message)
            continue
        redacted, found = redact_plan(plan, in_place=True)
        secrets |= found
        plans.append((info, redacted))
    source_dirs = {info.path: args.source_dir for info, _ in plans if args.source_dir}
    return evaluate(args, pack, config, plans, errors, secrets, source_dirs)


def evaluate(
    args: argparse.Namespace,
    pack: RulePack,
    config: Config,
    plans: Sequence[tuple[PlanInfo, Mapping[str, Any]]],
    errors: list[str],
    secrets: Secrets,
    source_dirs: Mapping[str, Path],
) -> int:
    """Evaluate redacted plans, locate and finalize findings, print errors, emit the report."""
    options = EngineOptions(
        opa_url=args.opa_url,
        token=args.opa_token,
        timeout=args.timeout,
        keep_running=args.keep_running,
        compose_file=args.compose_file,
        load_pack=args.load_pack,
    )
    report = None
    if plans:
        try:
            engine = open_engine(args.engine, pack, config.rule_data(), options)
        except TfgenError as exc:
            errors.append(exc.message)
        else:
            try:
                report = check_plans(plans, engine, pack, errors, _progress_bar(len(plans)))
            finally:
                engine.close()
    if report is None:
        report = unevaluated_report(args.engine, pack, errors)
    report = attach_locations(report, plans, source_dirs, Path.cwd())
    report = finalize(report, config, dt.date.today())
    # Every secret leaves the report's own strings before any renderer escapes them.
    report = redact_report(report, secrets)
    for error in report.errors:
        print(f"tfgen: error: {error}", file=sys.stderr)
    _emit(render(report, args.format), args.output)
    return report.exit_code


def _progress_bar(total: int) -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr for batches, only when stderr is a terminal."""
    if total < PROGRESS_MIN_PLANS or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = PROGRESS_WIDTH * done // total
        bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
        end = "\n" if done == total else ""
        print(f"\r[{bar}] {done}/{total} plans", end=end, file=sys.stderr, flush=True)

    return show


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = output.resolve()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.fchmod(fd, 0o644)  # a report, not a secret: mkstemp's 0600 would hide it from CI
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        Path(tmp).replace(target)
    except OSError as exc:
        raise InputError(str(output), f"cannot write ({exc.strerror or exc})") from exc
