"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps): rules from METADATA, one run."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, TextIO
from urllib.parse import quote

from tfgen import __version__
from tfgen.model import Finding, Report, RuleMeta
from tfgen.report._common import ordered, revisions, status
from tfgen.report.jsondoc import Items, write_json

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
_LEVELS = {"mandatory": "error", "advisory": "warning"}
# helpUri must be an absolute URI (the schema's format "uri"); anything else is left out.
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# GitHub code scanning ranks results by this score (CVSS-like, 0.0-10.0).
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def write(report: Report, out: TextIO) -> None:
    write_json(out, lambda: document(report), len(report.findings))


def document(report: Report) -> dict[str, Any]:
    """The SARIF log; its results are Items, made as they are written."""
    known = {rule.rule_id for rule in report.rules}
    unknown, relative = False, False
    for finding in report.findings:
        unknown = unknown or finding.rule_id not in known
        relative = relative or "uriBaseId" in (_artifact(finding) or {})
        if unknown and relative:
            break
    rules = _rules(report, unknown)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    judged_by = revisions(report)
    run: dict[str, Any] = {
        "tool": {"driver": _driver(rules)},
        "invocations": [_invocation(report)],
        "results": Items(_result(report, f, index[f.rule_id], judged_by) for f in ordered(report)),
        "columnKind": "unicodeCodePoints",
        "properties": {
            "tool": dict(sorted(report.tool.items())),
            "plans": [
                {
                    "path": plan.path,
                    "formatVersion": plan.format_version,
                    "terraformVersion": plan.terraform_version,
                    "resources": plan.resources,
                }
                for plan in sorted(report.plans, key=lambda p: p.path)
            ],
        },
    }
    if relative:
        run["originalUriBaseIds"] = {
            SRCROOT: {"description": {"text": "The directory tfgen ran in."}}
        }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _driver(rules: list[dict[str, Any]]) -> dict[str, Any]:
    driver: dict[str, Any] = {
        "name": "tfgen",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules,
    }
    uri = _information_uri()
    if uri:
        driver["informationUri"] = uri
    return driver


@functools.cache  # read once: the installed metadata does not change while tfgen runs
def _information_uri() -> str | None:
    """The project's home page from the installed package metadata, if it declares one."""
    from importlib import metadata  # ~50 ms to import: only SARIF reports read package metadata

    try:
        meta = metadata.metadata("tfgen")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source") and url.strip():
            return url.strip()
    home = str(meta["Home-page"] or "").strip()
    return home or None


def _invocation(report: Report) -> dict[str, Any]:
    """Errors as execution notifications (the run failed); waiver notices as configuration notes."""
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.errors,
        "exitCode": report.exit_code,
    }
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": error}} for error in report.errors
        ]
    if report.notices:
        invocation["toolConfigurationNotifications"] = [
            {"level": "note", "message": {"text": notice}} for notice in sorted(report.notices)
        ]
    return invocation


def _rules(report: Report, unknown: bool) -> list[dict[str, Any]]:
    """Every catalog rule, plus a minimal descriptor for any result whose rule is not in it
    (`unknown`: there are such results)."""
    known = {rule.rule_id: rule for rule in report.rules}
    descriptors = {rule_id: _descriptor(rule) for rule_id, rule in known.items()}
    for finding in ordered(report) if unknown else ():
        if finding.rule_id not in descriptors:
            descriptors[finding.rule_id] = {
                "id": finding.rule_id,
                "shortDescription": {"text": finding.title or finding.rule_id},
                "defaultConfiguration": {"level": _LEVELS.get(finding.enforcement, "warning")},
            }
    return [descriptors[rule_id] for rule_id in sorted(descriptors)]


