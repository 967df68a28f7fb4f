"""The wheel carries everything `tfgen check` needs, the rule pack included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (path,) = out.glob("tfgen-*.whl")
    return path


def test_wheel_carries_every_rule_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for rego in (ROOT / "rego").rglob("*.rego"):
        assert f"tfgen/_rego/{rego.relative_to(ROOT / 'rego').as_posix()}" in names
    assert "tfgen/toolchain.json" in names
    assert "tfgen/_schemas/report.schema.json" in names


def test_installed_wheel_checks_a_plan_outside_the_checkout(
    wheel: Path, plan_module: Any, tmp_path: Path, opa_bin: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('resource "aws_kms_key" "this" {}\n')
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_module(tmp_path / "mod")))
    env = {**os.environ, "PYTHONPATH": str(site), "TFGEN_OPA_BIN": str(opa_bin)}
    env.pop("TFGEN_RULES_DIR", None)
    code = (
        "import tfgen, tfgen.rulepack as r, sys; "
        "print(tfgen.__file__); print(r.find_pack().root); "
        "from tfgen.cli import main; sys.exit(main(['check', sys.argv[1], '--format', 'json']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(plan)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    module_file, pack_root, report = proc.stdout.split("\n", 2)
    assert module_file.startswith(str(site))
    assert pack_root == str(site / "tfgen" / "_rego")
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(report)["findings"]
    assert ("KMS-001", "aws_kms_key.this") in {(f["rule_id"], f["address"]) for f in findings}
