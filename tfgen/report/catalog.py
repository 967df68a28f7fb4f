"""The rule catalog (`tfgen rules`): every rule's METADATA as a table, JSON or Markdown."""

from __future__ import annotations

from typing import Any

from tfgen.errors import InputError
from tfgen.model import RuleMeta
from tfgen.report._common import one_line
from tfgen.report.jsondoc import dumps
from tfgen.report.markdown import cell, code, link
from tfgen.report.text import wrap

CATALOG_FORMATS: tuple[str, ...] = ("text", "json", "markdown")


def render(rules: tuple[RuleMeta, ...], fmt: str, pack_version: str = "") -> str:
    """The catalog in `fmt`, rules sorted by id."""
    ordered = sorted(rules, key=lambda r: r.rule_id)
    if fmt == "json":
        return dumps({"pack_version": pack_version, "rules": [entry(r) for r in ordered]})
    if fmt == "markdown":
        return _markdown(ordered)
    if fmt == "text":
        return _text(ordered)
    choices = ", ".join(CATALOG_FORMATS)
    raise InputError("--format", f"unknown format {fmt!r}; choose one of {choices}")


def entry(rule: RuleMeta) -> dict[str, Any]:
    """One rule as JSON-ready data."""
    return {
        "id": rule.rule_id,
        "title": rule.title,
        "description": rule.description,
        "severity": rule.severity,
        "enforcement": rule.enforcement,
        "resource_types": list(rule.resource_types),
        "frameworks": list(rule.frameworks),
        "remediation": rule.remediation,
        "references": [
            {"url": r.ref, "description": r.description} for r in rule.related_resources
        ],
        "package": rule.package,
        "file": rule.file,
    }


def _text(rules: list[RuleMeta]) -> str:
    header = ("ID", "SEVERITY", "ENFORCEMENT", "TITLE")
    rows = [(r.rule_id, r.severity, r.enforcement, one_line(r.title)) for r in rules]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    for rule, row in zip(rules, rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        details = [
            f"resources: {', '.join(rule.resource_types) or '-'}",
            f"fix: {rule.remediation}",
            *(f"see: {r.ref}" for r in rule.related_resources),
        ]
        for detail in details:
            lines.extend(wrap(detail))
    lines.append("")
    lines.append(f"{len(rules)} rules; `tfgen rules --format json` gives every field.")
    return "\n".join(lines) + "\n"


def _markdown(rules: list[RuleMeta]) -> str:
    out = [
        "| Rule | Severity | Enforcement | Title | Resources | Remediation | References |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in rules:
        refs = "<br>".join(link(r.description or r.ref, r.ref) for r in rule.related_resources)
        out.append(
            "| "
            + " | ".join(
                [
                    code(rule.rule_id),
                    cell(rule.severity),
                    cell(rule.enforcement),
                    cell(rule.title),
                    ", ".join(code(t) for t in rule.resource_types),
                    cell(rule.remediation),
                    refs,
                ]
            )
            + " |"
        )
    return "\n".join(out) + "\n"
