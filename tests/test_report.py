"""Output formats: content, order, escaping, SARIF schema validity, JUnit well-formedness."""

from __future__ import annotations

import json
import random
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen import __version__
from tfgen.errors import InputError
from tfgen.model import (
    Finding,
    PlanInfo,
    RelatedResource,
    Report,
    RuleMeta,
    SourceLocation,
    Waiver,
)
from tfgen.report import FORMATS, render
from tfgen.report.github import escape_data, escape_property
from tfgen.report.markdown import MAX_TABLE_ROWS, cell
from tfgen.report.sarif import artifact_location, fingerprint

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = ROOT / "schemas" / "report.schema.json"
# RFC 3986 URI-reference characters (after percent-encoding).
URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")

ROTATION = RuleMeta(
    rule_id="KMS-001",
    title="KMS key rotation is enabled",
    description="Customer managed symmetric keys must rotate their key material yearly.",
    severity="high",
    enforcement="mandatory",
    remediation="Set enable_key_rotation = true on the aws_kms_key.",
    package="tfgen.rules.kms.rotation",
    file="rego/tfgen/rules/kms/rotation/rotation.rego",
    resource_types=("aws_kms_key",),
    frameworks=("CIS AWS 3.6 (v3.0.0)", "AWS Security Hub KMS.4"),
    related_resources=(
        RelatedResource(
            "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
            "Rotating AWS KMS keys",
        ),
    ),
)
TRAIL = RuleMeta(
    rule_id="CT-001",
    title="CloudTrail logs are encrypted with a KMS key",
    description="Trails should set kms_key_id.",
    severity="medium",
    enforcement="advisory",
    remediation="Set kms_key_id to the key's ARN.",
    package="tfgen.rules.cloudtrail.encryption",
    file="rego/tfgen/rules/cloudtrail/encryption/encryption.rego",
    resource_types=("aws_cloudtrail",),
)
WINDOW = RuleMeta(
    rule_id="KMS-002",
    title="Deletion window is long enough",
    description="",
    severity="low",
    enforcement="advisory",
    remediation="",
    package="tfgen.rules.kms.deletion_window",
    file="rego/tfgen/rules/kms/deletion_window/deletion_window.rego",
)
PLAN_A = PlanInfo("plans/prod.json", "1.2", "1.15.5", 12)
PLAN_B = PlanInfo("plans/dev plan.json", "1.2", "1.15.5", 3)
WAIVER = Waiver(
    "KMS-001", "module.legacy.*", "Legacy key, rotation after migration", "alice", "2027-01-31"
)


def finding(**overrides: Any) -> Finding:
    base: dict[str, Any] = {
        "rule_id": "KMS-001",
        "title": ROTATION.title,
        "severity": "high",
        "enforcement": "mandatory",
        "address": "aws_kms_key.this",
        "resource_type": "aws_kms_key",
        "message": "aws_kms_key.this does not enable key rotation",
        "plan": PLAN_A.path,
    }
    return Finding(**{**base, **overrides})


BLOCKING = finding(location=SourceLocation("modules/kms/main.tf", 3))
ADVISORY = finding(
    rule_id="CT-001",
    title=TRAIL.title,
    severity="medium",
    enforcement="advisory",
    address="module.trail.aws_cloudtrail.this[0]",
    resource_type="aws_cloudtrail",
    message="the trail has no kms_key_id",
    details={"attribute": "kms_key_id"},
)
WAIVED = finding(address='module.legacy.aws_kms_key.k["a"]', waiver=WAIVER)
OTHER_PLAN = finding(plan=PLAN_B.path, location=SourceLocation("/abs/dir/main.tf", 7))


def report(**overrides: Any) -> Report:
    base: dict[str, Any] = {
        "tool": {"tfgen": __version__, "engine": "embedded"},
        "plans": (PLAN_A,),
        "findings": (BLOCKING, ADVISORY, WAIVED),
        "rules": (ROTATION, TRAIL, WINDOW),
    }
    return Report(**{**base, **overrides})


