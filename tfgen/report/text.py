"""A readable report for terminals: a row per finding with its message, fix and link, then a verdict."""

from __future__ import annotations

import textwrap

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


def render(report: Report, *, color: bool = False) -> str:
    findings = ordered(report)
    multi_plan = len({f.plan for f in findings} | {p.path for p in report.plans}) > 1
    lines = _table(report, findings, multi_plan, color)
    lines.extend(one_line(f"notice: {notice}") for notice in sorted(report.notices))
    lines.extend(_paint(one_line(f"error: {error}"), "error", color) for error in report.errors)
    lines.append(verdict_line(report, color=color))
    return "\n".join(lines) + "\n"


def _paint(text: str, key: str, color: bool) -> str:
    return f"\x1b[{_COLORS.get(key, '35;1')}m{text}\x1b[0m" if color else text


def _table(report: Report, findings: list[Finding], multi_plan: bool, color: bool) -> list[str]:
    if not findings:
        return []
    rows = [
        tuple(
            one_line(cell)
            for cell in (status(report, f), f.severity, f.rule_id, f.address, location_text(f))
        )
        for f in findings
    ]
    widths = [max(len(row[i]) for row in (_HEADER, *rows)) for i in range(len(_HEADER))]
    # Locations move to the detail lines when the row would not fit the terminal.
    inline_location = sum(widths) + 2 * (len(widths) - 1) <= WIDTH
    columns = len(_HEADER) if inline_location else len(_HEADER) - 1
    lines = [_join(_HEADER[:columns], widths)]
    helps = guidance(report)
    for finding, row in zip(findings, rows, strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row[:columns], widths, strict=False)]
        cells[0] = _paint(cells[0], row[0], color)
        lines.append("  ".join(cells).rstrip())
        details = _details(finding, helps.get(finding.rule_id, Guidance()), multi_plan)
        if not inline_location and finding.location is not None:
            details.insert(1, f"at: {location_text(finding)}")
        for detail in details:
            lines.extend(wrap(detail))
    lines.append("")
    return lines


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
