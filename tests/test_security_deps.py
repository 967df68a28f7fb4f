"""The locked dependency sets: complete, hash-pinned, and installed only through their hashes."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+!\-]+)(?: ; (.+?))?(?: \\)?$")
HASH = re.compile(r"^\s+--hash=sha256:([0-9a-f]{64})(?: \\)?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entries(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes), failing on any line that is not a pin, a hash or a comment."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if pin := PIN.match(line):
            current = _norm(pin.group(1))
            assert current not in entries, f"{lock.name}:{number}: {current} pinned twice"
            entries[current] = (pin.group(2), [])
        elif (digest := HASH.match(line)) and current:
            entries[current][1].append(digest.group(1))
        else:
            raise AssertionError(f"{lock.name}:{number}: not a pin or a hash: {line!r}")
    return entries


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    specs = list(project["project"]["dependencies"]) + list(project["build-system"]["requires"])
    for extra in extras:
        specs += project["project"]["optional-dependencies"][extra]
    return {_norm(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in specs}


@pytest.mark.parametrize("lock", [LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_pin_carries_hashes(lock: Path) -> None:
    entries = _entries(lock)
    assert entries, f"{lock.name} is empty"
    assert [name for name, (_, hashes) in entries.items() if not hashes] == []
    assert "tfgen" not in entries, "the lock must not pin tfgen itself"


def test_locks_cover_every_declared_dependency() -> None:
    runtime, dev = _entries(LOCK), _entries(DEV_LOCK)
    assert sorted(_declared("terraform") - set(runtime)) == [], "regenerate: bash scripts/lock.sh"
    assert sorted(_declared("terraform", "dev") - set(dev)) == [], (
        "regenerate: bash scripts/lock.sh"
    )


def test_dev_lock_is_the_runtime_lock_plus_dev_tools() -> None:
    runtime, dev = _entries(LOCK), _entries(DEV_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime


def test_installed_versions_are_the_locked_ones() -> None:
    pins = _entries(DEV_LOCK)
    drift = {}
    for name in sorted(_declared("terraform", "dev")):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift[name] = ("not installed", pins.get(name, ("",))[0])
            continue
        if pins.get(name, ("",))[0] != installed:
            drift[name] = (installed, pins.get(name, ("",))[0])
    assert drift == {}, f"installed != locked (installed, locked): {drift}"


def test_installers_require_hashes() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert '--require-hashes -r "$ROOT/requirements-dev.lock"' in setup
    assert '--no-deps --no-build-isolation -e "$ROOT"' in setup
    assert "-c " not in setup  # a constraints file is checked by version only


def _download(lock: Path, into: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
         "--only-binary", ":all:", "-r", str(lock), "-d", str(into)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_tampered_hash_is_refused(tmp_path: Path) -> None:
    """The attack: a package index (or a mirror) serving other bytes for a locked version."""
    version, hashes = _entries(LOCK)["idna"]
    forged = tmp_path / "forged.lock"
    forged.write_text(f"idna=={version} --hash=sha256:{'0' * 64}\n", encoding="utf-8")
    proc = _download(forged, tmp_path / "d")
    assert proc.returncode != 0
    assert "DO NOT MATCH THE HASHES" in proc.stderr, proc.stderr[-1000:]
    assert not list((tmp_path / "d").glob("*.whl"))
    genuine = tmp_path / "genuine.lock"
    pins = " ".join(f"--hash=sha256:{h}" for h in hashes)
    genuine.write_text(f"idna=={version} {pins}\n", encoding="utf-8")
    proc = _download(genuine, tmp_path / "d")
    assert proc.returncode == 0, proc.stderr[-1000:]
