"""GitLab Code Quality (a subset of the Code Climate spec): findings in merge-request widgets."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any, Literal, TextIO

from tfgen.model import Finding, Report, Severity
from tfgen.report._common import Guidance, guidance, ordered, status, waived_by
from tfgen.report.jsondoc import Items, write_json

GitLabSeverity = Literal["info", "minor", "major", "critical", "blocker"]
SEVERITY: dict[Severity, GitLabSeverity] = {
    "critical": "critical",
    "high": "major",
    "medium": "minor",
    "low": "info",
}
# GitLab needs a path for every issue: run errors (and findings from stdin) name this one.
NO_PATH = "."
ERROR_CHECK = "tfgen/error"


def write(report: Report, out: TextIO) -> None:
    write_json(out, lambda: document(report), len(report.findings))


def document(report: Report) -> Items:
    """One issue per finding (waived ones as info), then one blocker per run error; made as they
    are written."""
    helps = guidance(report)
    issues = (
        _issue(report, finding, helps.get(finding.rule_id, Guidance()))
        for finding in ordered(report)
    )
    errors = (_error(number, error) for number, error in enumerate(report.errors, start=1))
    return Items(itertools.chain(issues, errors))


def gitlab_severity(report: Report, finding: Finding) -> GitLabSeverity:
    """The rule's severity on GitLab's scale; a finding that fails the gate is at least major, a
    waived one is info."""
    state = status(report, finding)
    if state in ("waived", "baselined"):
        return "info"
    mapped = SEVERITY.get(finding.severity, "major")
    if state == "blocking" and mapped in ("info", "minor"):
        return "major"
    return mapped


def fingerprint(finding: Finding) -> str:
    """Unique per rule, resource and plan, and stable across runs (GitLab tracks issues by it)."""
    key = f"{finding.rule_id}\0{finding.address}\0{finding.plan}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _issue(report: Report, finding: Finding, help_: Guidance) -> dict[str, Any]:
    description = f"{finding.rule_id}: {finding.message}"
    if finding.waiver is not None:
        waiver = finding.waiver
        description = f"({waived_by(waiver)}) {description}"
    location = finding.location if finding.location is not None and finding.location.file else None
    plan = finding.plan if finding.plan not in ("", "-") else NO_PATH
    path = location.file if location is not None else plan
    line = location.line if location is not None else 1
    issue: dict[str, Any] = {
        "type": "issue",
        "description": description,
        "check_name": finding.rule_id,
        "fingerprint": fingerprint(finding),
        "severity": gitlab_severity(report, finding),
        "categories": ["Security"],
        "location": {"path": path, "lines": {"begin": max(line, 1)}},
        "content": {"body": _body(finding, help_)},
        "engine_name": "tfgen",
    }
    return issue


def _body(finding: Finding, help_: Guidance) -> str:
    parts = [f"**{finding.title or finding.rule_id}** ({finding.severity}, {finding.enforcement})"]
    if help_.remediation:
        parts.append(f"Fix: {help_.remediation}")
    if help_.reference:
        parts.append(f"See: {help_.reference}")
    return "\n\n".join(parts)


def _error(number: int, error: str) -> dict[str, Any]:
    return {
        "type": "issue",
        "description": f"tfgen could not check everything: {error}",
        "check_name": ERROR_CHECK,
        "fingerprint": hashlib.sha256(
            f"error\0{number}\0{error}".encode("utf-8", "surrogatepass")
        ).hexdigest(),
        "severity": "blocker",
        "categories": ["Bug Risk"],
        "location": {"path": NO_PATH, "lines": {"begin": 1}},
        "engine_name": "tfgen",
    }
