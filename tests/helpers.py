"""Paths, types and small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
REGO = ROOT / "rego"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(component: str, reason: str) -> None:
    """A needed component is absent: fail in CI, skip elsewhere."""
    message = f"{component} is required but unavailable: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


PlanFn = Callable[..., dict[str, Any]]
ServeFn = Callable[..., str]


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and ".terraform" not in p.parts):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"OPA at {url} did not become healthy in {timeout}s")


def served(path: Path, opa_bin: Path, work: Path) -> list[str]:
    """`opa run` arguments serving `path`: a rule pack as the bundle tfgen builds, else as is."""
    from tfgen.bundle import build
    from tfgen.rulepack import RulePack

    if not (path / "main" / "main.rego").is_file():
        return [str(path)]
    target = work / f"bundle-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}.tar.gz"
    return ["--bundle", str(build(RulePack(path.resolve()), target, opa_bin))]
