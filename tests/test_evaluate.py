"""The evaluation loop: concurrent evaluations keep input order, the first engine failure ends the
run at the same plan whatever the concurrency, and the gate reads plan files one at a time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REGO, ServeFn

from tfgen import gate
from tfgen.config import Config
from tfgen.engines import EngineOptions, open_engine
from tfgen.evaluate import default_jobs, evaluate_plans
from tfgen.model import PlanInfo
from tfgen.rulepack import find_pack
from tfgen.toolchain import Toolchain

pytestmark = pytest.mark.opa

CONFLICT = FIXTURES / "engines" / "conflict"


def _plan(name: str, rotation: bool) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": f"aws_kms_key.{name}",
                "mode": "managed",
                "type": "aws_kms_key",
                "name": name,
                "change": {
                    "actions": ["create"],
                    "after": {"enable_key_rotation": rotation, "deletion_window_in_days": 30},
                    "after_unknown": {},
                },
            }
        ],
    }


def _info(name: str) -> PlanInfo:
    return PlanInfo(path=name, format_version="1.2", terraform_version="1.15.5", resources=1)


PLANS = [(_info(f"p{i:02d}"), _plan(f"k{i:02d}", rotation=i % 3 == 0)) for i in range(24)]


@pytest.mark.parametrize("engine_name", ["embedded", "opa"])
def test_results_keep_input_order_whatever_the_concurrency(
    engine_name: str, opa_server: str, toolchain: Toolchain
) -> None:
    pack = find_pack(REGO)
    reports = []
    for jobs in (1, 4):
        options = EngineOptions(opa_url=opa_server, jobs=jobs, toolchain=toolchain)
        engine = open_engine(engine_name, pack, options=options)
        try:
            reports.append(evaluate_plans(iter(PLANS), engine, pack, jobs=jobs))
        finally:
            engine.close()
    sequential, concurrent = reports
    assert [p.path for p in concurrent.plans] == [f"p{i:02d}" for i in range(24)]
    assert concurrent.findings == sequential.findings
    assert [f.plan for f in concurrent.findings] == sorted(f.plan for f in concurrent.findings)
    assert {f.address for f in concurrent.findings if f.rule_id == "KMS-001"} == {
        f"aws_kms_key.k{i:02d}" for i in range(24) if i % 3
    }


def test_the_first_engine_failure_ends_the_run_at_the_same_plan(opa_serve: ServeFn) -> None:
    pack = find_pack(CONFLICT)
    url = opa_serve(CONFLICT)
    ok: dict[str, Any] = {"resource_changes": []}
    bad = {"resource_changes": [{"address": "k", "type": "aws_kms_key"}]}
    plans = [(_info(name), bad if name == "c" else ok) for name in "abcdefg"]
    engine = open_engine("opa", pack, options=EngineOptions(opa_url=url, jobs=4))
    try:
        report = evaluate_plans(iter(plans), engine, pack, jobs=4)
    finally:
        engine.close()
    assert [p.path for p in report.plans] == ["a", "b"]
    assert report.errors[0].startswith("c: OPA at http://127.0.0.1:")
    assert report.errors[1] == "4 further plan(s) not evaluated after the engine failed"


def test_the_gate_reads_each_plan_file_only_when_it_gets_there(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    """The third file is removed once the first plan is evaluated: it was not read up front."""
    paths = []
    for i in range(3):
        path = tmp_path / f"plan-{i}.json"
        plan = _plan(f"k{i}", rotation=False)
        plan["planned_values"] = {"root_module": {}}
        path.write_text(json.dumps(plan), encoding="utf-8")
        paths.append(path)
    batch = gate.Batch.read([str(p) for p in paths])
    assert len(batch) == 3

    def progress(done: int, total: int) -> None:
        assert total == 3
        if done == 1:
            paths[2].unlink()

    pack = find_pack(REGO)
    options = EngineOptions(jobs=1, toolchain=toolchain)
    report = gate.run(batch, pack, Config(), options=options, progress=progress, base=tmp_path)
    assert [p.path for p in report.plans] == [str(paths[0]), str(paths[1])]
    assert report.errors == (f"{paths[2]}: no such file",)
    assert {f.address for f in report.findings if f.rule_id == "KMS-001"} == {
        "aws_kms_key.k0",
        "aws_kms_key.k1",
    }


def test_jobs_must_be_positive() -> None:
    from tfgen.errors import InputError

    with pytest.raises(InputError, match="jobs: must be at least 1"):
        open_engine("embedded", find_pack(REGO), options=EngineOptions(jobs=0))


def test_the_embedded_engine_keeps_at_most_one_wasm_instance_per_core(
    toolchain: Toolchain,
) -> None:
    """More jobs than cores wait for an instance instead of holding another one's memory."""
    from tfgen.engines.embedded import EmbeddedEngine

    cores = len(os.sched_getaffinity(0))
    for jobs, instances in ((1, 1), (cores + 3, cores)):
        options = EngineOptions(jobs=jobs, toolchain=toolchain)
        engine = open_engine("embedded", find_pack(REGO), options=options)
        try:
            assert isinstance(engine, EmbeddedEngine)
            assert engine.instances == instances
        finally:
            engine.close()


def test_default_jobs_keep_every_core_busy() -> None:
    """One evaluation per core, on every engine."""
    assert default_jobs() == len(os.sched_getaffinity(0))
