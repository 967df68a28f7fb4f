"""The findings spool: what goes in comes out, it stays private, and a batch's reports are written
without holding the batch's findings."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import tempfile
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tfgen.baseline import Baseline, Entry, cause_digest
from tfgen.config import Config
from tfgen.errors import TfgenError
from tfgen.model import (
    Enforcement,
    Finding,
    PlanInfo,
    RelatedResource,
    Report,
    RuleMeta,
    Severity,
    SourceLocation,
    Waiver,
    tally,
)
from tfgen.redact import Secrets, redact_report
from tfgen.report import FORMATS, render, write
from tfgen.report.jsondoc import INDENT_LIMIT, dumps, write_json
from tfgen.spool import FindingSpool, by_plan
from tfgen.waivers import finalize

TODAY = dt.date(2026, 6, 1)
RULE_LEVELS: tuple[tuple[str, Severity, Enforcement], ...] = (
    ("KMS-001", "high", "mandatory"),
    ("KMS-002", "medium", "advisory"),
    ("CT-001", "critical", "mandatory"),
)
RULES = tuple(
    RuleMeta(
        rule_id=rule_id,
        title=f"{rule_id} title",
        description="what it checks",
        severity=severity,
        enforcement=enforcement,
        remediation="how to fix it",
        package=f"tfgen.rules.{rule_id.lower()}",
        file=f"rules/{rule_id.lower()}.rego",
        related_resources=(RelatedResource("https://docs.aws.amazon.com/kms/"),),
    )
    for rule_id, severity, enforcement in RULE_LEVELS
)
SENSITIVE = "hunter2-sensitive-value"


def plan_findings(plan: str, count: int, salt: int = 0) -> list[Finding]:
    """`count` findings of one plan, of every rule, status and shape."""
    out = []
    for i in range(count):
        rule = RULES[i % len(RULES)]
        out.append(
            Finding(
                rule_id=rule.rule_id,
                title=rule.title,
                severity=rule.severity,
                enforcement=rule.enforcement,
                address=f'module.m{i % 4}.aws_kms_key.k["{salt}-{i}"]',
                resource_type="aws_kms_key",
                message=f"key {i} of {plan}: rotation is off (tag {SENSITIVE if i == 3 else 'x'})",
                plan=plan,
                location=SourceLocation("main.tf", i + 1) if i % 3 else None,
                waiver=Waiver(rule.rule_id, "*", "accepted", "alice", "2027-01-31")
                if i % 7 == 0
                else None,
                details={"i": i, "ratio": i / 7, "nested": [{"ü": None, "big": 2**70}, True]},
            )
        )
    return out


def plan_infos(plans: int) -> tuple[PlanInfo, ...]:
    return tuple(PlanInfo(f"plans/p{n:04d}.json", "1.2", "1.9.0", 10) for n in range(plans))


def batch(plans: int, per_plan: int) -> tuple[tuple[PlanInfo, ...], list[list[Finding]]]:
    infos = plan_infos(plans)
    return infos, [plan_findings(info.path, per_plan, n) for n, info in enumerate(infos)]


def make_report(plans: tuple[PlanInfo, ...], findings: Any) -> Report:
    return Report(tool={"tfgen": "test"}, plans=plans, findings=findings, rules=RULES)


def test_what_goes_in_comes_out() -> None:
    findings = [
        *plan_findings("b.json", 5),
        *plan_findings("a.json", 4),
        *plan_findings("b.json", 2, salt=1),  # the same path again, later (a file given twice)
    ]
    findings[1] = replace(findings[1], baselined=True, message="lone \ud800 surrogate")
    spool = FindingSpool(findings)
    assert len(spool) == len(findings)
    assert list(spool) == findings
    assert spool == tuple(findings)
    assert spool[1] == findings[1]
    assert spool.tally() == tally(findings)
    assert list(by_plan(spool)) == list(by_plan(tuple(findings)))
    assert [plan for plan, _ in by_plan(spool)] == ["a.json", "b.json"]
    assert spool.plans() == {"a.json", "b.json"}


def test_the_spool_is_private_and_never_linked(tmp_path: Path) -> None:
    spool = FindingSpool(plan_findings("a.json", 3))
    info = os.fstat(spool._file.fileno())
    assert info.st_nlink == 0, "no other process can open the spool by name"
    assert stat.S_IMODE(info.st_mode) == 0o600
    spool.close()


def test_no_room_for_the_spool_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full or missing temporary directory fails the run (exit 2) with one line, not a crash."""

    def full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    with pytest.raises(TfgenError, match=r"temporary file \(No space left on device\)"):
        FindingSpool()


