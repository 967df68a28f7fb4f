"""Output formats: every one renders a Report to a string, deterministically and safely escaped."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from tfgen.errors import InputError
from tfgen.model import Report

FORMATS: tuple[str, ...] = (
    "text",
    "json",
    "sarif",
    "junit",
    "github",
    "markdown",
    "codeclimate",
)

# Each format's module, imported only when that format is rendered.
_MODULES = {
    "json": "jsondoc",
    "sarif": "sarif",
    "junit": "junit",
    "github": "github",
    "markdown": "markdown",
    "codeclimate": "codeclimate",
}


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report in format `fmt`; only `text` uses ANSI colours, and only when `color` is set."""
    if fmt == "text":
        from tfgen.report import text

        return text.render(report, color=color)
    module = _MODULES.get(fmt)
    if module is None:
        raise InputError("--format", f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    renderer: Callable[[Report], str] = importlib.import_module(f"tfgen.report.{module}").render
    return renderer(report)


__all__ = ["FORMATS", "render"]
