"""JUnit XML for CI test views (Jenkins, GitLab, Azure): a suite per plan, a case per finding or rule."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from tfgen.model import Finding, Report
from tfgen.report._common import Guidance, guidance, location_text, ordered, status, waived_by

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
PASSING_NAME = "no findings"
ERRORS_SUITE = "tfgen errors"


def xml_safe(value: object) -> str:
    """Text ElementTree can escape into well-formed XML: disallowed characters become escapes."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", str(value))


def render(report: Report) -> str:
    findings = ordered(report)
    helps = guidance(report)
    by_plan: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_plan[finding.plan].append(finding)
    plans = sorted({plan.path for plan in report.plans} | set(by_plan))
    root = ET.Element("testsuites", {"name": "tfgen"})
    for plan in plans:
        root.append(_suite(report, plan, by_plan.get(plan, []), helps))
    if report.errors:
        root.append(_errors_suite(report.errors))
    _count(root, root.findall("testsuite"))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


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


def _count(root: ET.Element, suites: list[ET.Element]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in suites)))