@cache
def sarif_validator() -> Any:
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def assert_sarif_valid(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    for run in document["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            assert "helpUri" not in rule or re.fullmatch(r"https?://\S+", rule["helpUri"])
        for result in run["results"]:
            for location in result["locations"]:
                uri = location.get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
                assert uri is None or URI_CHARS.match(uri), uri
    return document


@cache
def report_validator() -> Any:
    import jsonschema

    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_report_valid(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    errors = sorted(report_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return document


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 - parses our own output


# Every format


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_deterministic_and_order_independent(fmt: str) -> None:
    findings = [BLOCKING, ADVISORY, WAIVED, OTHER_PLAN]
    first = render(report(plans=(PLAN_A, PLAN_B), findings=tuple(findings)), fmt)
    for seed in range(5):
        random.Random(seed).shuffle(findings)  # noqa: S311 - a shuffle, not a secret
        shuffled = report(
            plans=(PLAN_B, PLAN_A), findings=tuple(findings), rules=(WINDOW, TRAIL, ROTATION)
        )
        assert render(shuffled, fmt) == first
    assert "\x1b" not in first
    first.encode("utf-8")


def test_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^--format: unknown format 'yaml'"):
        render(report(), "yaml")


# text


def test_text_table_and_summary() -> None:
    out = render(report(), "text")
    lines = out.splitlines()
    assert lines[0].split() == ["STATUS", "SEVERITY", "RULE", "RESOURCE", "LOCATION"]
    assert lines[1].split() == [
        "blocking",
        "high",
        "KMS-001",
        "aws_kms_key.this",
        "modules/kms/main.tf:3",
    ]
    # The message follows without the address the row already shows, then the fix and the link.
    assert lines[2:5] == [
        "  does not enable key rotation",
        f"  fix: {ROTATION.remediation}",
        f"  see: {ROTATION.related_resources[0].ref}",
    ]
    assert lines[5].split() == [
        "advisory",
        "medium",
        "CT-001",
        "module.trail.aws_cloudtrail.this[0]",
    ]
    assert lines[6:8] == ["  the trail has no kms_key_id", f"  fix: {TRAIL.remediation}"]
    assert lines[8].split()[:3] == ["waived", "high", "KMS-001"]
    assert "  waived by alice until 2027-01-31: Legacy key, rotation after migration" in lines[9:12]
    assert lines[-1] == (
        "FAIL: 3 findings: 1 blocking, 1 advisory, 1 waived in 1 plan: "
        "plans/prod.json (12 resource changes, Terraform 1.15.5) (exit 1)"
    )


def test_text_fits_120_columns() -> None:
    long_address = 'module.security_baseline.module.cloudtrail.aws_kms_key.this["eu-west-1"]'
    long = finding(
        address=long_address,
        message=f"{long_address}: " + "statement AllowAccountAdmins grants kms:* " * 6,
        location=SourceLocation("modules/platform/security/baseline/cloudtrail/main.tf", 120),
    )
    out = render(report(findings=(long, BLOCKING)), "text")
    lines = out.splitlines()
    assert all(len(line) <= 120 for line in lines[:-1]), max(lines[:-1], key=len)
    assert "LOCATION" not in lines[0]  # too wide for one row: the location moves below it
    assert "  at: modules/platform/security/baseline/cloudtrail/main.tf:120" in lines
    assert sum(long_address in line for line in lines) == 1


def test_text_pass_error_and_color() -> None:
    passing = render(report(findings=(ADVISORY,)), "text")
    assert passing.splitlines()[-1].startswith("PASS: 1 finding: 0 blocking, 1 advisory")
    errored = render(report(findings=(), errors=("plans/x.json: truncated JSON",)), "text")
    assert errored.splitlines()[-2:] == [
        "error: plans/x.json: truncated JSON",
        "ERROR: no findings in 1 plan: plans/prod.json (12 resource changes, "
        "Terraform 1.15.5); 1 error (exit 2)",
    ]
    colored = render(report(), "text", color=True)
    assert "\x1b[31;1mblocking" in colored
    assert "\x1b[31;1mFAIL\x1b[0m" in colored


def test_text_escapes_terminal_control_characters() -> None:
    hostile = finding(message="bad\x1b[2J\x1b]0;pwned\x07\nsecond line\r", address="a\tb")
    out = render(report(findings=(hostile,)), "text")
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "bad\\x1b[2J\\x1b]0;pwned\\x07\\nsecond line\\r" in out
    assert "a\\tb" in out
    lines = out.splitlines()
    assert len(lines) == 7  # header, row, message, fix, link, blank, summary
    assert lines[1].rstrip().endswith("a\\tb")  # no location column value


def test_text_plan_column_with_several_plans() -> None:
    out = render(report(plans=(PLAN_A, PLAN_B), findings=(BLOCKING, OTHER_PLAN)), "text")
    lines = out.splitlines()
    assert lines[1].rstrip().endswith("/abs/dir/main.tf:7")
    assert lines[5] == "  plan: plans/dev plan.json"
    assert lines[10] == "  plan: plans/prod.json"


# json


def test_json_document() -> None:
    data = assert_report_valid(render(report(notices=("stale waiver",)), "json"))
    assert set(data) == {
        "tool",
        "plans",
        "findings",
        "summary",
        "errors",
        "notices",
        "skipped_rules",
    }
    assert data["tool"] == {"engine": "embedded", "tfgen": __version__}
    assert data["plans"] == [
        {
            "path": "plans/prod.json",
            "format_version": "1.2",
            "terraform_version": "1.15.5",
            "resources": 12,
        }
    ]
    first = data["findings"][0]
    assert first == {
        "rule_id": "KMS-001",
        "title": ROTATION.title,
        "severity": "high",
        "enforcement": "mandatory",
        "status": "blocking",
        "address": "aws_kms_key.this",
        "resource_type": "aws_kms_key",
        "message": "aws_kms_key.this does not enable key rotation",
        "plan": "plans/prod.json",
        "location": {"file": "modules/kms/main.tf", "line": 3},
        "waiver": None,
        "details": {},
        "remediation": ROTATION.remediation,
        "reference": ROTATION.related_resources[0].ref,
    }
    assert [f["status"] for f in data["findings"]] == ["blocking", "advisory", "waived"]
    assert data["findings"][1]["details"] == {"attribute": "kms_key_id"}
    assert data["findings"][2]["waiver"] == {
        "rule_id": "KMS-001",
        "address": "module.legacy.*",
        "reason": "Legacy key, rotation after migration",
        "owner": "alice",
        "expires": "2027-01-31",
        "location": None,
    }
    assert data["summary"] == {
        "result": "fail",
        "exit_code": 1,
        "plans": 1,
        "findings": 3,
        "blocking": 1,
        "advisory": 1,
        "waived": 1,
        "baselined": 0,
        "by_enforcement": {"mandatory": 2, "advisory": 1},
        "by_severity": {"critical": 0, "high": 2, "medium": 1, "low": 0},
        "errors": 0,
        "fail_on": "mandatory",
    }
    assert data["errors"] == [] and data["notices"] == ["stale waiver"]


def test_json_fail_on_advisory_and_errors() -> None:
    strict = json.loads(render(report(fail_on="advisory"), "json"))
    assert strict["summary"]["blocking"] == 2
    assert [f["status"] for f in strict["findings"]] == ["blocking", "blocking", "waived"]
    errored = json.loads(render(report(errors=("OPA unreachable",)), "json"))
    assert errored["summary"]["result"] == "error"
    assert errored["summary"]["exit_code"] == 2
    assert errored["errors"] == ["OPA unreachable"]


def test_json_survives_lone_surrogates_and_odd_details() -> None:
    odd = finding(message="\ud800 broken", details={"when": Path("/x"), "n": [1, 2.5, None]})
    text = render(report(findings=(odd,)), "json")
    text.encode("utf-8")
    data = json.loads(text)
    assert data["findings"][0]["message"] == "\ud800 broken"
    assert data["findings"][0]["details"] == {"when": "/x", "n": [1, 2.5, None]}


# sarif


def test_sarif_is_schema_valid_and_complete() -> None:
    doc = assert_sarif_valid(render(report(notices=("stale waiver",)), "sarif"))
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("tfgen", __version__)
    assert [r["id"] for r in driver["rules"]] == ["CT-001", "KMS-001", "KMS-002"]
    rotation = driver["rules"][1]
    assert rotation["shortDescription"]["text"] == ROTATION.title
    assert rotation["fullDescription"]["text"] == ROTATION.description
    assert rotation["help"]["text"] == ROTATION.remediation
    assert ROTATION.related_resources[0].ref in rotation["help"]["markdown"]
    assert rotation["helpUri"] == ROTATION.related_resources[0].ref
    assert rotation["defaultConfiguration"]["level"] == "error"
    assert driver["rules"][0]["defaultConfiguration"]["level"] == "warning"
    assert {"CIS AWS 3.6 (v3.0.0)", "AWS Security Hub KMS.4"} <= set(rotation["properties"]["tags"])
    assert rotation["properties"]["security-severity"] == "8.0"

    blocking, advisory, waived = run["results"]
    assert (blocking["ruleId"], blocking["level"]) == ("KMS-001", "error")
    assert driver["rules"][blocking["ruleIndex"]]["id"] == "KMS-001"
    (location,) = blocking["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "modules/kms/main.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "aws_kms_key.this"
    assert (advisory["ruleId"], advisory["level"]) == ("CT-001", "warning")
    assert "region" not in advisory["locations"][0]["physicalLocation"]
    assert "suppressions" not in blocking
    assert waived["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "Legacy key, rotation after migration",
            "properties": {
                "owner": "alice",
                "expires": "2027-01-31",
                "rule_id": "KMS-001",
                "address": "module.legacy.*",
            },
        }
    ]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolConfigurationNotifications"][0]["message"]["text"] == "stale waiver"


def test_sarif_errors_mark_the_run_unsuccessful() -> None:
    doc = assert_sarif_valid(render(report(findings=(), errors=("OPA unreachable",)), "sarif"))
    (invocation,) = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == 2
    assert invocation["toolExecutionNotifications"] == [
        {"level": "error", "message": {"text": "OPA unreachable"}}
    ]


def test_sarif_fingerprint_is_stable_per_rule_and_address() -> None:
    moved = replace(BLOCKING, plan="other.json", message="changed", location=None)
    assert fingerprint(moved) == fingerprint(BLOCKING)
    assert fingerprint(replace(BLOCKING, address="aws_kms_key.other")) != fingerprint(BLOCKING)
    assert fingerprint(replace(BLOCKING, rule_id="KMS-002")) != fingerprint(BLOCKING)


def test_sarif_stdin_plan_has_only_a_logical_location() -> None:
    stdin = replace(ADVISORY, plan="-")
    doc = assert_sarif_valid(render(report(findings=(stdin,)), "sarif"))
    (location,) = doc["runs"][0]["results"][0]["locations"]
    assert set(location) == {"logicalLocations"}


def test_sarif_help_uri_only_when_absolute() -> None:
    relative = replace(ROTATION, related_resources=(RelatedResource("docs/kms.md", "local"),))
    doc = assert_sarif_valid(render(report(rules=(relative,)), "sarif"))
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules["KMS-001"]
    assert "helpUri" not in rule
    assert "docs/kms.md" in rule["help"]["markdown"]


def test_sarif_unknown_rule_gets_a_descriptor() -> None:
    stray = finding(rule_id="X-999", title="Stray")
    doc = assert_sarif_valid(render(report(findings=(stray,), rules=(ROTATION,)), "sarif"))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["KMS-001", "X-999"]
    assert doc["runs"][0]["results"][0]["ruleIndex"] == 1


@pytest.mark.parametrize(
    "path, expected",
    [
        ("main.tf", {"uri": "main.tf", "uriBaseId": "%SRCROOT%"}),
        ("mod dir/a#b?.tf", {"uri": "mod%20dir/a%23b%3F.tf", "uriBaseId": "%SRCROOT%"}),
        ("weird:name.tf", {"uri": "weird%3Aname.tf", "uriBaseId": "%SRCROOT%"}),
        ("/abs/x y.tf", {"uri": "file:///abs/x%20y.tf"}),
        ("C:\\repo\\main.tf", {"uri": "file:///C:/repo/main.tf"}),
        ("modules\\kms\\main.tf", {"uri": "modules/kms/main.tf", "uriBaseId": "%SRCROOT%"}),
        ("caf\u00e9.tf", {"uri": "caf%C3%A9.tf", "uriBaseId": "%SRCROOT%"}),
    ],
)
def test_sarif_artifact_uris(path: str, expected: dict[str, str]) -> None:
    assert artifact_location(path) == expected


# junit


def test_junit_counts_and_cases() -> None:
    out = render(report(plans=(PLAN_A, PLAN_B), findings=(BLOCKING, ADVISORY, WAIVED)), "junit")
    root = parse_junit(out)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"plans/prod.json", "plans/dev plan.json"}
    prod = suites["plans/prod.json"]
    # 3 findings + KMS-002, the one rule without a finding in this plan
    assert (prod.get("tests"), prod.get("failures"), prod.get("skipped"), prod.get("errors")) == (
        "4",
        "1",
        "1",
        "0",
    )
    cases = prod.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("KMS-001", "aws_kms_key.this"),
        ("CT-001", "module.trail.aws_cloudtrail.this[0]"),
        ("KMS-001", 'module.legacy.aws_kms_key.k["a"]'),
        ("KMS-002", "no findings"),
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "high"
    assert cases[0].get("file") == "modules/kms/main.tf" and cases[0].get("line") == "3"
    assert cases[1].find("failure") is None
    assert "advisory" in (cases[1].findtext("system-out") or "")
    skipped = cases[2].find("skipped")
    assert skipped is not None and "alice" in (skipped.get("message") or "")
    dev = suites["plans/dev plan.json"]
    assert (dev.get("tests"), dev.get("failures")) == ("3", "0")
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "1", "1")


def test_junit_errors_are_error_cases() -> None:
    root = parse_junit(render(report(findings=(), errors=("a.json: truncated JSON",)), "junit"))
    assert root.get("errors") == "1"
    error_suite = root.findall("testsuite")[-1]
    assert error_suite.get("name") == "tfgen errors"
    error = error_suite.find("testcase/error")
    assert error is not None and error.get("message") == "a.json: truncated JSON"


def test_junit_escapes_xml() -> None:
    hostile = finding(message='<x a="1">]]>&amp;\x00\x1b\ud800', address="a<&>b")
    root = parse_junit(render(report(findings=(hostile,)), "junit"))
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "a<&>b"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == 'KMS-001 a<&>b: <x a="1">]]>&amp;\\u0000\\u001b\\ud800'


# github


def test_github_annotations() -> None:
    lines = render(
        report(notices=("stale waiver",), errors=("x.json: bad",)), "github"
    ).splitlines()
    assert lines[0] == (
        "::error file=modules/kms/main.tf,line=3,title=KMS-001 KMS key rotation is enabled"
        "::aws_kms_key.this: does not enable key rotation (high, mandatory)"
        f"%0AFix: {ROTATION.remediation}%0ASee: {ROTATION.related_resources[0].ref}"
    )
    assert lines[1].startswith(
        f"::warning title=CT-001 {TRAIL.title}::module.trail.aws_cloudtrail.this[0]: "
    )
    assert lines[1].endswith(f"%0AFix: {TRAIL.remediation}%0Aplan: plans/prod.json")
    assert lines[2].startswith(f"::notice title=KMS-001 {ROTATION.title}::")
    assert "%0AWaived by alice until 2027-01-31: Legacy key" in lines[2]
    assert lines[3] == "::notice title=tfgen::stale waiver"
    assert lines[4] == "::error title=tfgen error::x.json: bad"
    assert lines[5].startswith("tfgen: ERROR: 3 findings")


def test_github_escaping_follows_the_toolkit() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("::set-env\x1b[31m") == "::set-env\\x1b[31m"
    hostile = finding(
        message="x\n::error::injected", location=SourceLocation("a,b:c.tf", 1), rule_id="R,1::"
    )
    lines = render(report(findings=(hostile,)), "github").splitlines()
    assert len(lines) == 2
    assert lines[0] == (
        "::error file=a%2Cb%3Ac.tf,line=1,title=R%2C1%3A%3A KMS key rotation is enabled"
        "::aws_kms_key.this: x%0A::error::injected (high, mandatory)"
    )


# markdown


def test_markdown_comment() -> None:
    out = render(report(notices=("stale waiver",)), "markdown")
    lines = out.splitlines()
    assert lines[0] == "### tfgen: :x: **FAIL**"
    assert "1 blocking finding must be fixed or waived." in lines
    assert "| Blocking | 0 | 1 | 0 | 0 | 1 |" in lines
    assert "| Advisory | 0 | 0 | 1 | 0 | 1 |" in lines
    assert "| Waived | 0 | 1 | 0 | 0 | 1 |" in lines
    assert "#### Blocking findings" in lines
    row = next(line for line in lines if "modules/kms/main" in line)
    assert "<code>modules/kms/main.tf:3</code>" in row
    assert "<code>aws\\_kms\\_key.this</code>" in row
    assert "| does not enable key rotation |" in row
    assert row.endswith(
        "| Set enable\\_key\\_rotation = true on the aws\\_kms\\_key. "
        f"[docs]({ROTATION.related_resources[0].ref}) |"
    )
    assert "<details><summary>Advisory findings (1)</summary>" in lines
    assert "<details><summary>Waived findings (1)</summary>" in lines
    assert any("Legacy key, rotation after migration" in line for line in lines)
    assert "<details><summary>Notices (1)</summary>" in lines
    passing = render(report(findings=()), "markdown")
    assert passing.startswith("### tfgen: :white_check_mark: **PASS**\n\nNo blocking findings.")
    assert "| Blocking |" not in passing  # no counts table without findings
    errored = render(report(findings=(), errors=("a.json: no such file",)), "markdown")
    assert errored.splitlines()[:3] == [
        "### tfgen: :no_entry: **ERROR**",
        "",
        "The check did not complete: 1 error; the gate fails closed.",
    ]
    assert "- a.json: no such file" in errored.splitlines()


def test_markdown_cuts_long_tables() -> None:
    many = tuple(finding(address=f"aws_kms_key.k{i:03d}") for i in range(MAX_TABLE_ROWS + 7))
    out = render(report(findings=many), "markdown")
    assert sum(1 for line in out.splitlines() if line.startswith("| <code>KMS")) == MAX_TABLE_ROWS
    assert "... and 7 more findings; the json and sarif formats list all." in out
    assert "| Blocking | 0 | 107 | 0 | 0 | 107 |" in out


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_escapes_user_text() -> None:
    assert cell("a|b") == "a\\|b"
    assert cell("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert cell("@octocat [x](http://e) $x$") == "&#64;octocat \\[x\\](http://e) \\$x\\$"
    assert cell("l1\nl2") == "l1<br>l2"
    hostile = finding(message="a | b\n| c | d |", address="x|y", waiver=None)
    out = render(report(findings=(hostile,)), "markdown")
    header = "| Rule | Severity | Resource | Message | Location | Fix |"
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    table = rows[rows.index(header) :]
    assert all(_unescaped_pipes(line) == 7 for line in table)
    odd_link = replace(ROTATION, related_resources=(RelatedResource("https://e/x)|[y](z", "d"),))
    out = render(report(findings=(BLOCKING,), rules=(odd_link,)), "markdown")
    row = next(line for line in out.splitlines() if "modules/kms/main" in line)
    assert "](https://e" not in row  # not a URL that can be linked safely: shown as text
    assert _unescaped_pipes(row) == 7


# remediation and reference in every format


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "junit", "github", "codeclimate"])
def test_every_finding_carries_its_fix_and_first_reference(fmt: str) -> None:
    out = render(report(), fmt)
    if fmt == "markdown":
        out = re.sub(r"\\(.)", r"\1", out)
    if fmt == "junit":
        out = "".join(
            c.findtext("failure") or c.findtext("system-out") or ""
            for c in parse_junit(out).iter("testcase")
        )
    rotation_findings = 2  # BLOCKING and WAIVED
    assert out.count(ROTATION.remediation) >= rotation_findings, out
    assert out.count(ROTATION.related_resources[0].ref) >= rotation_findings, out
    assert TRAIL.remediation in out


def test_reference_is_the_first_http_url() -> None:
    local_first = replace(
        ROTATION,
        related_resources=(
            RelatedResource("docs/kms.md", "local"),
            RelatedResource("https://example.com/a", "a"),
            RelatedResource("https://example.com/b", "b"),
        ),
    )
    data = assert_report_valid(render(report(rules=(local_first, TRAIL)), "json"))
    assert data["findings"][0]["reference"] == "https://example.com/a"
    assert data["findings"][1]["reference"] == ""  # CT-001 has no reference
    stray = assert_report_valid(render(report(findings=(finding(rule_id="X-1"),)), "json"))
    assert (stray["findings"][0]["remediation"], stray["findings"][0]["reference"]) == ("", "")


# codeclimate (GitLab Code Quality)


def test_codeclimate_has_every_field_gitlab_documents() -> None:
    issues = json.loads(render(report(errors=("x.json: bad",)), "codeclimate"))
    assert isinstance(issues, list) and len(issues) == 4
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
        assert issue["type"] == "issue"
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    blocking, advisory, waived, error = issues
    assert blocking["check_name"] == "KMS-001"
    assert blocking["description"] == "KMS-001: aws_kms_key.this does not enable key rotation"
    assert blocking["location"] == {"path": "modules/kms/main.tf", "lines": {"begin": 3}}
    assert blocking["severity"] == "major"  # high
    assert ROTATION.remediation in blocking["content"]["body"]
    assert advisory["severity"] == "minor"  # medium, advisory
    assert advisory["location"] == {"path": "plans/prod.json", "lines": {"begin": 1}}
    assert waived["severity"] == "info"
    assert waived["description"].startswith("(waived by alice until 2027-01-31: ")
    assert (error["check_name"], error["severity"]) == ("tfgen/error", "blocker")
    assert "x.json: bad" in error["description"]


@pytest.mark.parametrize(
    "severity, enforcement, expected",
    [
        ("critical", "mandatory", "critical"),
        ("high", "mandatory", "major"),
        ("medium", "mandatory", "major"),  # it fails the gate: at least major
        ("low", "mandatory", "major"),
        ("critical", "advisory", "critical"),
        ("high", "advisory", "major"),
        ("medium", "advisory", "minor"),
        ("low", "advisory", "info"),
    ],
)
def test_codeclimate_severity_scale(severity: str, enforcement: str, expected: str) -> None:
    one = finding(severity=severity, enforcement=enforcement)
    (issue,) = json.loads(render(report(findings=(one,)), "codeclimate"))
    assert issue["severity"] == expected


def test_codeclimate_fingerprint_tells_plans_apart_and_is_stable() -> None:
    from tfgen.report.codeclimate import fingerprint as cc_fingerprint

    assert cc_fingerprint(BLOCKING) == cc_fingerprint(replace(BLOCKING, message="changed"))
    assert cc_fingerprint(BLOCKING) != cc_fingerprint(replace(BLOCKING, plan="other.json"))
    assert cc_fingerprint(BLOCKING) != cc_fingerprint(replace(BLOCKING, address="aws_kms_key.x"))
    assert json.loads(render(report(findings=()), "codeclimate")) == []


# property test: hostile reports render in every format


HOSTILE_PIECES = [
    "|", "<", ">", "]]>", "&", "%", "::", ":", ",", "@", "`", "*", "_", "[", "]", "#", "-",
    "\\", '"', "'", " ", "caf\u00e9", "\n", "\r", "\t", "\x1b[31m", "\x00", "\ud800", "\u2028",
]  # fmt: skip
HOSTILE = st.lists(
    st.sampled_from(HOSTILE_PIECES) | st.text(max_size=6),
    max_size=8,
).map("".join)
SEVERITY = st.sampled_from(["critical", "high", "medium", "low"])
ENFORCEMENT = st.sampled_from(["mandatory", "advisory"])
JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE, inner, max_size=3),
    max_leaves=8,
)
RULE_IDS = st.sampled_from(["KMS-001", "CT-001", "KMS-002"]) | HOSTILE
PLANS = st.sampled_from(["plans/prod.json", "-", "dir with space/p.json"]) | HOSTILE

