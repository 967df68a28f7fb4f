"""The locked dependency set: complete, installed as locked, and audited without false all-clears."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
AUDIT = ROOT / "scripts" / "audit-deps.py"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_norm(name)] = version
    return pins


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in ("terraform", "dev"):
        specs += project["optional-dependencies"].get(extra, [])
    return {_norm(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in specs}


def test_lock_pins_every_line_exactly() -> None:
    lines = [ln.split("#")[0].strip() for ln in LOCK.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln]
    assert lines, "requirements.lock is empty"
    bad = [ln for ln in lines if not re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+!\-]+", ln)]
    assert bad == []
    assert "tfgen" not in _pins(), "the lock must not pin tfgen itself"


def test_lock_covers_every_declared_dependency() -> None:
    missing = sorted(_declared() - set(_pins()))
    assert missing == [], f"regenerate requirements.lock: {missing} are declared but not locked"


def test_installed_versions_are_the_locked_ones() -> None:
    pins = _pins()
    drift = {}
    for name in sorted(_declared()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift[name] = ("not installed", pins.get(name))
            continue
        if pins.get(name) != installed:
            drift[name] = (installed, pins.get(name))
    assert drift == {}, f"installed != locked (installed, locked): {drift}"


def _audit(lock: Path, strict: bool = False) -> subprocess.CompletedProcess[str]:
    env = {"TFGEN_AUDIT_STRICT": "1"} if strict else {}
    return subprocess.run(
        [sys.executable, str(AUDIT), str(lock)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **env},
        check=False,
    )


def test_a_known_vulnerable_pin_is_never_reported_clean(tmp_path: Path) -> None:
    # requests 2.19.0 has CVE-2018-18074. Either the audit reaches a vulnerability service and
    # fails, or it says NOT RUN; the one outcome that must not happen is an all-clear.
    lock = tmp_path / "vulnerable.lock"
    lock.write_text("requests==2.19.0\n", encoding="utf-8")
    proc = _audit(lock)
    assert "no known vulnerabilities" not in proc.stdout
    if "NOT RUN" in proc.stdout:
        assert proc.returncode == 0
        assert _audit(lock, strict=True).returncode == 1
    else:
        assert proc.returncode == 1
        assert "requests 2.19.0" in proc.stdout


@pytest.mark.parametrize("text", ["", "requests>=2\n", "requests\n"])
def test_an_unpinned_lock_is_an_error(tmp_path: Path, text: str) -> None:
    lock = tmp_path / "bad.lock"
    lock.write_text(text, encoding="utf-8")
    proc = _audit(lock)
    assert proc.returncode == 2
    assert "pin name==version" in proc.stderr


def test_the_ci_gate_audits_the_lock() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "scripts/audit-deps.py requirements.lock" in script
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert '-c "$ROOT/requirements.lock"' in setup
