"""A pull-request comment: verdict, counts, blocking findings, and collapsible advisory/waived ones."""

from __future__ import annotations

import html
import re
from typing import TextIO

from tfgen import __version__
from tfgen.model import SEVERITIES, Finding, Report, Waiver, tally
from tfgen.report._common import (
    STATUSES,
    Guidance,
    Status,
    guidance,
    kind_status,
    location_text,
    ordered,
    plural,
    short_message,
    status,
    summary,
)
from tfgen.spool import plans_with_findings

# Inline syntax only: a cell never starts a line, so block syntax (#, -, 1.) cannot trigger.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
# GitHub comments hold at most 65,536 characters: longer tables are cut with a note.
MAX_TABLE_ROWS = 100
# Only plain http(s) URLs become links; anything else is shown as text.
_LINKABLE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_VERDICT = {
    "pass": ":white_check_mark: **PASS**",
    "fail": ":x: **FAIL**",
    "error": ":no_entry: **ERROR**",
}


def cell(value: object) -> str:
    """Text for a table cell: no HTML, no markdown syntax, no mentions, one line."""
    text = _CONTROL.sub("\ufffd", str(value))
    text = html.escape(text, quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = text.replace("@", "&#64;")
    return re.sub(r"\r\n|\r|\n|\u2028|\u2029", "<br>", text)


def code(value: object) -> str:
    """An identifier (rule id, address, path) in monospace, escaped like any cell."""
    return f"<code>{cell(value)}</code>" if str(value) else ""


def write(report: Report, out: TextIO) -> None:
    counts = summary(report)
    multi_plan = len(plans_with_findings(report.findings) | {p.path for p in report.plans}) > 1
    lines = [f"### tfgen: {_VERDICT[str(counts['result'])]}", "", _verdict_line(counts), ""]
    if report.findings:
        lines += _counts_table(report)
    # The tables show the first MAX_TABLE_ROWS findings of each status: only those are kept.
    shown: dict[Status, list[Finding]] = {state: [] for state in STATUSES}
    for finding in ordered(report):
        rows = shown[status(report, finding)]
        if len(rows) < MAX_TABLE_ROWS:
            rows.append(finding)
    blocking, advisory, waived, baselined = (
        (shown[state], int(counts[state]))
        for state in ("blocking", "advisory", "waived", "baselined")
    )
    helps = guidance(report)
    if blocking[1]:
        lines += ["#### Blocking findings", "", *_findings_table(blocking, multi_plan, helps), ""]
    if advisory[1]:
        lines += _details(
            f"Advisory findings ({advisory[1]})", _findings_table(advisory, multi_plan, helps)
        )
    if waived[1]:
        lines += _details(
            f"Waived findings ({waived[1]})", _waived_table(waived, multi_plan, helps)
        )
    if baselined[1]:
        lines += _details(
            f"Baselined findings ({baselined[1]})",
            _findings_table(baselined, multi_plan, helps),
        )
    if report.errors:
        lines += ["#### Errors", "", *(f"- {cell(error)}" for error in report.errors), ""]
    if report.notices:
        lines += _details(
            f"Notices ({len(report.notices)})", [f"- {cell(n)}" for n in sorted(report.notices)]
        )
    plans = ", ".join(
        f"{code(plan.path)} ({plural(plan.resources, 'resource change')})"
        for plan in sorted(report.plans, key=lambda p: p.path)
    )
    lines.append(f"<sub>tfgen {cell(__version__)}{' · plans: ' + plans if plans else ''}</sub>")
    out.write("\n".join(lines) + "\n")


# The first MAX_TABLE_ROWS findings of one status, and how many there are in all.
Shown = tuple[list[Finding], int]


def _verdict_line(counts: dict[str, object]) -> str:
    if counts["result"] == "error":
        return (
            f"The check did not complete: {plural(int(str(counts['errors'])), 'error')}; "
            "the gate fails closed."
        )
    if counts["result"] == "fail":
        return (
            f"{plural(int(str(counts['blocking'])), 'blocking finding')} must be fixed or waived."
        )
    return "No blocking findings."


def _counts_table(report: Report) -> list[str]:
    header = "| | " + " | ".join(s.capitalize() for s in SEVERITIES) + " | Total |"
    rule = "|---|" + "---:|" * (len(SEVERITIES) + 1)
    rows = [header, rule]
    counted = tally(report.findings)
    states = [s for s in STATUSES if s != "baselined" or any(key[3] for key in counted)]
    for state in states:
        chosen = {key: n for key, n in counted.items() if kind_status(report, key) == state}
        per = [sum(n for key, n in chosen.items() if key[1] == s) for s in SEVERITIES]
        rows.append(
            f"| {state.capitalize()} | "
            + " | ".join(map(str, per))
            + f" | {sum(chosen.values())} |"
        )
    return [*rows, ""]


def _findings_table(shown: Shown, multi_plan: bool, helps: dict[str, Guidance]) -> list[str]:
    columns = ["Rule", "Severity", "Resource", "Message", "Location", "Fix"] + (
        ["Plan"] if multi_plan else []
    )
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    findings, total = shown
    for f in findings:
        cells = [
            f"{code(f.rule_id)} {cell(f.title)}",
            cell(f.severity),
            code(f.address),
            cell(short_message(f)),
            code(location_text(f)),
            fix(helps.get(f.rule_id, Guidance())),
        ]
        if multi_plan:
            cells.append(code(f.plan))
        rows.append("| " + " | ".join(cells) + " |")
    return rows + _more(total)


def fix(help_: Guidance) -> str:
    """The remediation, then a link to the rule's first reference."""
    parts = [cell(help_.remediation)] if help_.remediation else []
    if help_.reference:
        parts.append(link("docs", help_.reference))
    return " ".join(parts)


def link(text: str, url: str) -> str:
    """A link when `url` is a plain http(s) URL; otherwise both shown as escaped text."""
    if _LINKABLE.fullmatch(url):
        return f"[{cell(text)}]({url})"
    return cell(text) if text == url else f"{cell(text)} ({cell(url)})"


def _waived_table(shown: Shown, multi_plan: bool, helps: dict[str, Guidance]) -> list[str]:
    columns = ["Rule", "Resource", "Reason", "Owner", "Expires", "Fix"] + (
        ["Plan"] if multi_plan else []
    )
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    findings, total = shown
    for f in findings:
        waiver = f.waiver or Waiver(f.rule_id, f.address, "", "", "")
        cells = [
            code(f.rule_id),
            code(f.address),
            cell(waiver.reason),
            cell(waiver.owner),
            cell(waiver.expires),
            fix(helps.get(f.rule_id, Guidance())),
        ]
        if multi_plan:
            cells.append(code(f.plan))
        rows.append("| " + " | ".join(cells) + " |")
    return rows + _more(total)


def _details(summary_text: str, body: list[str]) -> list[str]:
    # An HTML block: markdown is not parsed on this line, so HTML escaping is the whole job.
    summary_html = html.escape(" ".join(summary_text.split()))
    return [f"<details><summary>{summary_html}</summary>", "", *body, "", "</details>", ""]


def _more(total: int) -> list[str]:
    hidden = total - MAX_TABLE_ROWS
    if hidden <= 0:
        return []
    return ["", f"... and {plural(hidden, 'more finding')}; the json and sarif formats list all."]
