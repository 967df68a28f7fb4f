"""The wheel carries everything `tfgen check` needs: the rule pack and its Wasm build.

Installed into a fresh venv with an empty cache and no OPA or Go on PATH, it checks a real plan.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, ROOT, run_step

from tfgen.rulepack import RulePack
from tfgen.wasmbuild import SHIPPED_DIR

# Only system directories: no OPA, Go, or the development venv on this PATH.
BARE_PATH = os.pathsep.join(p for p in ("/usr/bin", "/bin") if Path(p).is_dir())


def build_wheel(source: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """A new user's environment: empty HOME and tfgen cache, nothing of ours on PATH."""
    (home / "cache").mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "PATH": BARE_PATH,
        "TFGEN_CACHE_DIR": str(home / "cache"),
        "LANG": "C.UTF-8",
        **extra,
    }


def copy_sources(target: Path) -> Path:
    """The checkout's files (tracked, or new and not ignored), as a source install sees them."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory, opa_bin: Path) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = build_wheel(ROOT, out, {**os.environ, "TFGEN_OPA_BIN": str(opa_bin)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = out.glob("tfgen-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv where the GitHub Action's install step put tfgen: hash-checked deps, the wheel."""
    base = tmp_path_factory.mktemp("venv")
    target = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=300)
    proc = run_step(
        "Install tfgen from its wheel",
        {"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        base,
        path=os.pathsep.join([str(target / "bin"), BARE_PATH]),
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return target


def test_bare_path_has_no_opa_or_go() -> None:
    for tool in ("opa", "go"):
        assert shutil.which(tool, path=BARE_PATH) is None


def test_wheel_carries_the_rule_pack_and_its_wasm_build(wheel: Path, tmp_path: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for rego in (ROOT / "rego").rglob("*.rego"):
        assert f"tfgen/_rego/{rego.relative_to(ROOT / 'rego').as_posix()}" in names
    assert "tfgen/toolchain.json" in names
    assert "tfgen/_schemas/report.schema.json" in names
    archive.extractall(tmp_path)
    record = json.loads((tmp_path / "tfgen" / "_wasm" / "policy.json").read_text())
    wasm = (tmp_path / "tfgen" / "_wasm" / "policy.wasm").read_bytes()
    assert wasm[:4] == b"\0asm"
    assert record["sha256"] == hashlib.sha256(wasm).hexdigest()
    assert record["pack_digest"] == RulePack(tmp_path / "tfgen" / "_rego").digest
    assert record["opa"] == json.loads((ROOT / "tfgen" / "toolchain.json").read_text())["opa"]


@pytest.mark.terraform
def test_installed_wheel_checks_a_real_plan_without_opa(
    venv: Path, plan_module: Any, tmp_path: Path
) -> None:
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('resource "aws_kms_key" "this" {}\n')
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_module(tmp_path / "mod")))
    env = bare_env(tmp_path / "home")
    tfgen = str(venv / "bin" / "tfgen")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tfgen, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    checked = run("check", "plan.json", "--format", "json")
    assert checked.returncode == 1, checked.stderr
    findings = json.loads(checked.stdout)["findings"]
    assert ("KMS-001", "aws_kms_key.this") in {(f["rule_id"], f["address"]) for f in findings}
    assert not list((tmp_path / "home" / "cache").rglob("*.wasm"))  # no OPA build was made

    version = run("--version")
    assert version.returncode == 0
    assert "policy: shipped Wasm build of rule pack" in version.stdout

    # Another pack needs OPA, and the error says how to get it without naming our scripts.
    shutil.copytree(venv.glob("lib/python*/site-packages/tfgen/_rego").__next__(), tmp_path / "p")
    (tmp_path / "p" / "main" / "main.rego").write_text(
        (tmp_path / "p" / "main" / "main.rego").read_text() + "\n# changed\n"
    )
    other = run("check", "plan.json", "--rules", "p")
    assert other.returncode == 2
    assert "on PATH as `opa`" in other.stderr and "TFGEN_OPA_BIN" in other.stderr
    assert "scripts/" not in other.stderr


def test_a_damaged_installed_build_is_an_error(venv: Path, tmp_path: Path) -> None:
    (site,) = venv.glob("lib/python*/site-packages")
    wasm = site / "tfgen" / "_wasm" / "policy.wasm"
    original = wasm.read_bytes()
    plan = FIXTURES / "bad" / "control_valid_plan.json"
    try:
        wasm.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        proc = subprocess.run(
            [str(venv / "bin" / "tfgen"), "check", str(plan)],
            env=bare_env(tmp_path / "home"),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        wasm.write_bytes(original)
    assert proc.returncode == 2
    assert "shipped rule pack build is damaged" in proc.stderr and "reinstall tfgen" in proc.stderr


def test_a_build_without_opa_ships_the_committed_wasm(tmp_path: Path) -> None:
    """How pre-commit installs the hooks: from source, on a machine with only Python."""
    out = tmp_path / "out"
    proc = build_wheel(copy_sources(tmp_path / "src"), out, bare_env(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = out.glob("tfgen-*.whl")
    shipped = zipfile.ZipFile(path).read("tfgen/_wasm/policy.wasm")
    assert shipped == (SHIPPED_DIR / "policy.wasm").read_bytes()


def test_a_build_without_opa_refuses_a_stale_wasm(tmp_path: Path) -> None:
    source = copy_sources(tmp_path / "src")
    rule = source / "rego" / "main" / "main.rego"
    rule.write_text(rule.read_text() + "\n# changed\n")
    proc = build_wheel(source, tmp_path / "out", bare_env(tmp_path / "home"))
    assert proc.returncode != 0
    assert "tfgen/_wasm was not compiled from this rule pack" in proc.stderr + proc.stdout
    assert not list(tmp_path.glob("out/*.whl"))


def test_the_installed_dependencies_are_exactly_locked_ones(venv: Path) -> None:
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    installed = {
        d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(listed.stdout)
    }
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    locked = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", lock, re.M | re.I))
    locked = {name.lower().replace("_", "-"): version for name, version in locked.items()}
    unlocked = {
        name: version
        for name, version in installed.items()
        if name not in ("tfgen", "pip") and locked.get(name) != version
    }
    assert unlocked == {}
