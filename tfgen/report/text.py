"""A readable report for terminals: a row per finding with its message, fix and link, then a verdict."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import TextIO

from tfgen.model import Finding, Report
from tfgen.report._common import (
    Guidance,
    guidance,
    location_text,
    one_line,
    ordered,
    plural,
    short_message,
    status,
    summary,
    waived_by,
)
from tfgen.spool import plans_with_findings

# The table and its wrapped detail lines fit a terminal of this width.
WIDTH = 120
INDENT = 2
_HEADER: tuple[str, ...] = ("STATUS", "SEVERITY", "RULE", "RESOURCE", "LOCATION")
_COLORS = {
    "blocking": "31;1",
    "advisory": "33",
    "waived": "2",
    "baselined": "2",
    "pass": "32;1",
    "fail": "31;1",
}
# Verdict lines name each plan up to this many; larger batches give the count only.
VERDICT_PLANS = 3


def write(report: Report, out: TextIO, *, color: bool = False) -> None:
    multi_plan = len(plans_with_findings(report.findings) | {p.path for p in report.plans}) > 1
    for line in _table(report, multi_plan, color):
        out.write(line + "\n")
    for notice in sorted(report.notices):
        out.write(one_line(f"notice: {notice}") + "\n")
    for error in report.errors:
        out.write(_paint(one_line(f"error: {error}"), "error", color) + "\n")
    out.write(verdict_line(report, color=color) + "\n")


def _paint(text: str, key: str, color: bool) -> str:
    return f"\x1b[{_COLORS.get(key, '35;1')}m{text}\x1b[0m" if color else text


def _row(report: Report, finding: Finding) -> tuple[str, ...]:
    cells = (
        status(report, finding),
        finding.severity,
        finding.rule_id,
        finding.address,
        location_text(finding),
    )
    return tuple(one_line(cell) for cell in cells)


def _table(report: Report, multi_plan: bool, color: bool) -> Iterator[str]:
    """The header, a row per finding with its detail lines, and a blank line; nothing when there
    are no findings. Column widths come from a first pass over the findings."""
    if not report.findings:
        return
    widths = [len(cell) for cell in _HEADER]
    for finding in report.findings:
        widths = [max(w, len(cell)) for w, cell in zip(widths, _row(report, finding), strict=True)]
    # Locations move to the detail lines when the row would not fit the terminal.
    inline_location = sum(widths) + 2 * (len(widths) - 1) <= WIDTH
    columns = len(_HEADER) if inline_location else len(_HEADER) - 1
    yield _join(_HEADER[:columns], widths)
    helps = guidance(report)
    for finding in ordered(report):
        row = _row(report, finding)
        cells = [cell.ljust(width) for cell, width in zip(row[:columns], widths, strict=False)]
        cells[0] = _paint(cells[0], row[0], color)
        yield "  ".join(cells).rstrip()
        details = _details(finding, helps.get(finding.rule_id, Guidance()), multi_plan)
        if not inline_location and finding.location is not None:
            details.insert(1, f"at: {location_text(finding)}")
        for detail in details:
            yield from wrap(detail)
    yield ""


def _details(finding: Finding, help_: Guidance, multi_plan: bool) -> list[str]:
    """The lines under a finding's row: message, waiver, fix, link, and plan when there are several."""
    details = [short_message(finding) or finding.title]
    if finding.waiver is not None:
        waiver = finding.waiver
        details.append(waived_by(waiver))
    elif finding.baselined:
        details.append("baselined: in the baseline given, does not fail the gate")
    if help_.remediation:
        details.append(f"fix: {help_.remediation}")
    if help_.reference:
        details.append(f"see: {help_.reference}")
    if multi_plan:
        details.append(f"plan: {finding.plan}")
    return details


def wrap(text: str) -> list[str]:
    """A detail line, indented under its row and wrapped to WIDTH; a link stays on its line."""
    prefix = " " * INDENT
    if text.startswith("see: "):
        return [prefix + one_line(text)]
    return textwrap.wrap(
        one_line(text),
        WIDTH,
        initial_indent=prefix,
        subsequent_indent=prefix + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [prefix]


def _join(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)).rstrip()


def verdict_line(report: Report, *, color: bool = False) -> str:
    """One line: PASS, FAIL or ERROR, the counts, the plans checked and the exit code."""
    counts = summary(report)
    what = (
        f"{plural(counts['findings'], 'finding')}: {counts['blocking']} blocking, "
        f"{counts['advisory']} advisory, {counts['waived']} waived"
        + (f", {counts['baselined']} baselined" if counts["baselined"] else "")
        if counts["findings"]
        else "no findings"
    )
    plans = ", ".join(
        f"{plan.path} ({plural(plan.resources, 'resource change')}, "
        f"Terraform {plan.terraform_version})"
        for plan in sorted(report.plans, key=lambda p: p.path)
    )
    checked = f" in {plural(counts['plans'], 'plan')}"
    if plans and len(report.plans) <= VERDICT_PLANS:
        checked += f": {plans}"
    elif not plans:
        checked = ""
    errors = f"; {plural(counts['errors'], 'error')}" if counts["errors"] else ""
    verdict = _paint(str(counts["result"]).upper(), str(counts["result"]), color)
    return f"{verdict}: {one_line(what + checked + errors)} (exit {counts['exit_code']})"
