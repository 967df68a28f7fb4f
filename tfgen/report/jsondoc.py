"""One JSON object per run: tool, plans, findings, summary, errors; for scripts and dashboards."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any, TextIO

from tfgen.model import Report
from tfgen.report._common import Guidance, guidance, ordered, revisions, status, summary

# Python's json indents in pure Python; above this many findings the C encoder writes compact JSON.
INDENT_LIMIT = 1000


class Items:
    """A JSON array whose items are made while it is written (a report's findings)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def document(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, as schemas/report.schema.json describes it; the findings
    are Items, made as they are written."""
    return {
        "tool": dict(sorted(report.tool.items())),
        "plans": [_plan(asdict(plan)) for plan in sorted(report.plans, key=lambda p: p.path)],
        "findings": Items(_findings(report)),
        "summary": summary(report),
        "errors": list(report.errors),
        "notices": sorted(report.notices),
        "skipped_rules": [{"rule_id": rule, "reason": why} for rule, why in report.skipped_rules],
    }


def _findings(report: Report) -> Iterator[dict[str, Any]]:
    helps = guidance(report)
    judged_by = revisions(report)
    for f in ordered(report):
        yield {
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


def write(report: Report, out: TextIO) -> None:
    write_json(out, lambda: document(report), len(report.findings))


def write_json(out: TextIO, make: Callable[[], Any], items: int) -> None:
    """The data `make()` returns as `dumps` would write it, its Items written one at a time.

    Up to INDENT_LIMIT findings the data is small and written whole. Above, it is written piece
    by piece; a lone surrogate met on the way means ASCII escapes for the whole document, so the
    writing starts again: in place when `out` is a stream it can rewind to its start, else in a
    temporary file copied to `out` at the end.
    """
    if items <= INDENT_LIMIT:
        out.write(dumps(_whole(make()), items))
        return
    if not _at_start(out):
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass") as buffer:
            write_json(buffer, make, items)
            buffer.seek(0)
            shutil.copyfileobj(buffer, out)
        return
    try:
        for piece in _pieces(make(), ensure_ascii=False):
            if not piece.isascii():
                piece.encode("utf-8")  # a lone surrogate raises
            out.write(piece)
    except UnicodeEncodeError:
        out.seek(0)
        out.truncate()
        for piece in _pieces(make(), ensure_ascii=True):
            out.write(piece)
    out.write("\n")


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


def _pieces(value: Any, *, ensure_ascii: bool) -> Iterator[str]:
    """Compact JSON text of `value` (json.dumps's default separators), in pieces."""
    if isinstance(value, Items):
        yield "["
        for number, item in enumerate(value):
            text = json.dumps(item, ensure_ascii=ensure_ascii, default=str)
            yield ", " + text if number else text
        yield "]"
    elif isinstance(value, dict) and _streams(value):
        yield "{"
        for number, (key, item) in enumerate(value.items()):
            name = json.dumps(key, ensure_ascii=ensure_ascii) + ": "
            yield ", " + name if number else name
            yield from _pieces(item, ensure_ascii=ensure_ascii)
        yield "}"
    elif isinstance(value, list) and _streams(value):
        yield "["
        for number, item in enumerate(value):
            if number:
                yield ", "
            yield from _pieces(item, ensure_ascii=ensure_ascii)
        yield "]"
    else:
        yield json.dumps(value, ensure_ascii=ensure_ascii, default=str)


def _streams(value: Any) -> bool:
    """Whether Items are inside `value`."""
    if isinstance(value, Items):
        return True
    if isinstance(value, dict):
        return any(_streams(item) for item in value.values())
    if isinstance(value, list):
        return any(_streams(item) for item in value)
    return False


def _whole(value: Any) -> Any:
    """`value` with its Items made into lists."""
    if isinstance(value, Items):
        return list(value)
    if isinstance(value, dict) and _streams(value):
        return {key: _whole(item) for key, item in value.items()}
    if isinstance(value, list) and _streams(value):
        return [_whole(item) for item in value]
    return value


def _at_start(out: TextIO) -> bool:
    """Whether `out` is at the start of a stream it can go back to (not a pipe or a terminal)."""
    try:
        return out.seekable() and out.tell() == 0
    except (OSError, ValueError):
        return False


def _plan(fields: dict[str, Any]) -> dict[str, Any]:
    """A plan's entry; `revision` only when an OPA server's provenance gave one."""
    if not fields.get("revision"):
        fields.pop("revision", None)
    return fields
