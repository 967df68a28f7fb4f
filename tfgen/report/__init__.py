"""Output formats: every one renders a Report to a string, deterministically and safely escaped."""

from __future__ import annotations

from collections.abc import Callable

from tfgen.errors import InputError
from tfgen.model import Report
from tfgen.report import github as _github
from tfgen.report import jsondoc as _jsondoc
from tfgen.report import junit as _junit
from tfgen.report import markdown as _markdown
from tfgen.report import sarif as _sarif
from tfgen.report import text as _text

FORMATS: tuple[str, ...] = ("text", "json", "sarif", "junit", "github", "markdown")

_RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": _jsondoc.render,
    "sarif": _sarif.render,
    "junit": _junit.render,
    "github": _github.render,
    "markdown": _markdown.render,
}


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report in format `fmt`; only `text` uses ANSI colours, and only when `color` is set."""
    if fmt == "text":
        return _text.render(report, color=color)
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise InputError("--format", f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderer(report)


__all__ = ["FORMATS", "render"]
