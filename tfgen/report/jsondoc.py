"""One JSON object per run: tool, plans, findings, summary, errors; for scripts and dashboards."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from tfgen.model import Report
from tfgen.report._common import ordered, status, summary


def document(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data; field names are part of tfgen's interface."""
    return {
        "tool": dict(sorted(report.tool.items())),
        "plans": [asdict(plan) for plan in sorted(report.plans, key=lambda p: p.path)],
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
            }
            for f in ordered(report)
        ],
        "summary": summary(report),
        "errors": list(report.errors),
        "notices": sorted(report.notices),
    }


def render(report: Report) -> str:
    return dumps(document(report))


def dumps(data: Any) -> str:
    """Indented JSON; readable UTF-8 unless a lone surrogate forces ASCII escapes."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=2, ensure_ascii=True, default=str)
    return text + "\n"
