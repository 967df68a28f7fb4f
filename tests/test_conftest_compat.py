"""The rule pack runs unchanged under conftest (`conftest test plan.json -p rego`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import REGO, PlanFn, missing

from tfgen.cli import main


@pytest.fixture(scope="module")
def conftest_bin() -> Path:
    found = os.environ.get("TFGEN_CONFTEST_BIN") or shutil.which("conftest")
    if not found or not Path(found).is_file():
        missing("conftest", "run scripts/install-conftest.sh or set TFGEN_CONFTEST_BIN")
    return Path(str(found))


@pytest.mark.terraform
def test_conftest_reports_what_tfgen_reports(
    conftest_bin: Path, plan_module: PlanFn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_kms_key" "this" {\n  deletion_window_in_days = 7\n}\n'
    )
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_module(tmp_path)))
    proc = subprocess.run(
        [str(conftest_bin), "test", str(plan), "-p", str(REGO), "-o", "json", "--no-color"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # conftest: 1 = a deny fired
    (result,) = json.loads(proc.stdout)
    seen = {
        (kind, item["metadata"]["rule_id"], item["metadata"]["address"])
        for kind in ("failures", "warnings")
        for item in result.get(kind) or []
    }
    assert main(["check", str(plan), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    expected = {
        ("failures" if f["enforcement"] == "mandatory" else "warnings", f["rule_id"], f["address"])
        for f in report["findings"]
    }
    assert ("failures", "KMS-001", "aws_kms_key.this") in expected
    assert ("warnings", "KMS-002", "aws_kms_key.this") in expected
    assert seen == expected
