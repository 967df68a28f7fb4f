"""Evaluate plans on one engine and gather the findings into a Report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tfgen import __version__
from tfgen.engines.base import Engine, RuleResult
from tfgen.errors import EngineError
from tfgen.model import Finding, PlanInfo, Report
from tfgen.rulepack import RulePack

# The top-level plan keys the rules may read (the contract); the rest never reaches an engine.
PLAN_KEYS = (
    "format_version",
    "terraform_version",
    "resource_changes",
    "configuration",
    "variables",
    "planned_values",
    "prior_state",
)


def rule_input(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan as the rules see it: only the top-level keys they may read."""
    return {key: plan[key] for key in PLAN_KEYS if key in plan}


def evaluate_plans(
    plans: Sequence[tuple[PlanInfo, Mapping[str, Any]]],
    engine: Engine,
    pack: RulePack,
    errors: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Evaluate each plan; the first engine failure is recorded and ends evaluation (no fallback).

    `progress(done, total)` is called after each evaluated plan.

    `errors` carries problems found before evaluation (e.g. unreadable inputs), so they reach the
    report too. The caller owns the engine and closes it.
    """
    found: list[tuple[int, Finding]] = []
    evaluated: list[PlanInfo] = []
    problems = list(errors)
    for index, (info, plan) in enumerate(plans):
        try:
            decision = engine.evaluate(rule_input(plan))
        except EngineError as exc:
            problems.append(f"{info.path}: {exc.message}")
            skipped = len(plans) - index - 1
            if skipped:
                problems.append(f"{skipped} further plan(s) not evaluated after the engine failed")
            break
        evaluated.append(info)
        if progress is not None:
            progress(index + 1, len(plans))
        for entry in (*decision["deny"], *decision["warn"]):
            found.append((index, _finding(entry, info.path)))
    return Report(
        tool=tool_versions(engine, pack),
        plans=tuple(evaluated),
        findings=tuple(f for _, f in sorted(found, key=_order)),
        rules=pack.rules,
        errors=tuple(problems),
        notices=engine.notices(),
    )


def unevaluated_report(engine: str, pack: RulePack, errors: Sequence[str]) -> Report:
    """The report of a run that evaluated nothing (no readable plan, or no engine)."""
    tool = {"tfgen": __version__, "engine": engine, "rule_pack": pack.version}
    return Report(tool=tool, plans=(), findings=(), rules=pack.rules, errors=tuple(errors))


def tool_versions(engine: Engine, pack: RulePack) -> dict[str, str]:
    """tfgen, engine and OPA versions, and the rule pack's version and digest."""
    return {
        "tfgen": __version__,
        **engine.versions(),
        "rule_pack": pack.version,
        "rule_pack_digest": pack.digest[:16],
    }


def _finding(entry: RuleResult, plan: str) -> Finding:
    return Finding(
        rule_id=entry["rule_id"],
        title=entry["title"],
        severity=entry["severity"],
        enforcement=entry["enforcement"],
        address=entry["address"],
        resource_type=entry["resource_type"],
        message=entry["message"],
        plan=plan,
        details=dict(entry["details"]),
    )


def _order(item: tuple[int, Finding]) -> tuple[int, str, str, str]:
    index, finding = item
    return (index, finding.rule_id, finding.address, finding.message)
