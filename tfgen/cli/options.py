"""The engine, config, gate and output flags `tfgen check` and `tfgen plan` share, and their use."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tfgen import gate
from tfgen.cli import describe, env_default, env_path
from tfgen.config import ENFORCEMENTS, Config
from tfgen.engines import DEFAULT_TIMEOUT, ENGINES, EngineOptions
from tfgen.errors import InputError
from tfgen.evaluate import default_jobs
from tfgen.fileio import STDOUT, check_target, open_text_atomic
from tfgen.model import SEVERITIES, Report
from tfgen.report import FORMATS, write
from tfgen.report.text import verdict_line
from tfgen.rulepack import RulePack

# Batches of at least this many plans show a progress bar on a terminal.
PROGRESS_MIN_PLANS = 10
PROGRESS_WIDTH = 30


def add_rules_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules",
        type=Path,
        default=env_path("TFGEN_RULES_DIR"),
        help="rule pack directory (env TFGEN_RULES_DIR)",
    )


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """The engine, rule pack and config options: what evaluating plans needs."""
    parser.add_argument("--engine", choices=ENGINES, default="embedded", help="default: embedded")
    parser.add_argument(
        "--opa-url",
        action=_UrlsAction,
        default=env_default("TFGEN_OPA_URL"),
        help="OPA server for --engine opa (env TFGEN_OPA_URL); repeat it or separate URLs with "
        "commas for several servers of one pack: requests go to each in turn, and one a server "
        "refused or dropped goes to another",
    )
    parser.add_argument(
        "--allow-revision-change",
        action="store_true",
        help="--engine opa: accept plans judged by different bundle revisions in one run (the "
        "pack bundle itself must still be the local rule pack)",
    )
    parser.add_argument(
        "--opa-token",
        default=env_default("TFGEN_OPA_TOKEN"),
        help="bearer token for the OPA server (env TFGEN_OPA_TOKEN)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for one evaluation (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="plans evaluated at once while the next one is read, results in input order "
        f"(default: the cores, here {default_jobs()})",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="--engine docker: leave the container running for the next run",
    )
    parser.add_argument(
        "--compose-file",
        type=Path,
        default=env_path("TFGEN_COMPOSE_FILE"),
        help="--engine docker: compose file (env TFGEN_COMPOSE_FILE)",
    )
    parser.add_argument(
        "--load-pack",
        action="store_true",
        help="--engine opa: upload the rule pack through the policy API first",
    )
    add_rules_argument(parser)
    parser.add_argument(
        "--config",
        type=Path,
        help="tfgen config file (default: the nearest .tfgen.toml or pyproject.toml [tool.tfgen])",
    )
    parser.add_argument(
        "--extra-rules",
        type=Path,
        metavar="DIR",
        help="add an organisation's rules (DIR/<group>/<name>/<name>.rego, same METADATA) to the "
        "pack; compiled with OPA and cached (config: extra_rules)",
    )


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """Engine, config, gate and output options, shared by `tfgen check` and `tfgen plan`."""
    add_policy_arguments(parser)
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="findings this baseline (from `tfgen baseline`) holds are reported as baselined and "
        "do not block; new ones do; entries no longer found are reported as resolved",
    )
    parser.add_argument(
        "--only-rule",
        action="append",
        default=[],
        metavar="ID",
        help="report only this rule's findings (repeatable); the others are listed as skipped",
    )
    parser.add_argument(
        "--skip-rule",
        action="append",
        default=[],
        metavar="ID",
        help="do not report this rule's findings (repeatable); listed as skipped in the report",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="report format on stdout, and for --output PATH without a format (default: text)",
    )
    parser.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="[FORMAT=]PATH",
        help="write a report here instead of stdout; repeat for several formats from one "
        "evaluation (e.g. --output sarif=tfgen.sarif --output markdown=review.md); - is stdout. "
        "The one-line verdict then goes to stderr",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing --output (or --save-plan)"
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print nothing but errors (reports still go to --output files)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report and verdict: auto (default) on a terminal, unless NO_COLOR "
        "is set; FORCE_COLOR forces it",
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


class _UrlsAction(argparse.Action):
    """--opa-url given several times: the URLs joined by commas (the environment's value goes)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        given = getattr(namespace, "_opa_urls", [])
        given.append(str(values))
        namespace._opa_urls = given
        setattr(namespace, self.dest, ",".join(given))


@dataclass(frozen=True)
class Target:
    """One report: its format, and its file (None: stdout)."""

    fmt: str
    path: Path | None


_FORMAT_PREFIX = re.compile(r"([a-z]+)=(.*)", re.DOTALL)


def output_targets(args: argparse.Namespace) -> list[Target]:
    """The reports to write: each --output ([FORMAT=]PATH), or --format on stdout without one."""
    values: list[str] = [str(v) for v in args.output]
    if not values:
        return [] if args.quiet else [Target(args.format, None)]
    targets: list[Target] = []
    for value in values:
        match = _FORMAT_PREFIX.fullmatch(value)
        fmt, path = (match.group(1), match.group(2)) if match else (args.format, value)
        if fmt not in FORMATS:
            raise InputError(
                "--output", f"{value}: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"
            )
        if not path:
            raise InputError("--output", f"{value}: no path after the format")
        targets.append(Target(fmt, None if path == STDOUT else Path(path)))
    if sum(1 for t in targets if t.path is None) > 1:
        raise InputError("--output", "only one report can go to stdout (-)")
    files = [t.path.resolve() for t in targets if t.path is not None]
    if len(set(files)) < len(files):
        raise InputError("--output", "two reports name the same file")
    return targets


def use_color(choice: str, stream: TextIO, env: Mapping[str, str]) -> bool:
    """--color, then NO_COLOR (no-color.org), then FORCE_COLOR, then whether `stream` is a terminal."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return env.get("TERM") != "dumb" and stream.isatty()


def prepare(args: argparse.Namespace) -> tuple[RulePack, Config]:
    """What needs no plan: the report targets, the rule pack and the config with the flags applied."""
    for target in output_targets(args):
        if target.path is not None:
            check_target(target.path, force=args.force)
    return gate.load_policy(
        args.rules,
        args.config,
        args.fail_on,
        args.severity_threshold,
        only_rules=args.only_rule,
        skip_rules=args.skip_rule,
        baseline_file=args.baseline,
        extra_rules=args.extra_rules,
        toolchain=args.toolchain,
    )


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """How to reach or run the chosen engine, from the policy arguments."""
    return EngineOptions(
        opa_url=args.opa_url,
        token=args.opa_token or _generated_token(args),
        timeout=args.timeout,
        keep_running=args.keep_running,
        compose_file=args.compose_file,
        compose_env=dict(os.environ),
        load_pack=args.load_pack,
        jobs=args.jobs if args.jobs is not None else default_jobs(),
        allow_revision_change=args.allow_revision_change,
        toolchain=args.toolchain,
    )


def run_gate(args: argparse.Namespace, batch: gate.Batch, pack: RulePack, config: Config) -> int:
    """Run the gate on the batch, print its errors, write the report; the exit code."""
    report = gate.run(
        batch,
        pack,
        config,
        engine=args.engine,
        options=engine_options(args),
        today=dt.date.today(),
        base=Path.cwd(),
        progress=progress_bar(len(batch)),
        describe=describe,
    )
    # A text report on the terminal that is also stderr lists the errors itself: say them once.
    if not (_text_on_stdout(args) and _stdout_is_stderr()):
        for error in report.errors:
            print(f"tfgen: error: {error}", file=sys.stderr)
    write_reports(args, report)
    return report.exit_code


def _text_on_stdout(args: argparse.Namespace) -> bool:
    return any(t.path is None and t.fmt == "text" for t in output_targets(args))


def _stdout_is_stderr() -> bool:
    """Both streams are one terminal (what a user at a shell sees), not pipes or files."""
    try:
        if not (sys.stdout.isatty() and sys.stderr.isatty()):
            return False
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno()))
    except (OSError, ValueError):
        return False


def write_reports(args: argparse.Namespace, report: Report) -> None:
    """Every requested report, then the verdict on stderr unless a text report on stdout has it."""
    targets = output_targets(args)
    for target in targets:
        color = target.path is None and use_color(args.color, sys.stdout, os.environ)
        emit(report, target, color=color, force=args.force)
    if not args.quiet and not _text_on_stdout(args) and any(t.path is not None for t in targets):
        color = use_color(args.color, sys.stderr, os.environ)
        print(verdict_line(report, color=color), file=sys.stderr)


def progress_bar(total: int) -> gate.Progress | None:
    """A one-line progress bar on stderr for batches, only when stderr is a terminal."""
    if total < PROGRESS_MIN_PLANS or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = PROGRESS_WIDTH * done // total
        bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
        end = "\n" if done == total else ""
        print(f"\r[{bar}] {done}/{total} plans", end=end, file=sys.stderr, flush=True)

    return show


def emit(report: Report, target: Target, *, color: bool, force: bool) -> None:
    """The report streamed to stdout, or atomically to its file (mode 0644: CI must read it)."""
    if target.path is None:
        write(report, target.fmt, sys.stdout, color=color)
    else:
        with open_text_atomic(target.path, mode=0o644, force=force) as out:
            write(report, target.fmt, out, color=color)


def _generated_token(args: argparse.Namespace) -> str | None:
    """For --engine opa without a token: the one tfgen generated for a container it started there."""
    if args.engine != "opa" or not args.opa_url:
        return None
    from tfgen.engines.container import read_token
    from tfgen.engines.opa import split_urls, without_userinfo

    for url in split_urls(args.opa_url):
        token = read_token(args.toolchain.cache_dir, without_userinfo(url.rstrip("/"))[0])
        if token:
            return token
    return None