findings_strategy = st.builds(
    Finding,
    rule_id=RULE_IDS,
    title=HOSTILE,
    severity=SEVERITY,
    enforcement=ENFORCEMENT,
    address=HOSTILE,
    resource_type=HOSTILE,
    message=HOSTILE,
    plan=PLANS,
    location=st.none()
    | st.builds(SourceLocation, file=HOSTILE, line=st.integers(min_value=-2, max_value=10**6)),
    waiver=st.none()
    | st.builds(
        Waiver, rule_id=HOSTILE, address=HOSTILE, reason=HOSTILE, owner=HOSTILE, expires=HOSTILE
    ),
    details=st.dictionaries(HOSTILE, JSON, max_size=3),
)
rules_strategy = st.builds(
    RuleMeta,
    rule_id=RULE_IDS,
    title=HOSTILE,
    description=HOSTILE,
    severity=SEVERITY,
    enforcement=ENFORCEMENT,
    remediation=HOSTILE,
    package=HOSTILE,
    file=HOSTILE,
    resource_types=st.lists(HOSTILE, max_size=2).map(tuple),
    frameworks=st.lists(HOSTILE, max_size=2).map(tuple),
    related_resources=st.lists(
        st.builds(RelatedResource, ref=HOSTILE, description=HOSTILE), max_size=2
    ).map(tuple),
)
reports_strategy = st.builds(
    Report,
    tool=st.dictionaries(HOSTILE, HOSTILE, max_size=3),
    plans=st.lists(
        st.builds(
            PlanInfo,
            path=PLANS,
            format_version=HOSTILE,
            terraform_version=HOSTILE,
            resources=st.integers(min_value=0, max_value=10**6),
        ),
        max_size=3,
    ).map(tuple),
    findings=st.lists(findings_strategy, max_size=6).map(tuple),
    rules=st.lists(rules_strategy, max_size=4, unique_by=lambda r: r.rule_id).map(tuple),
    errors=st.lists(HOSTILE, max_size=2).map(tuple),
    notices=st.lists(HOSTILE, max_size=2).map(tuple),
    fail_on=ENFORCEMENT,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports_strategy)
