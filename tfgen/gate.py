"""The gate: redacted plans in, one engine, located and waived findings out as a Report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfgen.config import Config, check_rule_ids, load_config
from tfgen.engines import EngineOptions, open_engine
from tfgen.errors import InputError, TfgenError
from tfgen.evaluate import evaluate_plans, unevaluated_report
from tfgen.model import Enforcement, PlanInfo, Report, Severity
from tfgen.planfile import STDIN, load_plan, plan_info, validate_plan
from tfgen.redact import Secrets, redact_plan, redact_report
from tfgen.rulepack import RulePack, find_pack
from tfgen.sources import attach_locations
from tfgen.suppressions import read_suppressions
from tfgen.waivers import finalize

Progress = Callable[[int, int], None]


@dataclass
class Batch:
    """Redacted plans for one run, the problems met reading them, and the secrets they held."""

    plans: list[tuple[PlanInfo, Mapping[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    secrets: Secrets = field(default_factory=Secrets)
    source_dirs: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def read(cls, sources: Sequence[str], source_dir: Path | None = None) -> Batch:
        """Plan JSON files (`-` is stdin); one that cannot be read becomes an error, not an exit."""
        if list(sources).count(STDIN) > 1:
            raise InputError(STDIN, "stdin can be read only once")
        batch = cls()
        for source in sources:
            try:
                info, plan = load_plan(source)
            except InputError as exc:
                batch.errors.append(exc.message)
                continue
            batch._add(info, plan, source_dir)
        return batch

    def add_planned(self, label: str, plan: dict[str, Any], source_dir: Path) -> None:
        """A plan Terraform just made in `source_dir`: validated and redacted like a file's."""
        validate_plan(plan, label)
        self._add(plan_info(label, plan), plan, source_dir)

    def _add(self, info: PlanInfo, plan: dict[str, Any], source_dir: Path | None) -> None:
        redacted, found = redact_plan(plan, in_place=True)
        self.secrets |= found
        self.plans.append((info, redacted))
        if source_dir is not None:
            self.source_dirs[info.path] = source_dir


def load_policy(
    rules: Path | None,
    config_file: Path | None = None,
    fail_on: Enforcement | None = None,
    severity_threshold: Severity | None = None,
    only_rules: Sequence[str] = (),
    skip_rules: Sequence[str] = (),
) -> tuple[RulePack, Config]:
    """The rule pack and the config with the overrides applied; what needs no plan."""
    pack = find_pack(rules)
    if not pack.rules:
        raise InputError(
            str(pack.root), "rule pack has no rules (tfgen/rules/<group>/<name>/<name>.rego)"
        )
    config = load_config(config_file).with_flags(fail_on, severity_threshold)
    config = config.with_selection(only_rules, skip_rules)
    check_rule_ids(config, {rule.rule_id for rule in pack.rules})
    return pack, config


def run(
    batch: Batch,
    pack: RulePack,
    config: Config,
    engine: str = "embedded",
    options: EngineOptions | None = None,
    today: dt.date | None = None,
    base: Path | None = None,
    progress: Progress | None = None,
    describe: Callable[[TfgenError], str] = lambda exc: exc.message,
) -> Report:
    """Evaluate the batch on one engine, locate the findings in their sources, apply the config.

    Source paths are relative to `base` (default: the working directory) when below it. Every
    problem, the batch's own included, ends up in `report.errors` (an engine that cannot open as
    `describe` words it), and no string in the report
    holds a secret the batch found; nothing is printed.
    """
    base = base or Path.cwd()
    known = {rule.rule_id for rule in pack.rules}
    inline = read_suppressions(batch.plans, batch.source_dirs, base, known)
    report = None
    errors = list(batch.errors)
    if batch.plans:
        try:
            opened = open_engine(engine, pack, config.rule_data(), options)
        except TfgenError as exc:
            errors.append(describe(exc))
        else:
            try:
                report = evaluate_plans(batch.plans, opened, pack, errors, progress)
            finally:
                opened.close()
    if report is None:
        report = unevaluated_report(engine, pack, errors)
    report = attach_locations(report, batch.plans, batch.source_dirs, base)
    report = finalize(report, config, today or dt.date.today(), inline)
    # Every secret leaves the report's own strings before any renderer escapes them.
    return redact_report(report, batch.secrets)
