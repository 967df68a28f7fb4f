"""The benchmark runs end to end at a small size (no timing is asserted): plans are made with
Terraform, every engine is measured side by side, findings agree, and the report prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, missing

pytestmark = [pytest.mark.opa, pytest.mark.terraform]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_benchmark_smoke_run(tmp_path: Path, opa_bin: Path) -> None:
    if not Path("/usr/bin/time").is_file():
        missing("GNU time", "/usr/bin/time not found (apt-get install time)")
    plans, results = tmp_path / "plans", tmp_path / "results.json"
    made = _run(
        "bench/make_plans.py",
        "--out",
        str(plans),
        "--sizes",
        "1",
        "20",
        "--batch-plans",
        "3",
        "--many-plans",
        "4",
    )
    assert made.returncode == 0, made.stderr[-2000:]
    engines = ["opa-eval", "tfgen-embedded", "tfgen-opa"]
    if os.environ.get("TFGEN_CONFTEST_BIN"):
        engines.append("conftest")
    ran = _run(
        "bench/run.py",
        "--plans",
        str(plans),
        "--out",
        str(results),
        "--sizes",
        "1",
        "20",
        "--runs",
        "1",
        "--engines",
        *engines,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    doc = json.loads(results.read_text(encoding="utf-8"))
    assert doc["findings_agree"] is True
    found = {(r["engine"], r["size"]): r for r in doc["results"]}
    assert {e for e, _ in found} == set(engines)
    assert all(not r["error"] and r["findings"] is not None for r in found.values())
    assert found[("opa-eval", 1)]["findings"] >= 1
    unit = found[("opa-eval", 20)]["findings"]  # one 20-resource unit
    assert unit > found[("opa-eval", 1)]["findings"]
    assert {b["engine"] for b in doc["batch"]} >= {"tfgen-embedded", "tfgen-opa"}
    assert {b["findings"] for b in doc["batch"]} == {3 * 5 * unit}  # 3 plans of 5 units
    assert doc["many"]["batch"]["plans"] == 4
    report = _run("bench/report.py", str(results))
    assert report.returncode == 0, report.stderr
    assert "### Targets" in report.stdout
    assert "embedded <= 4.0x `opa eval`" in report.stdout
