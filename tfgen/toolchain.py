"""Pinned versions and where the real components (OPA, Terraform) are found."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from dataclasses import dataclass, field
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
    nginx_image: str
    conftest: str


@functools.cache
def pins() -> Pins:
    """The pinned toolchain versions, recorded once in toolchain.json."""
    text = resources.files("tfgen").joinpath("toolchain.json").read_text(encoding="utf-8")
    data: Pins = json.loads(text)
    return data


def default_cache_dir() -> Path:
    """tfgen's cache when none is given: ~/.cache/tfgen."""
    return Path.home() / ".cache" / "tfgen"


@dataclass(frozen=True)
class Toolchain:
    """Where the real components are and where tfgen caches what it builds (the CLI fills it in).

    `opa_bin` None: the pinned build in the cache, else `opa` on PATH. `provider_mirror` None:
    tfgen's own mirror of the pinned AWS provider, in the cache.
    """

    opa_bin: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    provider_mirror: Path | None = None

    def opa(self) -> Path:
        """The OPA binary: `opa_bin`, the pinned build in the cache, or `opa` on PATH."""
        if self.opa_bin is not None:
            if not self.opa_bin.is_file():
                raise ToolchainError(f"opa_bin={self.opa_bin}: no such file", parameter="opa_bin")
            return self.opa_bin
        cached = self.cache_dir / "bin" / f"opa-{pins()['opa']}"
        if cached.is_file():
            return cached
        found = shutil.which("opa")
        if found:
            return Path(found)
        raise ToolchainError(
            f"OPA {pins()['opa']} not found: install it (https://www.openpolicyagent.org/docs/"
            "#running-opa) and put it on PATH as `opa`, or set opa_bin to the binary",
            parameter="opa_bin",
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