def _descriptor(rule: RuleMeta) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.rule_id,
        "name": _pascal(rule.title) or rule.rule_id,
        "shortDescription": {"text": rule.title or rule.rule_id},
        "fullDescription": {"text": rule.description or rule.title or rule.rule_id},
        "defaultConfiguration": {"level": _LEVELS.get(rule.enforcement, "warning")},
        "properties": {
            "tags": list(
                dict.fromkeys(["security", "terraform", *rule.frameworks, *rule.resource_types])
            ),
            "precision": "very-high",
            "problem.severity": "error" if rule.enforcement == "mandatory" else "warning",
            "security-severity": _SECURITY_SEVERITY.get(rule.severity, "5.5"),
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "frameworks": list(rule.frameworks),
        },
    }
    if rule.remediation:
        links = "".join(
            f"\n- [{_md_link_text(r.description or r.ref)}]({r.ref})"
            for r in rule.related_resources
            if r.ref
        )
        descriptor["help"] = {
            "text": rule.remediation,
            "markdown": rule.remediation + ("\n\nReferences:" + links if links else ""),
        }
    if rule.related_resources and _ABSOLUTE_URI.fullmatch(rule.related_resources[0].ref):
        descriptor["helpUri"] = rule.related_resources[0].ref
    return descriptor


def _pascal(title: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _md_link_text(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", " ".join(text.split()))


def _result(
    report: Report, finding: Finding, rule_index: int, judged_by: dict[str, str]
) -> dict[str, Any]:
    state = status(report, finding)
    level = "error" if state == "blocking" else _LEVELS.get(finding.enforcement, "warning")
    location: dict[str, Any] = {
        "logicalLocations": [
            {"name": finding.address, "fullyQualifiedName": finding.address, "kind": "resource"}
        ]
    }
    artifact = _artifact(finding)
    if artifact is not None:
        physical: dict[str, Any] = {"artifactLocation": artifact}
        if finding.location is not None and finding.location.line >= 1:
            physical["region"] = {"startLine": finding.location.line}
        location["physicalLocation"] = physical
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": finding.message or finding.title or finding.rule_id},
        "locations": [location],
        "partialFingerprints": {"tfgenRuleAddress/v1": fingerprint(finding)},
        "properties": {
            "severity": finding.severity,
            "enforcement": finding.enforcement,
            "status": state,
            "address": finding.address,
            "resourceType": finding.resource_type,
            "plan": finding.plan,
            "details": finding.details,
        },
    }
    revision = judged_by.get(finding.plan)
    if revision:  # the bundle revisions of the OPA server that judged it
        result["properties"]["revision"] = revision
    if report.baseline and finding.waiver is None:  # new, or held by the baseline
        result["baselineState"] = "unchanged" if finding.baselined else "new"
    if finding.waiver is not None:
        waiver = finding.waiver
        suppression: dict[str, Any] = {
            "kind": "external",
            "status": "accepted",
            "justification": waiver.reason,
            "properties": {
                "owner": waiver.owner,
                "expires": waiver.expires,
                "rule_id": waiver.rule_id,
                "address": waiver.address,
            },
        }
        if waiver.location is not None:  # a tfgen:ignore comment beside the resource
            suppression["kind"] = "inSource"
            suppression["location"] = {
                "physicalLocation": {
                    "artifactLocation": {"uri": waiver.location.file},
                    "region": {"startLine": waiver.location.line},
                }
            }
        result["suppressions"] = [suppression]
    return result


def fingerprint(finding: Finding) -> str:
    """Stable across runs and plans for the same rule and resource address."""
    return hashlib.sha256(
        f"{finding.rule_id}\0{finding.address}".encode("utf-8", "surrogatepass")
    ).hexdigest()


def _artifact(finding: Finding) -> dict[str, str] | None:
    """The source file when known, else the plan file; nothing for stdin."""
    path = finding.location.file if finding.location is not None else finding.plan
    if not path or path in ("-", "<stdin>"):
        return None
    return artifact_location(path)


def artifact_location(path: str) -> dict[str, str]:
    """A path as a SARIF artifactLocation: relative paths against %SRCROOT%, absolute as file: URIs."""
    windows = PureWindowsPath(path)
    if windows.drive.endswith(":"):
        rest = windows.as_posix()[len(windows.drive) :]
        return {"uri": f"file:///{windows.drive[0]}:{_quote(rest)}"}
    if windows.drive:
        return {"uri": "file:" + _quote(windows.as_posix())}
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return {"uri": "file://" + _quote(posix.as_posix())}
    return {"uri": _quote(posix.as_posix()), "uriBaseId": SRCROOT}


def _quote(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="/@!$&'()*+,;=-._~")


__all__ = ["SCHEMA_URI", "artifact_location", "document", "fingerprint", "write"]
