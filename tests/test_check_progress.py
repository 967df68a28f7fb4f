"""Batches show a progress bar on a terminal, and nothing extra anywhere else."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES

PLAN = FIXTURES / "bad" / "control_valid_plan.json"


def _run(paths: list[str], stderr: int) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tfgen", "check", *paths, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=300,
        check=False,
    )


@pytest.mark.opa
def test_progress_bar_on_a_terminal_only(opa_bin: Path) -> None:
    paths = [str(PLAN)] * 12
    primary, secondary = pty.openpty()
    try:
        proc = _run(paths, secondary)
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closed once the child exited
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
    assert proc.returncode in (0, 1), seen
    assert b"12/12 plans" in seen
    assert b"] 1/12 plans" in seen
    piped = _run(paths, subprocess.PIPE)
    assert piped.returncode == proc.returncode
    assert b"plans" not in piped.stderr
