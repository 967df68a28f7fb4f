"""The real components are found and report the pinned versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PlanFn

from tfgen.cli import describe, main, toolchain
from tfgen.errors import ToolchainError
from tfgen.terraform import Terraform, provider_mirror
from tfgen.toolchain import Toolchain, opa_version, pins


def test_opa_is_the_pinned_build(opa_bin: Path) -> None:
    assert opa_version(opa_bin) == pins()["opa"]


def test_terraform_plans_offline_with_the_mirrored_provider(
    plan_module: PlanFn, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "this" {}\n')
    plan = plan_module(tmp_path)
    assert [rc["address"] for rc in plan["resource_changes"]] == ["aws_kms_key.this"]
    assert plan["configuration"]["provider_config"]["aws"]["name"] == "aws"


def test_version_names_tool_opa_and_terraform(
    capsys: pytest.CaptureFixture[str], terraform: Terraform, opa_bin: Path
) -> None:
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert out.startswith("tfgen ")
    assert f"opa {pins()['opa']}" in out
    assert f"terraform {terraform.version()}" in out


def test_the_command_line_reads_the_toolchain_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("TFGEN_OPA_BIN", "TFGEN_CACHE_DIR", "TFGEN_PROVIDER_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    assert toolchain() == Toolchain()
    assert Toolchain().cache_dir == Path.home() / ".cache" / "tfgen"
    monkeypatch.setenv("TFGEN_OPA_BIN", str(tmp_path / "opa"))
    monkeypatch.setenv("TFGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TFGEN_PROVIDER_MIRROR", str(tmp_path / "mirror"))
    assert toolchain() == Toolchain(tmp_path / "opa", tmp_path / "cache", tmp_path / "mirror")
    assert provider_mirror(toolchain()) == tmp_path / "mirror"


def test_a_missing_opa_bin_is_named_as_the_parameter_and_worded_as_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-opa"
    with pytest.raises(ToolchainError) as exc:
        Toolchain(opa_bin=missing).opa()
    assert exc.value.message == f"opa_bin={missing}: no such file"
    assert exc.value.parameter == "opa_bin"
    assert describe(exc.value) == f"TFGEN_OPA_BIN={missing}: no such file"
    monkeypatch.setenv("TFGEN_OPA_BIN", str(missing))
    with pytest.raises(SystemExit):
        main(["--version"])
    assert f"opa unavailable: TFGEN_OPA_BIN={missing}: no such file" in capsys.readouterr().out
