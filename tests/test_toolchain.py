"""The real components are found and report the pinned versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PlanFn

from tfgen.cli import main
from tfgen.terraform import Terraform
from tfgen.toolchain import opa_version, pins


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
