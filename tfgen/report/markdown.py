"""A pull-request comment: verdict, counts, blocking findings, and collapsible advisory/waived ones."""

from __future__ import annotations

import html
import re

from tfgen import __version__
from tfgen.model import SEVERITIES, Finding, Report, Waiver
from tfgen.report._common import (
    STATUSES,
    Guidance,
    guidance,
    location_text,
    ordered,
    plural,
    short_message,
    status,
    summary,
)

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


def render(report: Report) -> str:
    findings = ordered(report)
    counts = summary(report)
    multi_plan = len({f.plan for f in findings} | {p.path for p in report.plans}) > 1
    out = [f"### tfgen: {_VERDICT[str(counts['result'])]}", "", _verdict_line(counts), ""]
    if findings:
        out += _counts_table(report, findings)
    blocking = [f for f in findings if status(report, f) == "blocking"]
    advisory = [f for f in findings if status(report, f) == "advisory"]
    waived = [f for f in findings if status(report, f) == "waived"]
    baselined = [f for f in findings if status(report, f) == "baselined"]
    helps = guidance(report)
    if blocking:
        out += ["#### Blocking findings", "", *_findings_table(blocking, multi_plan, helps), ""]
    if advisory:
        out += _details(
            f"Advisory findings ({len(advisory)})", _findings_table(advisory, multi_plan, helps)
        )
    if waived:
        out += _details(
            f"Waived findings ({len(waived)})", _waived_table(waived, multi_plan, helps)
        )
    if baselined:
        out += _details(
            f"Baselined findings ({len(baselined)})",
            _findings_table(baselined, multi_plan, helps),
        )
    if report.errors:
        out += ["#### Errors", "", *(f"- {cell(error)}" for error in report.errors), ""]
    if report.notices:
        out += _details(
            f"Notices ({len(report.notices)})", [f"- {cell(n)}" for n in sorted(report.notices)]
        )
    plans = ", ".join(
        f"{code(plan.path)} ({plural(plan.resources, 'resource change')})"
        for plan in sorted(report.plans, key=lambda p: p.path)
    )
    out.append(f"<sub>tfgen {cell(__version__)}{' · plans: ' + plans if plans else ''}</sub>")
    return "\n".join(out) + "\n"


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


def _counts_table(report: Report, findings: list[Finding]) -> list[str]:
    header = "| | " + " | ".join(s.capitalize() for s in SEVERITIES) + " | Total |"
    rule = "|---|" + "---:|" * (len(SEVERITIES) + 1)
    rows = [header, rule]
    states = [s for s in STATUSES if s != "baselined" or any(f.baselined for f in findings)]
    for state in states:
        chosen = [f for f in findings if status(report, f) == state]
        per = [sum(1 for f in chosen if f.severity == s) for s in SEVERITIES]
        rows.append(
            f"| {state.capitalize()} | " + " | ".join(map(str, per)) + f" | {len(chosen)} |"
        )
    return [*rows, ""]


def _findings_table(
    findings: list[Finding], multi_plan: bool, helps: dict[str, Guidance]
) -> list[str]:
    columns = ["Rule", "Severity", "Resource", "Message", "Location", "Fix"] + (
        ["Plan"] if multi_plan else []
    )
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for f in findings[:MAX_TABLE_ROWS]:
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
    return rows + _more(findings)


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


def _waived_table(
    findings: list[Finding], multi_plan: bool, helps: dict[str, Guidance]
) -> list[str]:
    columns = ["Rule", "Resource", "Reason", "Owner", "Expires", "Fix"] + (
        ["Plan"] if multi_plan else []
    )
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for f in findings[:MAX_TABLE_ROWS]:
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
    return rows + _more(findings)


def _details(summary_text: str, body: list[str]) -> list[str]:
    # An HTML block: markdown is not parsed on this line, so HTML escaping is the whole job.
    summary_html = html.escape(" ".join(summary_text.split()))
    return [f"<details><summary>{summary_html}</summary>", "", *body, "", "</details>", ""]


def _more(findings: list[Finding]) -> list[str]:
    hidden = len(findings) - MAX_TABLE_ROWS
    if hidden <= 0:
        return []
    return ["", f"... and {plural(hidden, 'more finding')}; the json and sarif formats list all."]
