"""The generated module with the real Terraform: fmt, plans against the seed, its own tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import MODULE, SEED_INPUTS, PlanFn, seed_json_text, valid_options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.cli import main
from tfgen.module import interface, seed
from tfgen.module.files import render
from tfgen.module.options import ModuleOptions
from tfgen.module.write import write
from tfgen.terraform import OFFLINE_PROVIDER_BLOCK, Terraform

pytestmark = pytest.mark.terraform

SEED_VARS = (
    "account_id=111122223333",
    "region=us-east-1",
    'key_administrators=["arn:aws:iam::111122223333:user/username"]',
)
TRAILS = [
    "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events",
    "arn:aws:cloudtrail:eu-west-1:111122223333:trail/data-events",
]


def run_tf(terraform: Terraform, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run Terraform and keep stdout/stderr (fmt diffs, test reports) for the assertion message."""
    return subprocess.run(
        [*terraform.command, *args],
        cwd=cwd,
        env={**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **terraform.env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def key_change(plan: dict[str, Any]) -> dict[str, Any]:
    keys = [r for r in plan["resource_changes"] if r["type"] == "aws_kms_key"]
    assert len(keys) == 1, [r["address"] for r in plan["resource_changes"]]
    after: dict[str, Any] = keys[0]["change"]["after"]
    return after


def planned_policy(plan: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(key_change(plan)["policy"])
    return policy


def substituted_seed() -> dict[str, Any]:
    text = seed_json_text().replace("aws-account-id", "111122223333")
    policy: dict[str, Any] = json.loads(
        text.replace("ec2.region.amazonaws.com", "ec2.us-east-1.amazonaws.com")
    )
    return policy


def assert_same_policy(planned: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal JSON, reported statement by statement."""
    assert {k: v for k, v in planned.items() if k != "Statement"} == {
        k: v for k, v in expected.items() if k != "Statement"
    }
    assert [s.get("Sid") for s in planned["Statement"]] == [s["Sid"] for s in expected["Statement"]]
    for got, want in zip(planned["Statement"], expected["Statement"], strict=True):
        assert got == want, want["Sid"]


def plan_example(terraform: Terraform, module: Path, work: Path) -> dict[str, Any]:
    """Plan examples/basic in a copy of the module tree (its source is ../..), offline."""
    tree = work / "module"
    shutil.copytree(module, tree, ignore=shutil.ignore_patterns(".terraform*"))
    example = tree / "examples" / "basic"
    assert 'provider "aws"' not in (example / "main.tf").read_text()
    (example / "tfgen_offline_provider.tf").write_text(OFFLINE_PROVIDER_BLOCK)
    return terraform.plan_json(example)


def test_offline_provider_block_takes_only_arguments_current_providers_accept() -> None:
    """skip_get_ec2_platforms (removed in AWS provider 5.0) would break --offline with --plugin-dir."""
    assert "skip_get_ec2_platforms" not in OFFLINE_PROVIDER_BLOCK
    assert "skip_credentials_validation = true" in OFFLINE_PROVIDER_BLOCK


def test_committed_module_is_terraform_fmt_clean(terraform: Terraform) -> None:
    proc = run_tf(terraform, ["fmt", "-check", "-recursive", "-diff", "-no-color"], MODULE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(valid_options(), min_size=6, max_size=6))
def test_generated_variants_are_terraform_fmt_clean(
    terraform: Terraform, batch: list[ModuleOptions]
) -> None:
    with tempfile.TemporaryDirectory(prefix="tfgen-fmt-") as tmp:
        for index, options in enumerate(batch):
            write(Path(tmp) / f"m{index}", render(options))
        proc = run_tf(terraform, ["fmt", "-check", "-recursive", "-diff", "-no-color"], Path(tmp))
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_seed_substitution_plans_to_the_seed_policy(plan_module: PlanFn) -> None:
    plan = plan_module(MODULE, variables=SEED_VARS)
    assert_same_policy(planned_policy(plan), substituted_seed())


def test_examples_basic_plans_to_the_seed_policy(terraform: Terraform, tmp_path: Path) -> None:
    plan = plan_example(terraform, MODULE, tmp_path)
    assert_same_policy(planned_policy(plan), substituted_seed())
    output = plan["planned_values"]["outputs"]["key_policy"]["value"]
    assert json.loads(output) == substituted_seed()


def test_key_settings_default_to_rotation_and_a_30_day_window(plan_module: PlanFn) -> None:
    key = key_change(plan_module(MODULE, variables=SEED_VARS))
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert key["description"] == ModuleOptions().description


def test_trail_arns_add_source_arn_to_both_cloudtrail_statements(plan_module: PlanFn) -> None:
    plan = plan_module(MODULE, variables=(*SEED_VARS, f"trail_arns={json.dumps(TRAILS)}"))
    policy = planned_policy(plan)
    assert_same_policy(policy, seed.intended_policy(**SEED_INPUTS, trail_arns=TRAILS))
    with_source = [
        s["Sid"] for s in policy["Statement"] if "aws:SourceArn" in json.dumps(s.get("Condition"))
    ]
    assert with_source == [seed.SID_ENCRYPT, seed.SID_DESCRIBE]


def test_cross_account_ids_replace_the_caller_account(plan_module: PlanFn) -> None:
    accounts = ["444455556666", "777788889999"]
    plan = plan_module(MODULE, variables=(*SEED_VARS, f"cross_account_ids={json.dumps(accounts)}"))
    policy = planned_policy(plan)
    assert_same_policy(policy, seed.intended_policy(**SEED_INPUTS, cross_account_ids=accounts))
    last = policy["Statement"][-1]
    assert last["Condition"]["StringEquals"]["kms:CallerAccount"] == accounts


def test_null_region_is_the_providers_region_with_the_real_provider(plan_module: PlanFn) -> None:
    """aws_region reads no API: the offline provider's us-east-1 reaches kms:ViaService."""
    # -var=region=null would be the string "null"; a tfvars file sets null itself.
    tfvars = {"terraform.tfvars": "region = null\n"}
    plan = plan_module(MODULE, files=tfvars, variables=(SEED_VARS[0], SEED_VARS[2]))
    assert_same_policy(planned_policy(plan), substituted_seed())


def test_module_rejects_a_bad_account_id_at_plan(terraform: Terraform, tmp_path: Path) -> None:
    shutil.copytree(MODULE, tmp_path / "m")
    (tmp_path / "m" / "offline.tf").write_text(OFFLINE_PROVIDER_BLOCK)
    assert run_tf(terraform, ["init", "-no-color"], tmp_path / "m").returncode == 0
    proc = run_tf(
        terraform,
        ["plan", "-no-color", "-var=account_id=123", "-var=region=us-east-1"],
        tmp_path / "m",
    )
    assert proc.returncode != 0
    assert "The account_id must be 12 digits." in proc.stderr


@pytest.mark.opa
def test_examples_basic_is_a_root_tfgen_plans_offline_as_is(
    tmp_path: Path,
    opa_bin: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """README's `tfgen plan kms-default/examples/basic --offline`, and the committed example: exit 0."""
    monkeypatch.setenv("TFGEN_OPA_BIN", str(opa_bin))
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--out", "kms-default"]) == 0
    readme = (MODULE.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "`tfgen plan kms-default/examples/basic --offline`" in readme
    committed = MODULE / "examples" / "basic"
    assert main(["plan", "kms-default/examples/basic", str(committed), "--offline"]) == 0
    captured = capsys.readouterr()
    assert "2 plans" in captured.out, captured.out + captured.err


def test_readme_names_the_terraform_the_tests_run_with(terraform: Terraform) -> None:
    assert terraform.version() == interface.TESTED_TERRAFORM
    assert f"Run with Terraform {interface.TESTED_TERRAFORM} and AWS provider" in (
        MODULE / "README.md"
    ).read_text(encoding="utf-8")


def test_module_terraform_test_files_pass(terraform: Terraform, tmp_path: Path) -> None:
    work = tmp_path / "m"
    shutil.copytree(MODULE, work, ignore=shutil.ignore_patterns(".terraform*"))
    init = run_tf(terraform, ["init", "-no-color"], work)
    assert init.returncode == 0, init.stderr
    proc = run_tf(terraform, ["test", "-no-color"], work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(work.glob("tests/*.tftest.hcl"))
    assert [f.name for f in files] == ["policy.tftest.hcl", "validation.tftest.hcl"]
    runs = sum(f.read_text().count('\nrun "') for f in files)
    assert runs == 18
    assert f"Success! {runs} passed, 0 failed." in proc.stdout, proc.stdout


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_options())
def test_planned_policy_is_the_intended_policy(
    terraform: Terraform, options: ModuleOptions
) -> None:
    with tempfile.TemporaryDirectory(prefix="tfgen-prop-") as tmp:
        write(Path(tmp) / "generated", render(options))
        plan = plan_example(terraform, Path(tmp) / "generated", Path(tmp))
    resolved = options.normalized()
    intended = seed.intended_policy(
        account_id=resolved.account_id,
        region=resolved.region,
        key_administrators=resolved.key_administrators or (),
        cross_account_ids=resolved.cross_account_ids,
        trail_arns=resolved.trail_arns,
    )
    assert_same_policy(planned_policy(plan), intended)
    key = key_change(plan)
    # Provider 3.39 plans an empty description as "known after apply" (Optional+Computed).
    assert key.get("description", "") == resolved.description
    assert resolved.description == "" or "description" in key
    assert (key["tags"] or {}) == dict(resolved.tags)
    assert key["deletion_window_in_days"] == resolved.deletion_window_in_days
    assert key["enable_key_rotation"] is resolved.enable_key_rotation
