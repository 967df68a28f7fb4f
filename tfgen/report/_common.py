"""What every format shares: finding order, status, counts, verdict, and control-character scrubbing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from tfgen.model import SEVERITIES, Finding, Kind, Report, RuleMeta, Waiver, kind, tally
from tfgen.spool import by_plan

Status = Literal["blocking", "advisory", "baselined", "waived"]
STATUSES: tuple[Status, ...] = ("blocking", "advisory", "baselined", "waived")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# A reference counts as a URL when it is an absolute http(s) URL without spaces or quotes.
_URL = re.compile(r'https?://[^\s<>"]+')
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def status(report: Report, finding: Finding) -> Status:
    """Waived, blocking (fails the gate), or advisory (reported, does not fail the gate)."""
    return kind_status(report, kind(finding))


def kind_status(report: Report, key: Kind) -> Status:
    """The status of findings of this kind."""
    _, _, waived, baselined = key
    if waived:
        return "waived"
    if baselined:
        return "baselined"
    return "blocking" if report.blocks_kind(key) else "advisory"


def waived_by(waiver: Waiver) -> str:
    """ "waived by OWNER until DATE: REASON" (no date for a tfgen:ignore that never expires)."""
    until = f" until {waiver.expires}" if waiver.expires else ""
    return f"waived by {waiver.owner}{until}: {waiver.reason}"


def ordered(report: Report) -> Iterator[Finding]:
    """Findings in one total, stable order: plan, status, severity, rule, address, message."""
    for _, findings in ordered_by_plan(report):
        yield from findings


def ordered_by_plan(report: Report) -> Iterator[tuple[str, list[Finding]]]:
    """Per plan path, in path order, its findings in the order of `ordered`: one plan held at a
    time."""
    key = _order_key(report)
    for plan, findings in by_plan(report.findings):
        findings.sort(key=key)
        yield plan, findings


def _order_key(report: Report) -> Callable[[Finding], tuple[Any, ...]]:
    def key(finding: Finding) -> tuple[Any, ...]:
        location = finding.location
        return (
            STATUSES.index(status(report, finding)),
            SEVERITIES.index(finding.severity)
            if finding.severity in SEVERITIES
            else len(SEVERITIES),
            finding.rule_id,
            finding.address,
            finding.message,
            (location.file, location.line) if location else ("", 0),
            dumps_stable(finding.details),
        )

    return key


def revisions(report: Report) -> dict[str, str]:
    """Plan -> the bundle revisions that judged it, for plans an OPA server judged."""
    return {plan.path: plan.revision for plan in report.plans if plan.revision}


def dumps_stable(value: Any) -> str:
    """JSON with sorted keys; values JSON cannot hold become their str()."""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=True)


def verdict(report: Report) -> Literal["pass", "fail", "error"]:
    """pass (exit 0), fail (exit 1) or error (exit 2: the gate could not check everything)."""
    code = report.exit_code
    return "pass" if code == 0 else "fail" if code == 1 else "error"


def summary(report: Report) -> dict[str, Any]:
    """Counts by enforcement, severity and status, and the exit code."""
    statuses = dict.fromkeys(STATUSES, 0)
    by_enforcement = {"mandatory": 0, "advisory": 0}
    by_severity = dict.fromkeys(SEVERITIES, 0)
    total = 0
    for key, count in tally(report.findings).items():
        enforcement, severity, _, _ = key
        statuses[kind_status(report, key)] += count
        by_enforcement[enforcement] = by_enforcement.get(enforcement, 0) + count
        by_severity[severity] = by_severity.get(severity, 0) + count
        total += count
    return {
        "result": verdict(report),
        "exit_code": report.exit_code,
        "plans": len(report.plans),
        "findings": total,
        "blocking": statuses["blocking"],
        "advisory": statuses["advisory"],
        "waived": statuses["waived"],
        "baselined": statuses["baselined"],
        "by_enforcement": by_enforcement,
        "by_severity": by_severity,
        "errors": len(report.errors),
        "fail_on": report.fail_on,
    }


def one_line(value: object) -> str:
    """A string safe for a terminal or a single output line: control characters become escapes."""
    return _CONTROL.sub(_escape_control, str(value))


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@dataclass(frozen=True)
class Guidance:
    """How to fix a rule's findings and its first reference URL, from the rule's METADATA."""

    remediation: str = ""
    reference: str = ""


def guidance(report: Report) -> dict[str, Guidance]:
    """Per rule id: its remediation and first reference URL (empty for rules not in the catalog)."""
    return {rule.rule_id: _guidance(rule) for rule in report.rules}


def _guidance(rule: RuleMeta) -> Guidance:
    refs = [r.ref for r in rule.related_resources if _URL.fullmatch(r.ref)]
    return Guidance(rule.remediation, refs[0] if refs else "")


def short_message(finding: Finding) -> str:
    """The message without the resource address it starts with, for formats that show the address."""
    message, address = finding.message, finding.address
    if address and message.startswith(address):
        rest = message[len(address) :]
        if rest.startswith(": "):
            return rest[2:]
        if rest.startswith(" "):
            return rest[1:]
    return message


def location_text(finding: Finding) -> str:
    location = finding.location
    return f"{location.file}:{location.line}" if location else ""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