def test_any_report_renders_safely_in_every_format(rep: Report) -> None:
    outputs = {fmt: render(rep, fmt) for fmt in FORMATS}
    for fmt, out in outputs.items():
        out.encode("utf-8")
        assert "\x1b" not in out.replace("\\x1b", "").replace("\\u001b", ""), fmt

    data = assert_report_valid(outputs["json"])
    assert len(data["findings"]) == len(rep.findings)

    issues = json.loads(outputs["codeclimate"])
    assert len(issues) == len(rep.findings) + len(rep.errors)
    assert all(i["location"]["lines"]["begin"] >= 1 and i["location"]["path"] for i in issues)
    assert data["summary"]["exit_code"] == rep.exit_code
    assert data["errors"] == list(rep.errors)

    sarif = assert_sarif_valid(outputs["sarif"])
    results = sarif["runs"][0]["results"]
    assert len(results) == len(rep.findings)
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is (not rep.errors)
    assert sum(1 for r in results if "suppressions" in r) == sum(
        1 for f in rep.findings if f.waiver
    )

    root = parse_junit(outputs["junit"])
    failures = sum(1 for _ in root.iter("failure"))
    assert failures == sum(1 for f in rep.findings if rep.blocks(f))
    assert sum(1 for _ in root.iter("error")) == len(rep.errors)
    assert root.get("failures") == str(failures)

    github = outputs["github"].splitlines()
    assert len(github) == len(rep.findings) + len(rep.errors) + len(rep.notices) + 1
    assert all(line.startswith("::") for line in github[:-1])

    text = outputs["text"].splitlines()
    summary_line = text[-1]
    assert summary_line.startswith(("PASS", "FAIL", "ERROR"))
    assert summary_line.endswith(f"(exit {rep.exit_code})")


