"""The gate: redacted plans in, one engine, located and waived findings out as a Report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from tfgen.baseline import load as load_baseline
from tfgen.config import Config, check_rule_ids, load_config
from tfgen.engines import EngineOptions, open_engine
from tfgen.errors import InputError, TfgenError
from tfgen.evaluate import evaluate_plans, unevaluated_report
from tfgen.model import Enforcement, PlanInfo, Report, Severity
from tfgen.planfile import STDIN, load_plan, plan_files, plan_info
from tfgen.planshape import validate_plan
from tfgen.redact import Secrets, redact_plan, redact_report
from tfgen.ruleinput import input_needs
from tfgen.rulepack import RulePack, find_pack, with_extra_rules
from tfgen.sources import SourceMap, locate_findings
from tfgen.suppressions import suppressions_in
from tfgen.toolchain import Toolchain
from tfgen.waivers import finalize

Progress = Callable[[int, int], None]
T = TypeVar("T")


@dataclass
class Batch:
    """The plans of one run, the problems met reading them, and the secrets they held.

    Plan files are read, validated and redacted only when the gate reaches them, one at a time,
    so a batch never holds more than the plans being evaluated.
    """

    plans: list[tuple[PlanInfo, Mapping[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    secrets: Secrets = field(default_factory=Secrets)
    source_dirs: dict[str, Path] = field(default_factory=dict)
    sources: list[tuple[str, Path | None]] = field(default_factory=list)

    @classmethod
    def read(cls, sources: Sequence[str], source_dir: Path | None = None) -> Batch:
        """Plan JSON files (`-` is stdin, a directory the `.json` files below it), read as the
        gate evaluates them; one that cannot be read becomes an error, not an exit."""
        if list(sources).count(STDIN) > 1:
            raise InputError(STDIN, "stdin can be read only once")
        return cls(sources=[(source, source_dir) for source in plan_files(sources)])

    def add_planned(self, label: str, plan: dict[str, Any], source_dir: Path) -> None:
        """A plan Terraform just made in `source_dir`: validated and redacted like a file's."""
        validate_plan(plan, label)
        info = plan_info(label, plan)
        self.plans.append((info, self._redacted(plan)))
        self.source_dirs[info.path] = source_dir

    def __len__(self) -> int:
        return len(self.plans) + len(self.sources)

    def stream(self, base: Path, maps: dict[str, SourceMap]) -> Iterator[tuple[PlanInfo, Any]]:
        """Each readable plan, redacted, in order; files are read here, one at a time.

        A plan with a source directory leaves its SourceMap (relative to `base`) in `maps`.
        """
        for info, plan in self.plans:
            self._map(info, plan, self.source_dirs.get(info.path), base, maps)
            yield info, plan
        while self.sources:
            source, source_dir = self.sources.pop(0)
            try:
                info, loaded = load_plan(source)
            except InputError as exc:
                self.errors.append(exc.message)
                continue
            plan = self._redacted(loaded)
            del loaded
            self._map(info, plan, source_dir, base, maps)
            yield info, plan
            del plan  # before the next file is read

    def _redacted(self, plan: dict[str, Any]) -> dict[str, Any]:
        redacted, found = redact_plan(plan, in_place=True)
        self.secrets |= found
        return redacted

    def _map(
        self,
        info: PlanInfo,
        plan: Mapping[str, Any],
        source_dir: Path | None,
        base: Path,
        maps: dict[str, SourceMap],
    ) -> None:
        if source_dir is not None:
            self.source_dirs[info.path] = source_dir
            maps[info.path] = SourceMap(plan, source_dir, base)


def load_policy(
    rules: Path | None,
    config_file: Path | None = None,
    fail_on: Enforcement | None = None,
    severity_threshold: Severity | None = None,
    only_rules: Sequence[str] = (),
    skip_rules: Sequence[str] = (),
    baseline_file: Path | None = None,
    extra_rules: Path | None = None,
    toolchain: Toolchain | None = None,
) -> tuple[RulePack, Config]:
    """The rule pack and the config with the overrides applied; what needs no plan."""
    pack = find_pack(rules)
    if not pack.rules:
        raise InputError(
            str(pack.root), "rule pack has no rules (tfgen/rules/<group>/<name>/<name>.rego)"
        )
    config = load_config(config_file).with_flags(fail_on, severity_threshold)
    config = config.with_selection(only_rules, skip_rules)
    extra = extra_rules or config.extra_rules
    if extra is not None:
        pack = with_extra_rules(pack, extra, toolchain)
    if baseline_file is not None:
        config = config.with_baseline(load_baseline(baseline_file))
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
    maps: dict[str, SourceMap] = {}
    total = len(batch)
    stream = batch.stream(base or Path.cwd(), maps)
    first = next(stream, None)
    report = None
    problems: list[str] = []
    if first is not None:
        head = [first]
        del first
        opts = options or EngineOptions()
        try:
            opened = open_engine(engine, pack, config.rule_data(), opts)
        except TfgenError as exc:
            problems.append(describe(exc))
            head.clear()
            for _ in stream:  # the other plans' read errors are still reported
                pass
        else:
            try:
                report = evaluate_plans(
                    _starting_with(head, stream),
                    opened,
                    pack,
                    progress=progress,
                    total=total,
                    jobs=opts.jobs,
                    needs=input_needs(pack),
                    allow_revision_change=opts.allow_revision_change,
                )
            finally:
                opened.close()
    if report is None:
        report = unevaluated_report(engine, pack, [])
    errors = [*batch.errors, *problems, *report.errors]
    report = replace(report, errors=tuple(errors))
    report = locate_findings(report, maps)
    inline = suppressions_in(maps, {rule.rule_id for rule in pack.rules})
    report = finalize(report, config, today or dt.date.today(), inline)
    # Every secret leaves the report's own strings before any renderer escapes them.
    return redact_report(report, batch.secrets)


def _starting_with(head: list[T], rest: Iterator[T]) -> Iterator[T]:
    """`head`'s items, then `rest`'s; each is dropped from `head` as it is handed out."""
    while head:
        yield head.pop(0)
    yield from rest
