"""A readable table for terminals: one row per finding, then waivers, notices, errors and a verdict."""

from __future__ import annotations

from tfgen.model import Finding, Report
from tfgen.report._common import location_text, one_line, ordered, plural, status, summary

_HEADER: tuple[str, ...] = ("RULE", "SEVERITY", "ENFORCEMENT", "STATUS", "ADDRESS", "MESSAGE")
_STATUS_COLUMN = 3
_COLORS = {"blocking": "31;1", "advisory": "33", "waived": "2", "pass": "32;1", "fail": "31;1"}


def render(report: Report, *, color: bool = False) -> str:
    findings = ordered(report)
    multi_plan = len({f.plan for f in findings} | {p.path for p in report.plans}) > 1
    lines = _table(report, findings, multi_plan, color)
    for finding in findings:
        if finding.waiver is not None:
            waiver = finding.waiver
            lines.append(
                one_line(
                    f"waived: {finding.rule_id} {finding.address} by {waiver.owner} "
                    f"until {waiver.expires}: {waiver.reason}"
                )
            )
    lines.extend(one_line(f"notice: {notice}") for notice in sorted(report.notices))
    lines.extend(_paint(one_line(f"error: {error}"), "error", color) for error in report.errors)
    lines.append(_summary_line(report, color))
    return "\n".join(lines) + "\n"


def _paint(text: str, key: str, color: bool) -> str:
    return f"\x1b[{_COLORS.get(key, '35;1')}m{text}\x1b[0m" if color else text


def _table(report: Report, findings: list[Finding], multi_plan: bool, color: bool) -> list[str]:
    if not findings:
        return []
    with_location = any(f.location is not None for f in findings)
    header = _HEADER + (("LOCATION",) if with_location else ()) + (("PLAN",) if multi_plan else ())
    rows: list[tuple[str, ...]] = []
    for finding in findings:
        cells = [
            finding.rule_id,
            finding.severity,
            finding.enforcement,
            status(report, finding),
            finding.address,
            finding.message,
        ]
        if with_location:
            cells.append(location_text(finding))
        if multi_plan:
            cells.append(finding.plan)
        rows.append(tuple(one_line(cell) for cell in cells))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [_join(header, widths)]
    for row in rows:
        cells_out = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        cells_out[_STATUS_COLUMN] = _paint(cells_out[_STATUS_COLUMN], row[_STATUS_COLUMN], color)
        lines.append("  ".join(cells_out).rstrip())
    lines.append("")
    return lines


def _join(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _summary_line(report: Report, color: bool) -> str:
    counts = summary(report)
    what = (
        f"{plural(counts['findings'], 'finding')}: {counts['blocking']} blocking, "
        f"{counts['advisory']} advisory, {counts['waived']} waived"
        if counts["findings"]
        else "no findings"
    )
    plans = ", ".join(
        f"{plan.path} ({plural(plan.resources, 'resource change')}, "
        f"Terraform {plan.terraform_version})"
        for plan in sorted(report.plans, key=lambda p: p.path)
    )
    checked = f" in {plural(counts['plans'], 'plan')}: {plans}" if plans else ""
    errors = f"; {plural(counts['errors'], 'error')}" if counts["errors"] else ""
    verdict = _paint(str(counts["result"]).upper(), str(counts["result"]), color)
    return f"{verdict}: {one_line(what + checked + errors)} (exit {counts['exit_code']})"
