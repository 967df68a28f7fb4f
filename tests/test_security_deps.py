"""The locked dependency set: complete and installed as locked."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


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


def test_setup_installs_within_the_lock() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert '-c "$ROOT/requirements.lock"' in setup
