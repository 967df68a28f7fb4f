"""One JSON object per run: tool, plans, findings, summary, errors; for scripts and dashboards."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from tfgen.model import Report
from tfgen.report._common import Guidance, guidance, ordered, revisions, status, summary

# Python's json indents in pure Python; above this many findings the C encoder writes compact JSON.
INDENT_LIMIT = 1000


def document(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, as schemas/report.schema.json describes it."""
    helps = guidance(report)
    judged_by = revisions(report)
    return {
        "tool": dict(sorted(report.tool.items())),
        "plans": [_plan(asdict(plan)) for plan in sorted(report.plans, key=lambda p: p.path)],
        "findings": [
            {
                "rule_id": f.rule_id,
                "title": f.title,
                "severity": f.severity,
                "enforcement": f.enforcement,
                "status": status(report, f),
                "address": f.address,
                "resource_type": f.resource_type,
                "message": f.message,
                "plan": f.plan,
                "location": asdict(f.location) if f.location else None,
                "waiver": asdict(f.waiver) if f.waiver else None,
                "details": f.details,
                "remediation": helps.get(f.rule_id, Guidance()).remediation,
                "reference": helps.get(f.rule_id, Guidance()).reference,
                **({"revision": judged_by[f.plan]} if f.plan in judged_by else {}),
            }
            for f in ordered(report)
        ],
        "summary": summary(report),
        "errors": list(report.errors),
        "notices": sorted(report.notices),
        "skipped_rules": [{"rule_id": rule, "reason": why} for rule, why in report.skipped_rules],
    }


def render(report: Report) -> str:
    return dumps(document(report), len(report.findings))


def dumps(data: Any, items: int = 0) -> str:
    """JSON, indented for reading up to INDENT_LIMIT findings, compact (5x faster) above.

    Readable UTF-8 unless a lone surrogate forces ASCII escapes.
    """
    indent = 2 if items <= INDENT_LIMIT else None
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=indent, ensure_ascii=True, default=str)
    return text + "\n"


def _plan(fields: dict[str, Any]) -> dict[str, Any]:
    """A plan's entry; `revision` only when an OPA server's provenance gave one."""
    if not fields.get("revision"):
        fields.pop("revision", None)
    return fields