def test_the_gate_passes_keep_a_spool_and_agree_with_a_tuple() -> None:
    plans, chunks = batch(6, 300)
    findings = [f for chunk in chunks for f in chunk]
    held = findings[5]
    config = Config(
        severity_threshold="high",
        enforcement={"KMS-002": "mandatory"},
        waivers=(Waiver("KMS-001", "module.m1.*", "later", "bob", "2027-01-01"),),
        baseline=Baseline(
            frozenset(
                {
                    Entry(held.rule_id, held.address, cause_digest(held.details)),
                    Entry("CT-001", "gone", "0" * 64),
                }
            ),
            "base.json",
        ),
    )
    secrets = Secrets(frozenset({SENSITIVE}))
    spooled = make_report(plans, FindingSpool(findings))
    listed = make_report(plans, tuple(findings))
    out = redact_report(finalize(spooled, config, TODAY), secrets)
    expected = redact_report(finalize(listed, config, TODAY), secrets)
    assert isinstance(out.findings, FindingSpool)
    assert len(out.findings) > INDENT_LIMIT, "the JSON formats must stream, not indent"
    assert out == expected
    assert out.notices and out.notices == expected.notices
    assert not any(SENSITIVE in f.message for f in out.findings)
    for fmt in FORMATS:
        assert render(out, fmt) == render(expected, fmt), fmt


@pytest.mark.parametrize("surrogate", [False, True])
@pytest.mark.parametrize("seekable", [False, True])
def test_streamed_json_is_what_dumps_writes(surrogate: bool, seekable: bool) -> None:
    """Compact JSON written piece by piece, byte for byte; a lone surrogate anywhere means ASCII
    escapes throughout, even when the stream cannot be rewound."""
    items = [{"n": n, "text": "ü" if n != 700 or not surrogate else "\udc80"} for n in range(1500)]
    data = {"head": {"a": [1, 2]}, "items": items, "empty": [], "tail": "é"}

    class Pipe(io.StringIO):
        def seekable(self) -> bool:
            return seekable

    from tfgen.report.jsondoc import Items

    out = Pipe()
    write_json(out, lambda: {**data, "items": Items(iter(items))}, len(items))
    assert out.getvalue() == dumps(data, len(items))
    assert out.getvalue().isascii() == surrogate


PER_PLAN = 60


def _rendering_peak(plans: int, fmt: str, tmp_path: Path) -> int:
    """Peak bytes traced while a batch is spooled plan by plan, judged, redacted and written."""
    infos = plan_infos(plans)
    config = Config(waivers=(Waiver("KMS-002", "module.m2.*", "later", "bob", "2027-01-01"),))
    tracemalloc.start()
    try:
        spool = FindingSpool()
        for n, info in enumerate(infos):  # as the gate does: one plan's findings at a time
            spool.add(plan_findings(info.path, PER_PLAN, n))
        report = make_report(infos, spool)
        report = finalize(report, config, TODAY)
        report = redact_report(report, Secrets(frozenset({SENSITIVE})))
        with (tmp_path / f"report.{fmt}").open("w", encoding="utf-8", newline="") as out:
            write(report, fmt, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def _held_per_finding(plans: int) -> float:
    """Bytes one finding takes when a batch's findings are held in memory."""
    tracemalloc.start()
    try:
        findings = batch(plans, PER_PLAN)[1]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert findings
    return held / (plans * PER_PLAN)


@pytest.mark.parametrize("fmt", FORMATS)
def test_memory_while_reporting_does_not_grow_with_the_findings(fmt: str, tmp_path: Path) -> None:
    """4x the findings (1,200 -> 4,800 in plans of 60) cost under a tenth of what holding the extra
    findings would: a batch keeps one plan's findings, a small entry per plan and the counts, never
    all findings nor the whole report."""
    assert 20 * PER_PLAN > INDENT_LIMIT, "the JSON formats must stream, not indent"
    # Imports, caches and CPython's free lists (up to 2,000 objects of a size): filled first, so
    # both sizes are measured alike.
    _rendering_peak(40, fmt, tmp_path)
    # Each size twice, the lower peak kept: a one-time growth of some cache lands in one run only.
    peaks = [_rendering_peak(plans, fmt, tmp_path) for plans in (20, 80, 20, 80)]
    small, large = min(peaks[0::2]), min(peaks[1::2])
    growth = (large - small) / (60 * PER_PLAN)
    held = _held_per_finding(20)
    assert growth < held / 10, f"{fmt}: {small} -> {large} bytes, {growth:.0f} B per finding"
    text = (tmp_path / f"report.{fmt}").read_text(encoding="utf-8")
    assert SENSITIVE not in text
    if fmt == "json":
        assert len(json.loads(text)["findings"]) == 80 * PER_PLAN
