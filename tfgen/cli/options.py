"""The engine, config, gate and output flags `tfgen check` and `tfgen plan` share, and their use."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from tfgen import gate
from tfgen.config import ENFORCEMENTS, Config
from tfgen.engines import DEFAULT_TIMEOUT, ENGINES, EngineOptions
from tfgen.fileio import STDOUT, check_target, write_text_atomic
from tfgen.model import SEVERITIES
from tfgen.report import FORMATS, render
from tfgen.rulepack import RulePack

# Batches of at least this many plans show a progress bar on a terminal.
PROGRESS_MIN_PLANS = 10
PROGRESS_WIDTH = 30


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--output", type=Path, help="write the report here instead of stdout (- is stdout)"
    )
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


def output_path(args: argparse.Namespace) -> Path | None:
    """The report file, or None for stdout."""
    output: Path | None = args.output
    return None if output is None or str(output) == STDOUT else output


def prepare(args: argparse.Namespace) -> tuple[RulePack, Config]:
    """What needs no plan: the report target, the rule pack and the config with the flags applied."""
    output = output_path(args)
    if output is not None:
        check_target(output, force=args.force)
    return gate.load_policy(args.rules, args.config, args.fail_on, args.severity_threshold)


def run_gate(args: argparse.Namespace, batch: gate.Batch, pack: RulePack, config: Config) -> int:
    """Run the gate on the batch, print its errors, write the report; the exit code."""
    options = EngineOptions(
        opa_url=args.opa_url,
        token=args.opa_token,
        timeout=args.timeout,
        keep_running=args.keep_running,
        compose_file=args.compose_file,
        load_pack=args.load_pack,
    )
    report = gate.run(
        batch,
        pack,
        config,
        engine=args.engine,
        options=options,
        today=dt.date.today(),
        base=Path.cwd(),
        progress=progress_bar(len(batch.plans)),
    )
    for error in report.errors:
        print(f"tfgen: error: {error}", file=sys.stderr)
    text = render(report, args.format)
    emit(text if text.endswith("\n") else text + "\n", output_path(args), force=args.force)
    return report.exit_code


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


def emit(text: str, output: Path | None, *, force: bool) -> None:
    """The report on stdout, or written atomically to `output` (mode 0644: CI must read it)."""
    if output is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(output, text, mode=0o644, force=force)
