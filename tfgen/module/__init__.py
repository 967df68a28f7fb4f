"""Generate the CloudTrail KMS key module: options, interface, policy HCL, tests, README, writes."""

from __future__ import annotations

from pathlib import Path

from tfgen.module.files import render
from tfgen.module.options import DEFAULT_DESCRIPTION, ModuleOptions
from tfgen.module.write import WriteResult, write

__all__ = ["DEFAULT_DESCRIPTION", "ModuleOptions", "WriteResult", "generate", "render"]


def generate(out: Path, options: ModuleOptions, force: bool = False) -> WriteResult:
    """Validate the options, render every file of the module and write them under `out`."""
    return write(out, render(options), force=force)