# Through `tfgen check` with the embedded engine and the real rule pack


def test_every_format_through_the_cli(tmp_path: Path) -> None:
    import contextlib
    import io

    from helpers import FIXTURES

    from tfgen.cli import main

    plan = tmp_path / "plan dir" / "plan.json"
    plan.parent.mkdir()
    plan.write_bytes((FIXTURES / "bad" / "control_valid_plan.json").read_bytes())
    outputs: dict[str, str] = {}
    for fmt in FORMATS:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["check", str(plan), "--format", fmt, "--output", str(tmp_path / fmt)])
        assert code == 1, fmt
        assert err.getvalue().startswith("FAIL: ") and err.getvalue().count("\n") == 1, fmt
        outputs[fmt] = (tmp_path / fmt).read_text(encoding="utf-8")
    addresses = {"aws_kms_key.this", "module.child.aws_kms_key.k"}

    data = json.loads(outputs["json"])
    rotation = [f for f in data["findings"] if f["rule_id"] == "KMS-001"]
    assert {f["address"] for f in rotation} == addresses
    assert {f["plan"] for f in rotation} == {str(plan)}
    assert data["summary"]["exit_code"] == 1

    sarif = assert_sarif_valid(outputs["sarif"])
    run = sarif["runs"][0]
    assert "KMS-001" in {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    results = [r for r in run["results"] if r["ruleId"] == "KMS-001"]
    assert {r["locations"][0]["logicalLocations"][0]["name"] for r in results} == addresses
    assert all(r["level"] == "error" for r in results)

    root = parse_junit(outputs["junit"])
    failed = {
        case.get("name") for case in root.iter("testcase") if case.find("failure") is not None
    }
    assert addresses <= failed
    assert root.get("failures") == str(data["summary"]["blocking"])

    github = outputs["github"].splitlines()
    assert sum(line.startswith("::error title=KMS-001") for line in github) == 2
    assert outputs["markdown"].startswith("### tfgen: :x: **FAIL**")
    assert outputs["text"].splitlines()[-1].startswith("FAIL: ")


def _many(count: int) -> Report:
    findings = tuple(
        finding(
            address=f"module.m{i % 50}.aws_kms_key.k{i}",
            enforcement="mandatory" if i % 2 else "advisory",
            location=SourceLocation("main.tf", i + 1) if i % 3 else None,
            waiver=WAIVER if i % 7 == 0 else None,
        )
        for i in range(count)
    )
    return report(findings=findings)


def _work(rep: Report, fmt: str) -> int:
    """Python lines executed plus builtins called while rendering: a count of work, not a time."""
    render(rep, fmt)  # warm module-level caches, so both sizes are counted alike
    steps = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal steps
        steps += 1
        return trace

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal steps
        steps += event == "c_call"

    tracer, profiler = sys.gettrace(), sys.getprofile()  # a debugger's or coverage's, restored
    sys.settrace(trace)
    sys.setprofile(profile)
    try:
        render(rep, fmt)
    finally:
        sys.settrace(tracer)
        sys.setprofile(profiler)
    return steps


@pytest.mark.parametrize("fmt", FORMATS)
def test_rendering_work_grows_linearly(fmt: str) -> None:
    """8x the findings take at most 10x the work: linear is 8x, quadratic would be 64x."""
    small, large = _work(_many(250), fmt), _work(_many(2000), fmt)
    assert large <= 10 * small


def test_large_json_is_compact_and_complete() -> None:
    from tfgen.report.jsondoc import INDENT_LIMIT

    text = render(_many(INDENT_LIMIT + 1), "json")
    assert text.count("\n") == 1
    assert len(json.loads(text)["findings"]) == INDENT_LIMIT + 1
    assert render(_many(3), "json").count("\n") > 10


def test_findings_carry_the_revision_that_judged_their_plan() -> None:
    """An OPA server's provenance reaches every finding of its plan (JSON and SARIF)."""
    plans = (replace(PLAN_A, revision="tfgen=rev-a"), replace(PLAN_B, revision="tfgen=rev-b"))
    judged = report(plans=plans, findings=(BLOCKING, ADVISORY, WAIVED, OTHER_PLAN))
    by_plan = {plan.path: plan.revision for plan in plans}
    data = assert_report_valid(render(judged, "json"))
    assert {f["revision"] for f in data["findings"]} == {"tfgen=rev-a", "tfgen=rev-b"}
    assert all(f["revision"] == by_plan[f["plan"]] for f in data["findings"])
    results = assert_sarif_valid(render(judged, "sarif"))["runs"][0]["results"]
    assert all(r["properties"]["revision"] == by_plan[r["properties"]["plan"]] for r in results)
    # The embedded engine has no provenance: no revision key at all.
    assert all("revision" not in f for f in json.loads(render(report(), "json"))["findings"])
