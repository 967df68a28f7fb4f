"""GitHub Actions workflow commands: an annotation per finding, error and notice, then a summary."""

from __future__ import annotations

import re
from typing import TextIO

from tfgen.model import Finding, Report
from tfgen.report._common import (
    Guidance,
    guidance,
    one_line,
    ordered,
    plural,
    short_message,
    status,
    summary,
    waived_by,
)
from tfgen.spool import plans_with_findings

_LINE_BREAKS = re.compile(r"(\r|\n)")


def escape_data(value: object) -> str:
    """A command's message: `%`, CR and LF are percent-encoded (actions/toolkit escapeData).

    Other control characters (an ESC would colour the log) become visible escapes.
    """
    parts = _LINE_BREAKS.split(str(value).replace("%", "%25"))
    return "".join({"\r": "%0D", "\n": "%0A"}.get(part) or one_line(part) for part in parts)


def escape_property(value: object) -> str:
    """A command property: as data, plus `:` and `,` (actions/toolkit escapeProperty)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def write(report: Report, out: TextIO) -> None:
    several_plans = len(plans_with_findings(report.findings)) > 1
    helps = guidance(report)
    for finding in ordered(report):
        help_ = helps.get(finding.rule_id, Guidance())
        out.write(_annotation(report, finding, several_plans, help_) + "\n")
    for notice in sorted(report.notices):
        out.write(command("notice", {"title": "tfgen"}, notice) + "\n")
    for error in report.errors:
        out.write(command("error", {"title": "tfgen error"}, error) + "\n")
    counts = summary(report)
    out.write(
        escape_data(
            f"tfgen: {str(counts['result']).upper()}: "
            f"{plural(counts['findings'], 'finding')} ({counts['blocking']} blocking, "
            f"{counts['advisory']} advisory, {counts['waived']} waived) in "
            f"{plural(counts['plans'], 'plan')}; {plural(counts['errors'], 'error')}; "
            f"exit {counts['exit_code']}"
        )
        + "\n"
    )


def _annotation(report: Report, finding: Finding, several_plans: bool, help_: Guidance) -> str:
    state = status(report, finding)
    name = {"blocking": "error", "advisory": "warning", "waived": "notice", "baselined": "notice"}[
        state
    ]
    properties: dict[str, str] = {}
    if finding.location is not None:
        properties["file"] = finding.location.file
        properties["line"] = str(finding.location.line)
    properties["title"] = f"{finding.rule_id} {finding.title}".strip()
    message = (
        f"{finding.address}: {short_message(finding)} ({finding.severity}, {finding.enforcement})"
    )
    if finding.waiver is not None:
        waiver = finding.waiver
        message += f"\nW{waived_by(waiver)[1:]}"
    if help_.remediation:
        message += f"\nFix: {help_.remediation}"
    if help_.reference:
        message += f"\nSee: {help_.reference}"
    if several_plans or finding.location is None:
        message += f"\nplan: {finding.plan}"
    return command(name, properties, message)
