"""Pinned versions and where the real components (OPA, Terraform) are found."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import TypedDict

from tfgen.errors import ToolchainError


class Pins(TypedDict):
    opa: str
    aws_provider_mirror: str
    aws_provider_zip_sha256: str
    opa_module_sum: str
    conftest_module_sum: str
    actionlint_module_sum: str
    opa_image: str
    conftest: str


@functools.cache
def pins() -> Pins:
    """The pinned toolchain versions, recorded once in toolchain.json."""
    text = resources.files("tfgen").joinpath("toolchain.json").read_text(encoding="utf-8")
    data: Pins = json.loads(text)
    return data


def cache_dir() -> Path:
    """Where builds and generated toolchain files are cached (outside the repo)."""
    env = os.environ.get("TFGEN_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "tfgen"


def opa_binary() -> Path:
    """The OPA binary: $TFGEN_OPA_BIN, the pinned build in the cache, or `opa` on PATH."""
    env = os.environ.get("TFGEN_OPA_BIN")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ToolchainError(f"TFGEN_OPA_BIN={env}: no such file")
        return path
    cached = cache_dir() / "bin" / f"opa-{pins()['opa']}"
    if cached.is_file():
        return cached
    found = shutil.which("opa")
    if found:
        return Path(found)
    raise ToolchainError(
        f"OPA {pins()['opa']} not found: install it (https://www.openpolicyagent.org/docs/"
        "#running-opa) and put it on PATH as `opa`, or set TFGEN_OPA_BIN to the binary"
    )


@functools.cache
def opa_version(binary: Path) -> str:
    """The version an OPA binary reports, e.g. '1.22.4'."""
    try:
        out = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"{binary}: cannot run OPA ({exc})") from exc
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise ToolchainError(f"{binary}: 'opa version' printed no version")
