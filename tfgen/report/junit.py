"""JUnit XML for CI test views (Jenkins, GitLab, Azure): a suite per plan, a case per finding or rule."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TextIO

from tfgen.model import Finding, Report
from tfgen.report._common import (
    Guidance,
    guidance,
    location_text,
    ordered_by_plan,
    status,
    waived_by,
)

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
PASSING_NAME = "no findings"
ERRORS_SUITE = "tfgen errors"


def xml_safe(value: object) -> str:
    """Text ElementTree can escape into well-formed XML: disallowed characters become escapes."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", str(value))


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_TOTALS = ("tests", "failures", "errors", "skipped")


def write(report: Report, out: TextIO) -> None:
    """The suites are made and written one plan at a time; the totals on the root element come
    from a first pass that counts."""
    helps = guidance(report)
    plans = _plan_counts(report)
    root = ET.Element("testsuites", {"name": "tfgen"})
    totals = dict.fromkeys(_TOTALS, 0)
    for counts in plans.values():
        for key in _TOTALS:
            totals[key] += getattr(counts, key)
    totals["tests"] += len(report.errors)
    totals["errors"] += len(report.errors)
    for key in _TOTALS:
        root.set(key, str(totals[key]))
    empty = ET.tostring(root, encoding="unicode")
    if not plans and not report.errors:
        out.write(_DECLARATION + empty + "\n")
        return
    out.write(_DECLARATION + empty.removesuffix(" />") + ">")
    suites = ordered_by_plan(report)
    pending = next(suites, None)
    for plan in sorted(plans):
        findings: list[Finding] = []
        if pending is not None and pending[0] == plan:
            findings = pending[1]
            pending = next(suites, None)
        _write_suite(out, _suite(report, plan, findings, helps))
    if report.errors:
        _write_suite(out, _errors_suite(report.errors))
    out.write("\n</testsuites>\n")


def _write_suite(out: TextIO, suite: ET.Element) -> None:
    """One suite, indented as ET.indent indents it inside the root element."""
    ET.indent(suite, level=1)
    out.write("\n  " + ET.tostring(suite, encoding="unicode"))


@dataclass
class _Counts:
    """A plan's suite totals, counted without making the suite."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    rules: set[str] = field(default_factory=set)


def _plan_counts(report: Report) -> dict[str, _Counts]:
    """Every plan's suite totals: its findings, and a case per rule skipped or without findings."""
    plans = {plan.path: _Counts() for plan in report.plans}
    for finding in report.findings:
        counts = plans.setdefault(finding.plan, _Counts())
        counts.tests += 1
        state = status(report, finding)
        counts.failures += state == "blocking"
        counts.skipped += state == "waived"
        counts.rules.add(finding.rule_id)
    skipped = dict(report.skipped_rules)
    for counts in plans.values():
        for rule in report.rules:
            if rule.rule_id in skipped:
                counts.tests += 1
                counts.skipped += 1
            elif rule.rule_id not in counts.rules:
                counts.tests += 1
    return plans


def _element(tag: str, attrs: dict[str, str], text: str | None = None) -> ET.Element:
    element = ET.Element(tag, {key: xml_safe(value) for key, value in attrs.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _suite(
    report: Report, plan: str, findings: list[Finding], helps: dict[str, Guidance]
) -> ET.Element:
    suite = _element("testsuite", {"name": plan, "time": "0"})
    properties = ET.SubElement(suite, "properties")
    properties.append(_element("property", {"name": "plan", "value": plan}))
    for finding in findings:
        suite.append(_case(report, finding, helps.get(finding.rule_id, Guidance())))
    with_findings = {f.rule_id for f in findings}
    skipped = dict(report.skipped_rules)
    for rule in sorted(report.rules, key=lambda r: r.rule_id):
        if rule.rule_id in skipped:
            case = _element("testcase", {"classname": rule.rule_id, "name": "skipped", "time": "0"})
            case.append(_element("skipped", {"message": f"rule skipped: {skipped[rule.rule_id]}"}))
            suite.append(case)
        elif rule.rule_id not in with_findings:
            suite.append(
                _element("testcase", {"classname": rule.rule_id, "name": PASSING_NAME, "time": "0"})
            )
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    return suite


def _case(report: Report, finding: Finding, help_: Guidance) -> ET.Element:
    attrs = {"classname": finding.rule_id, "name": finding.address, "time": "0"}
    if finding.location is not None:
        attrs["file"] = finding.location.file
        attrs["line"] = str(finding.location.line)
    case = _element("testcase", attrs)
    state = status(report, finding)
    body = _body(finding, help_)
    if state == "blocking":
        case.append(
            _element(
                "failure",
                {
                    "message": f"{finding.rule_id} {finding.address}: {finding.message}",
                    "type": finding.severity,
                },
                body,
            )
        )
    elif state == "waived" and finding.waiver is not None:
        waiver = finding.waiver
        case.append(
            _element(
                "skipped",
                {"message": waived_by(waiver)},
            )
        )
        case.append(_element("system-out", {}, body))
    else:
        why = "baselined" if state == "baselined" else "advisory"
        case.append(_element("system-out", {}, f"{why}, does not fail the gate\n{body}"))
    return case


def _body(finding: Finding, help_: Guidance) -> str:
    lines = [
        f"{finding.rule_id} {finding.title}",
        f"severity: {finding.severity}, enforcement: {finding.enforcement}",
        f"resource: {finding.address} ({finding.resource_type})",
        f"message: {finding.message}",
    ]
    if finding.location is not None:
        lines.append(f"location: {location_text(finding)}")
    if help_.remediation:
        lines.append(f"remediation: {help_.remediation}")
    if help_.reference:
        lines.append(f"reference: {help_.reference}")
    return "\n".join(lines)


def _errors_suite(errors: tuple[str, ...]) -> ET.Element:
    suite = _element("testsuite", {"name": ERRORS_SUITE, "time": "0"})
    for number, error in enumerate(errors, start=1):
        case = _element("testcase", {"classname": "tfgen", "name": f"error {number}", "time": "0"})
        case.append(_element("error", {"message": error, "type": "TfgenError"}, error))
        suite.append(case)
    suite.set("tests", str(len(errors)))
    suite.set("failures", "0")
    suite.set("errors", str(len(errors)))
    suite.set("skipped", "0")
    return suite
