"""Evaluate plans on one engine and gather the findings into a Report."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar, cast

from tfgen import __version__
from tfgen.engines.base import Decision, Engine, RuleResult, cores
from tfgen.errors import EngineError
from tfgen.model import Finding, PlanInfo, Report
from tfgen.ruleinput import InputNeeds, prune
from tfgen.rulepack import RulePack
from tfgen.spool import FindingSpool

S = TypeVar("S", bound=str)

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


def default_jobs() -> int:
    """Evaluations at once by default: one per core (Wasm runs off the interpreter's lock; an OPA
    server on the same cores gains nothing from more requests), the next plan read meanwhile."""
    return cores()


def evaluate_plans(
    plans: Iterable[tuple[PlanInfo, Mapping[str, Any]]],
    engine: Engine,
    pack: RulePack,
    errors: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
    *,
    total: int | None = None,
    jobs: int = 1,
    needs: InputNeeds | None = None,
    allow_revision_change: bool = False,
) -> Report:
    """Evaluate each plan; the first engine failure is recorded and ends evaluation (no fallback).

    Plans are taken from `plans` one at a time, cut to what the pack reads (`needs`), handed to
    up to `jobs` concurrent evaluations and dropped once evaluated; the next plan is read while
    they run, so only those plans are held. Findings and errors come out in input order whatever
    the concurrency; each plan's findings go to a spool as soon as it is evaluated.
    `progress(done, total)` is called after each evaluated plan (`total` defaults to len(plans)).

    Each plan keeps the bundle revisions that judged it; plans judged by different ones are an
    error unless `allow_revision_change`.

    `errors` carries problems found before evaluation (e.g. unreadable inputs), so they reach the
    report too. The caller owns the engine and closes it.
    """
    count = total if total is not None else len(plans) if isinstance(plans, Sequence) else 0
    found = FindingSpool()
    evaluated: list[PlanInfo] = []
    problems = list(errors)
    pending: deque[tuple[PlanInfo, Future[Decision]]] = deque()
    failed = False
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="tfgen-eval") as pool:
        source = iter(plans)

        def collect() -> bool:
            """Take the oldest evaluation's result; False once the engine failed."""
            info, future = pending.popleft()
            try:
                decision = future.result()
            except EngineError as exc:
                problems.append(f"{info.path}: {exc.message}")
                return False
            evaluated.append(replace(info, revision=decision.get("revision", "")))
            if progress is not None:
                progress(len(evaluated), max(count, len(evaluated)))
            results = (
                _finding(entry, info.path) for entry in (*decision["deny"], *decision["warn"])
            )
            found.add(sorted(results, key=_order))
            return True

        for info, plan in source:
            document = rule_input(plan)
            del plan  # the caller's reference goes too once the loop moves on
            if needs is not None:
                document = prune(document, needs)
            pending.append((info, pool.submit(engine.evaluate, document)))
            del document
            if len(pending) > max(1, jobs) and not collect():
                failed = True
                break
        while pending and not failed:
            failed = not collect()
        if failed:
            skipped = len(pending) + sum(1 for _ in source)
            for _, future in pending:
                future.cancel()
            if skipped:
                problems.append(f"{skipped} further plan(s) not evaluated after the engine failed")
    changed = revision_change(evaluated)
    if changed and not allow_revision_change:
        problems.append(changed)
    return Report(
        tool=tool_versions(engine, pack),
        plans=tuple(evaluated),
        findings=found,
        rules=pack.rules,
        errors=tuple(problems),
        notices=engine.notices(),
    )


def revision_change(plans: Sequence[PlanInfo]) -> str:
    """'' if every plan was judged by the same bundle revisions, else the error naming them."""
    first: dict[str, PlanInfo] = {}
    for plan in plans:
        if plan.revision:
            first.setdefault(plan.revision, plan)
    if len(first) < 2:
        return ""
    judged = "; ".join(f"{rev} (first {plan.path})" for rev, plan in first.items())
    return (
        f"plans were judged by {len(first)} different bundle revisions: {judged}: the served "
        "bundle changed during the run"
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
    # The per-rule strings are shared, not copied: the spool then writes each once per chunk.
    return Finding(
        rule_id=_shared(entry["rule_id"]),
        title=_shared(entry["title"]),
        severity=_shared(entry["severity"]),
        enforcement=_shared(entry["enforcement"]),
        address=entry["address"],
        resource_type=_shared(entry["resource_type"]),
        message=entry["message"],
        plan=plan,
        details=dict(entry["details"]),
    )


def _shared(value: S) -> S:
    return cast(S, sys.intern(value))


def _order(finding: Finding) -> tuple[str, str, str]:
    return (finding.rule_id, finding.address, finding.message)
