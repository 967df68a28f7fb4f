"""Output formats: every one writes a Report to a text stream finding by finding (or renders it to
a string), deterministically and safely escaped."""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from typing import TextIO

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


def write(report: Report, fmt: str, out: TextIO, *, color: bool = False) -> None:
    """The report in format `fmt` to `out`, holding one plan's findings at a time; only `text`
    uses ANSI colours, and only when `color` is set."""
    if fmt == "text":
        from tfgen.report import text

        text.write(report, out, color=color)
        return
    module = _MODULES.get(fmt)
    if module is None:
        raise InputError("--format", f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    writer: Callable[[Report, TextIO], None] = importlib.import_module(
        f"tfgen.report.{module}"
    ).write
    writer(report, out)


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report in format `fmt` as a string (see `write`)."""
    out = io.StringIO()
    write(report, fmt, out, color=color)
    return out.getvalue()


__all__ = ["FORMATS", "render", "write"]
