"""The rule pack on real plans: each fixture module is planned by Terraform and evaluated on the
real OPA (`opa eval`) and on the Wasm build in-process; both must give the expected findings."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REGO, ROOT, PlanFn, missing

from tfgen.terraform import OFFLINE_PROVIDER_BLOCK, Terraform
from tfgen.toolchain import Toolchain

RULE_FIXTURES = FIXTURES / "rules"
CASES = sorted(p.parent for p in RULE_FIXTURES.glob("*/*/expected.json"))

Verdict = dict[str, list[tuple[str, str]]]


def verdict(report: dict[str, Any]) -> Verdict:
    """Sorted (rule_id, address) pairs per entry point; deny is mandatory, warn advisory."""
    out: Verdict = {}
    for kind, enforcement in (("deny", "mandatory"), ("warn", "advisory")):
        results = report[kind]
        assert all(r["enforcement"] == enforcement for r in results), results
        out[kind] = sorted((r["rule_id"], r["address"]) for r in results)
    return out


def eval_opa(opa_bin: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """data.main.report on the real OPA."""
    proc = subprocess.run(
        [
            str(opa_bin),
            "eval",
            "--format=json",
            f"--data={REGO}",
            "--stdin-input",
            "data.main.report",
        ],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(proc.stdout)["result"][0]["expressions"][0]["value"]
    return report


@pytest.fixture(scope="session")
def wasm_policy(toolchain: Toolchain) -> Iterator[Any]:
    """The product's embedded engine: the pack compiled once by `opa build -t wasm`, in-process."""
    from tfgen.engines.embedded import EmbeddedEngine
    from tfgen.rulepack import find_pack

    engine = EmbeddedEngine(find_pack(REGO), toolchain=toolchain)
    yield engine
    engine.close()


def eval_wasm(engine: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """data.main.report on the embedded (Wasm) engine."""
    report: dict[str, Any] = engine.evaluate(plan)
    return report


def evaluate_both(opa_bin: Path, wasm_policy: Any, plan: dict[str, Any]) -> Verdict:
    on_opa = eval_opa(opa_bin, plan)
    on_wasm = eval_wasm(wasm_policy, plan)
    assert on_opa["pack"] == on_wasm["pack"]
    assert _results(on_opa) == _results(on_wasm)
    return verdict(on_opa)


def _results(report: dict[str, Any]) -> list[str]:
    """Every result field compared, result order ignored."""
    return sorted(json.dumps(r, sort_keys=True) for kind in ("deny", "warn") for r in report[kind])


def _expected(case: Path) -> Verdict:
    raw = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    return {
        kind: sorted((rule, address) for rule, address in raw[kind]) for kind in ("deny", "warn")
    }


def test_hand_edited_plans_say_why() -> None:
    """A hand-edited plan replaces main.tf and comes with a note on what was edited and why."""
    for edited in RULE_FIXTURES.glob("*/*/plan.json"):
        assert (edited.parent / "NOTE.md").is_file(), edited
        assert not (edited.parent / "main.tf").exists(), edited


@pytest.mark.opa
@pytest.mark.terraform
@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(RULE_FIXTURES)) for c in CASES])
def test_fixture_plan(case: Path, plan_module: PlanFn, opa_bin: Path, wasm_policy: Any) -> None:
    plan = plan_module(case)
    assert evaluate_both(opa_bin, wasm_policy, plan) == _expected(case)


def test_every_rule_has_fixtures() -> None:
    """Each rule id has a positive fixture (except those the mirrored provider cannot plan)."""
    rule_ids = {
        line.split(":", 1)[1].strip()
        for path in REGO.glob("tfgen/rules/*/*/*.rego")
        if not path.name.endswith("_test.rego")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#   id:")
    }
    # KMS-003 needs bypass_policy_lockout_safety_check, which AWS provider 3.39 lacks.
    unplannable = {"KMS-003"}
    with_positive = {p.parent.name for p in RULE_FIXTURES.glob("*/positive")}
    assert len(rule_ids) == 15
    assert rule_ids - unplannable <= with_positive


# The generator's module (modules/cloudtrail-kms-key) on the same two engines.
MODULE = ROOT / "modules" / "cloudtrail-kms-key"


def _plan_example(terraform: Terraform, tmp: Path, extra: str = "") -> dict[str, Any]:
    """Plan a copy of examples/basic (its source is ../.., so copy the whole module)."""
    if not (MODULE / "examples" / "basic").is_dir():
        missing("modules/cloudtrail-kms-key", "examples/basic not found")
    copy = tmp / "cloudtrail-kms-key"
    shutil.copytree(MODULE, copy, ignore=shutil.ignore_patterns(".terraform*"))
    example = copy / "examples" / "basic"
    (example / "tfgen_offline_provider.tf").write_text(OFFLINE_PROVIDER_BLOCK, encoding="utf-8")
    if extra:
        (example / "tfgen_override.tf").write_text(extra, encoding="utf-8")
    return terraform.plan_json(example)


@pytest.mark.opa
@pytest.mark.terraform
def test_generated_module_console_default(
    terraform: Terraform, tmp_path: Path, opa_bin: Path, wasm_policy: Any
) -> None:
    """The console's default policy: exactly KMS-012 (user/username admin) and KMS-022."""
    plan = _plan_example(terraform, tmp_path)
    address = "module.cloudtrail_kms_key.aws_kms_key.this"
    assert evaluate_both(opa_bin, wasm_policy, plan) == {
        "deny": [],
        "warn": [("KMS-012", address), ("KMS-022", address)],
    }


@pytest.mark.opa
@pytest.mark.terraform
def test_generated_module_with_trail_arns(
    terraform: Terraform, tmp_path: Path, opa_bin: Path, wasm_policy: Any
) -> None:
    """trail_arns set (aws:SourceArn on the CloudTrail statements) and no extra admin: nothing."""
    override = (
        'module "cloudtrail_kms_key" {\n'
        "  key_administrators = []\n"
        '  trail_arns         = ["arn:aws:cloudtrail:us-east-1:111122223333:trail/main"]\n'
        "}\n"
    )
    plan = _plan_example(terraform, tmp_path, override)
    assert evaluate_both(opa_bin, wasm_policy, plan) == {"deny": [], "warn": []}
