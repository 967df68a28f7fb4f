"""`tfgen bundle export --hcp-policy-set`: the policy set HCP Terraform loads, evaluated by the
real OPA on HCP-shaped input built from real plans, judges them as `tfgen check` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
from helpers import FIXTURES, REGO, ROOT, PlanFn

from tfgen.cli import main
from tfgen.rulepack import find_pack

pytestmark = pytest.mark.usefixtures("isolated")

CASES = sorted(p.parent for p in (FIXTURES / "rules").glob("*/*/expected.json"))
Pairs = set[tuple[str, str]]


def export(directory: Path, *args: str) -> int:
    return main(
        ["bundle", "export", "--hcp-policy-set", str(directory), "--rules", str(REGO), *args]
    )


@pytest.fixture(scope="module")
def policy_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hcp") / "policy-set"
    assert export(directory) == 0
    return directory


def read_policies(policy_set: Path) -> dict[str, dict[str, str]]:
    """policies.hcl as HCP Terraform reads it: policy name -> its attributes."""
    with (policy_set / "policies.hcl").open(encoding="utf-8") as handle:
        config = hcl2.load(handle)
    out: dict[str, dict[str, str]] = {}
    for block in config["policy"]:
        for name, body in block.items():
            out[name.strip('"')] = {k: str(v).strip('"') for k, v in body.items()}
    return out


def test_one_policy_per_rule_with_metadata_enforcement(policy_set: Path) -> None:
    policies = read_policies(policy_set)
    rules = find_pack(REGO).rules
    assert sorted(policies) == sorted(r.rule_id for r in rules)
    for rule in rules:
        policy = policies[rule.rule_id]
        assert policy["enforcement_level"] == rule.enforcement
        kind = "deny" if rule.enforcement == "mandatory" else "warn"
        assert policy["query"].startswith("data.terraform.policies.")
        assert policy["query"].endswith(f".{kind}")
    assert {p["enforcement_level"] for p in policies.values()} == {"mandatory", "advisory"}


def test_policy_set_is_fmt_clean_and_strict(policy_set: Path, opa_bin: Path) -> None:
    for args in (["fmt", "--fail", "--list"], ["check", "--strict"]):
        proc = subprocess.run(
            [str(opa_bin), *args, str(policy_set)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not list(policy_set.rglob("*_test.rego"))


def hcp_input(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The input HCP Terraform gives a policy evaluation: the run's data, and the plan under plan."""
    return {
        "plan": plan,
        "run": {
            "id": "run-tfgen0000000000",
            "is_destroy": False,
            "organization": {"name": "example-org"},
            "workspace": {"name": name, "execution_mode": "remote"},
        },
    }


def eval_policy_set(opa_bin: Path, policy_set: Path, document: dict[str, Any]) -> dict[str, Pairs]:
    """Each policy's query on the real OPA, as HCP Terraform runs them: name -> (rule, address)."""
    policies = read_policies(policy_set)
    query = "{" + ", ".join(f"{json.dumps(n)}: {p['query']}" for n, p in policies.items()) + "}"
    proc = subprocess.run(
        [str(opa_bin), "eval", "--format=json", f"--data={policy_set}", "--stdin-input", query],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    value = json.loads(proc.stdout)["result"][0]["expressions"][0]["value"]
    assert set(value) == set(policies)  # every query is defined: an array, maybe empty
    return {
        name: {(r["rule_id"], r["address"]) for r in results} for name, results in value.items()
    }


def test_hcp_evaluation_matches_tfgen_check(
    policy_set: Path,
    opa_bin: Path,
    plan_module: PlanFn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plans: dict[str, dict[str, Any]] = {}
    for case in CASES:
        file = tmp_path / f"{case.parent.name}-{case.name}.json"
        plans[str(file)] = plan_module(case)
        file.write_text(json.dumps(plans[str(file)]), encoding="utf-8")
    report_file = tmp_path / "report.json"
    code = main(
        ["check", "--rules", str(REGO), "--format", "json", "--output", str(report_file), *plans]
    )
    capsys.readouterr()
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert code == 1 and report["errors"] == []
    policies = read_policies(policy_set)
    seen = {"deny": 0, "warn": 0}
    for path, plan in plans.items():
        findings = [f for f in report["findings"] if f["plan"] == path]
        on_hcp = eval_policy_set(opa_bin, policy_set, hcp_input(plan, Path(path).stem))
        for level, kind in (("mandatory", "deny"), ("advisory", "warn")):
            by_tfgen = {(f["rule_id"], f["address"]) for f in findings if f["enforcement"] == level}
            by_hcp = {
                pair
                for name, pairs in on_hcp.items()
                if policies[name]["enforcement_level"] == level
                for pair in pairs
            }
            assert by_hcp == by_tfgen, (path, kind)
            seen[kind] += len(by_hcp)
        # A policy reports only its own rule's findings.
        assert all(rule == name for name, pairs in on_hcp.items() for rule, _ in pairs)
    assert seen["deny"] > 0 and seen["warn"] > 0


def test_policies_read_the_plan_under_input_plan(
    policy_set: Path, opa_bin: Path, plan_module: PlanFn
) -> None:
    """The same plan given as the whole input (not HCP's document) is not where HCP puts it."""
    plan = plan_module(FIXTURES / "rules" / "KMS-001" / "positive")
    on_hcp = eval_policy_set(opa_bin, policy_set, hcp_input(plan, "rotation"))
    assert on_hcp["KMS-001"] == {("KMS-001", "aws_kms_key.this")}
    assert all(not pairs for pairs in eval_policy_set(opa_bin, policy_set, plan).values())


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tfgen", "bundle", "export", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "TFGEN_RULES_DIR": str(REGO)},
    )


def test_non_empty_directory_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "set"
    target.mkdir()
    (target / "mine.txt").write_text("keep me\n", encoding="utf-8")
    proc = run_cli("--hcp-policy-set", str(target))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"tfgen: error: {target}: is not empty; pass --force to overwrite the policy set\n"
    )
    assert sorted(p.name for p in target.iterdir()) == ["mine.txt"]
    proc = run_cli("--hcp-policy-set", str(target), "--force")
    assert proc.returncode == 0, proc.stderr
    assert (target / "mine.txt").read_text(encoding="utf-8") == "keep me\n"
    assert "1 files tfgen did not write" in proc.stderr and "mine.txt" in proc.stderr
    again = run_cli("--hcp-policy-set", str(target), "--force")
    assert again.returncode == 0, again.stderr


def test_target_that_is_not_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    proc = run_cli("--hcp-policy-set", str(target), "--force")
    assert proc.returncode == 2
    assert proc.stderr == f"tfgen: error: {target}: exists and is not a directory\n"
    assert target.read_text(encoding="utf-8") == "x"


def test_directory_in_place_of_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "set"
    (target / "policies.hcl").mkdir(parents=True)
    proc = run_cli("--hcp-policy-set", str(target), "--force")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "policies.hcl" in proc.stderr
    assert "not a regular file" in proc.stderr


def test_extra_rules_become_policies(tmp_path: Path, opa_bin: Path) -> None:
    target = tmp_path / "org-set"
    assert export(target, "--extra-rules", str(ROOT / "examples" / "extra-rules")) == 0
    policies = read_policies(target)
    assert policies["ORG-001"]["query"] == "data.terraform.policies.org_001.warn"
    assert policies["ORG-001"]["enforcement_level"] == "advisory"
    proc = subprocess.run(
        [str(opa_bin), "check", "--strict", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
