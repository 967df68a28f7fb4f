"""`tfgen check` end to end: real Terraform plans, the real rule pack, the embedded engine."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REGO, PlanFn

from tfgen import __version__
from tfgen.cli import main
from tfgen.engines import EngineOptions, open_engine
from tfgen.rulepack import find_pack
from tfgen.toolchain import Toolchain

pytestmark = [pytest.mark.opa, pytest.mark.terraform, pytest.mark.usefixtures("isolated")]

MODULES = FIXTURES / "engines" / "modules"


@pytest.fixture
def rotation_off(plan_module: PlanFn, tmp_path: Path) -> Path:
    path = tmp_path / "rotation_off.json"
    path.write_text(json.dumps(plan_module(MODULES / "rotation_off")), encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_rotation_off_key_is_kms_001_at_its_address(
    rotation_off: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, err = run_json(capsys, str(rotation_off))
    assert code == 1
    assert err == ""
    rotation = [f for f in report["findings"] if f["rule_id"] == "KMS-001"]
    assert [(f["address"], f["enforcement"], f["plan"]) for f in rotation] == [
        ("aws_kms_key.this", "mandatory", str(rotation_off))
    ]
    assert report["errors"] == []
    tool = report["tool"]
    assert tool["tfgen"] == __version__
    assert tool["engine"] == "embedded"
    assert tool["opa"] == "1.22.4"
    assert tool["rule_pack"] == __version__
    assert [p["path"] for p in report["plans"]] == [str(rotation_off)]


def test_utf16_stdin_and_several_plans(
    rotation_off: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = rotation_off.read_text(encoding="utf-8")
    utf16 = tmp_path / "powershell.json"
    utf16.write_bytes(text.encode("utf-16"))  # with BOM, as PowerShell's > writes it
    bom8 = tmp_path / "bom.json"
    bom8.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, report, _ = run_json(capsys, str(utf16), str(bom8), "-")
    assert code == 1
    by_plan = {(f["plan"], f["address"]) for f in report["findings"] if f["rule_id"] == "KMS-001"}
    assert by_plan == {
        (str(utf16), "aws_kms_key.this"),
        (str(bom8), "aws_kms_key.this"),
        ("-", "aws_kms_key.this"),
    }


def test_one_bad_plan_among_good_ones_is_exit_2_and_the_rest_is_reported(
    rotation_off: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": "1.2"', encoding="utf-8")
    code, report, err = run_json(capsys, str(bad), str(rotation_off))
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"tfgen: error: {bad}: ")
    assert any(f["rule_id"] == "KMS-001" for f in report["findings"])
    assert report["errors"] == [err.strip().removeprefix("tfgen: error: ")]


def test_bad_input_is_one_line_without_traceback(tmp_path: Path) -> None:
    missing_file = tmp_path / "nope.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tfgen", "check", str(missing_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ},
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"tfgen: error: {missing_file}: ")
    assert "Traceback" not in proc.stderr


def test_output_is_not_overwritten_without_force(
    rotation_off: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    out.write_text("mine", encoding="utf-8")
    assert main(["check", str(rotation_off), "--format", "json", "--output", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "mine"
    assert (
        main(["check", str(rotation_off), "--format", "json", "--output", str(out), "--force"]) == 1
    )
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["exit_code"] == 1


@pytest.mark.parametrize("fmt", ["text", "sarif", "junit", "github", "markdown"])
def test_every_format_gates_the_same_way(
    rotation_off: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(rotation_off), "--format", fmt]) == 1
    out = capsys.readouterr().out
    assert re.search(r"KMS\\?-001", out)  # markdown escapes the hyphen


def test_compliant_plan_exits_0(
    plan_module: PlanFn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = plan_module(MODULES / "rotation_off")
    plan["resource_changes"] = []
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    code, report, _ = run_json(capsys, str(path))
    assert code == 0
    assert report["findings"] == []


def test_embedded_engine_judges_every_key_of_a_1000_resource_plan(
    plan_module: PlanFn, toolchain: Toolchain
) -> None:
    """One finding per key at 1,000 keys (speed is bench/'s to measure, not a test's)."""
    plan = plan_module(MODULES / "rotation_off")
    key = plan["resource_changes"][0]
    plan["resource_changes"] = [
        {**key, "address": f"aws_kms_key.k{i}", "name": f"k{i}"} for i in range(1000)
    ]
    pack = find_pack(REGO)
    engine = open_engine("embedded", pack, options=EngineOptions(toolchain=toolchain))
    try:
        decision = engine.evaluate(plan)
    finally:
        engine.close()
    rotation = [r for r in decision["deny"] if r["rule_id"] == "KMS-001"]
    assert sorted(r["address"] for r in rotation) == sorted(
        f"aws_kms_key.k{i}" for i in range(1000)
    )


# Batches show a progress bar on a terminal, and nothing extra anywhere else.


PLAN = FIXTURES / "bad" / "control_valid_plan.json"


def _run(paths: list[str], stderr: int) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tfgen", "check", *paths, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=300,
        check=False,
    )


def _read_all(primary: int) -> bytes:
    """Everything a child wrote to the terminal whose primary side this is."""
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed once the child exited
            return seen
        if not chunk:
            return seen
        seen += chunk


@pytest.mark.opa
def test_progress_bar_on_a_terminal_only(opa_bin: Path) -> None:
    paths = [str(PLAN)] * 12
    primary, secondary = pty.openpty()
    try:
        proc = _run(paths, secondary)
        os.close(secondary)
        seen = _read_all(primary)
    finally:
        os.close(primary)
    assert proc.returncode in (0, 1), seen
    assert b"12/12 plans" in seen
    assert b"] 1/12 plans" in seen
    piped = _run(paths, subprocess.PIPE)
    assert piped.returncode == proc.returncode
    assert b"plans" not in piped.stderr


def _on_terminal(args: list[str]) -> tuple[int, bytes]:
    """tfgen with stdout and stderr on one terminal, as at a shell: exit code and what it showed."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tfgen", *args],
            stdout=secondary,
            stderr=secondary,
            timeout=300,
            check=False,
        )
        os.close(secondary)
        seen = _read_all(primary)
    finally:
        os.close(primary)
    return proc.returncode, seen


@pytest.mark.opa
def test_an_error_shows_once_on_a_terminal(tmp_path: Path, opa_bin: Path) -> None:
    missing = str(tmp_path / "missing.json")
    code, seen = _on_terminal(["check", missing, str(PLAN), "--color", "never"])
    assert code == 2
    assert seen.count(b"missing.json: no such file") == 1, seen
    # Piped apart (CI logs), stderr still names it and the text report on stdout keeps it too.
    piped = subprocess.run(
        [sys.executable, "-m", "tfgen", "check", missing, str(PLAN)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert piped.returncode == 2
    assert b"missing.json: no such file" in piped.stderr
    assert b"missing.json: no such file" in piped.stdout
