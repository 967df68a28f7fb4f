"""The embedded and OPA server engines on real OPA."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURE_PACK, FIXTURES, PlanFn, ServeFn, copy_pack

from tfgen import __version__
from tfgen.engines import EngineOptions, open_engine
from tfgen.engines.base import encode_input
from tfgen.errors import EngineError
from tfgen.evaluate import evaluate_plans, rule_input
from tfgen.model import Finding, PlanInfo
from tfgen.rulepack import RulePack, find_pack
from tfgen.toolchain import Toolchain

PACK = FIXTURE_PACK
CONFLICT = FIXTURES / "engines" / "conflict"
MODULES = FIXTURES / "engines" / "modules"

pytestmark = pytest.mark.opa


def info(name: str = "plan.json", resources: int = 0) -> PlanInfo:
    return PlanInfo(
        path=name, format_version="1.2", terraform_version="1.15.5", resources=resources
    )


def as_rows(findings: Sequence[Finding]) -> list[tuple[str, str, str, str, str]]:
    return [(f.plan, f.rule_id, f.address, f.enforcement, f.message) for f in findings]


# Engines.
@pytest.mark.terraform
def test_embedded_finds_rotation_off_key_in_a_real_plan(
    plan_module: PlanFn, toolchain: Toolchain
) -> None:
    plan = plan_module(MODULES / "rotation_off")
    pack = find_pack(PACK)
    engine = open_engine("embedded", pack, options=EngineOptions(toolchain=toolchain))
    try:
        report = evaluate_plans([(info("rotation_off"), plan)], engine, pack)
    finally:
        engine.close()
    assert as_rows(report.findings) == [
        (
            "rotation_off",
            "FIX-001",
            "aws_kms_key.this",
            "mandatory",
            "aws_kms_key.this does not rotate",
        )
    ]
    assert report.exit_code == 1
    assert report.tool["engine"] == "embedded"
    assert report.tool["opa"] == "1.22.4"
    assert report.tool["rule_pack"] == __version__


@pytest.mark.terraform
def test_embedded_and_opa_server_agree_with_config(
    plan_module: PlanFn, opa_serve: ServeFn, toolchain: Toolchain
) -> None:
    plans = [(info(name), plan_module(MODULES / name)) for name in ("rotation_off", "mixed")]
    pack = find_pack(PACK)
    url = opa_serve(PACK)
    reports = []
    for name in ("embedded", "opa"):
        engine = open_engine(
            name,
            pack,
            {"min_deletion_window_days": 14},
            EngineOptions(opa_url=url, toolchain=toolchain),
        )
        try:
            reports.append(evaluate_plans(plans, engine, pack))
        finally:
            engine.close()
    embedded, server = reports
    assert as_rows(embedded.findings) == as_rows(server.findings)
    assert [f.details for f in embedded.findings] == [f.details for f in server.findings]
    rows = {(f.plan, f.rule_id, f.address) for f in embedded.findings}
    assert rows == {
        ("rotation_off", "FIX-001", "aws_kms_key.this"),
        ("mixed", "FIX-001", "aws_kms_key.counted[0]"),
        ("mixed", "FIX-001", "aws_kms_key.counted[1]"),
        ("mixed", "FIX-001", "module.child.aws_kms_key.this"),
        ("mixed", "FIX-002", "aws_kms_key.rotated"),
        ("mixed", "FIX-002", "module.child.aws_kms_key.this"),
    }
    assert server.tool["opa"] == "1.22.4"
    assert server.tool["engine"] == "opa"


def test_default_config_applies_without_tfgen_config(toolchain: Toolchain) -> None:
    key = {
        "address": "aws_kms_key.k",
        "type": "aws_kms_key",
        "change": {
            "actions": ["create"],
            "after": {"enable_key_rotation": True, "deletion_window_in_days": 20},
        },
    }
    pack = find_pack(PACK)
    for config, expected in (({}, ["FIX-002"]), ({"min_deletion_window_days": 7}, [])):
        engine = open_engine("embedded", pack, config, EngineOptions(toolchain=toolchain))
        try:
            decision = engine.evaluate({"resource_changes": [key]})
        finally:
            engine.close()
        assert [r["rule_id"] for r in decision["warn"]] == expected


def test_rule_input_keeps_only_contract_keys() -> None:
    plan = {"format_version": "1.2", "resource_changes": [], "output_changes": {}, "checks": []}
    assert rule_input(plan) == {"format_version": "1.2", "resource_changes": []}


def test_load_pack_uploads_the_rules_through_the_policy_api(opa_serve: ServeFn) -> None:
    url = opa_serve()
    pack = find_pack(PACK)
    bare = open_engine("opa", pack, options=EngineOptions(opa_url=url))
    try:
        with pytest.raises(EngineError, match="undefined"):
            bare.evaluate({"resource_changes": []})
    finally:
        bare.close()
    loaded = open_engine("opa", pack, options=EngineOptions(opa_url=url, load_pack=True))
    try:
        decision = loaded.evaluate(
            {
                "resource_changes": [
                    {
                        "address": "k",
                        "type": "aws_kms_key",
                        "change": {"actions": ["create"], "after": {}},
                    }
                ]
            }
        )
    finally:
        loaded.close()
    assert [r["rule_id"] for r in decision["deny"]] == ["FIX-001"]


def test_conflict_error_is_an_engine_error_on_both_engines(
    opa_serve: ServeFn, toolchain: Toolchain
) -> None:
    pack = find_pack(CONFLICT)
    plan = {"resource_changes": [{"address": "k", "type": "aws_kms_key"}]}
    url = opa_serve(CONFLICT)
    for name, pattern in (
        ("embedded", "evaluation failed"),
        ("opa", "HTTP 500: eval_conflict_error"),
    ):
        engine = open_engine(name, pack, options=EngineOptions(opa_url=url, toolchain=toolchain))
        try:
            with pytest.raises(EngineError, match=pattern):
                engine.evaluate(plan)
        finally:
            engine.close()


def test_engine_failure_is_recorded_and_stops_the_run(opa_serve: ServeFn) -> None:
    pack = find_pack(CONFLICT)
    url = opa_serve(CONFLICT)
    engine = open_engine("opa", pack, options=EngineOptions(opa_url=url))
    ok: dict[str, Any] = {"resource_changes": []}
    bad = {"resource_changes": [{"address": "k", "type": "aws_kms_key"}]}
    try:
        report = evaluate_plans([(info("a"), ok), (info("b"), bad), (info("c"), ok)], engine, pack)
    finally:
        engine.close()
    assert [p.path for p in report.plans] == ["a"]
    assert report.errors[0].startswith("b: OPA at http://127.0.0.1:")
    assert report.errors[1] == "1 further plan(s) not evaluated after the engine failed"
    assert report.exit_code == 2


def test_a_builtin_the_embedded_engine_lacks_is_refused_up_front(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    root = copy_pack(tmp_path)
    rule = root / "tfgen" / "rules" / "kms" / "window" / "window.rego"
    rule.write_text(
        rule.read_text()
        + '\ndeny contains result.fail(rego.metadata.chain(), rc, "x") if {\n'
        + "\tsome rc in input.resource_changes\n\ttime.now_ns() > 0\n}\n"
    )
    with pytest.raises(
        EngineError, match=r"calls time\.now_ns, which the embedded engine cannot run"
    ):
        open_engine("embedded", RulePack(root), options=EngineOptions(toolchain=toolchain))


def test_a_report_evaluated_with_another_configuration_is_an_error() -> None:
    from tfgen.engines.base import decision
    from tfgen.errors import EngineError

    report = {"pack": {"name": "tfgen"}, "config": {}, "deny": [], "warn": []}
    assert decision(report, "here", {})["deny"] == []
    with pytest.raises(EngineError, match=r"evaluated with data\.tfgen_config"):
        decision(report, "here", {"min_deletion_window_days": 7})


def test_embedded_returns_a_decision_larger_than_ten_megabytes(toolchain: Toolchain) -> None:
    """opa-py-wasm stops reading a result string at 10 MB unless told otherwise (seen at 50k)."""
    sid = "s" * 1_100_000
    statements = [
        {
            "Sid": f"{sid}{i}",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
        for i in range(10)
    ]
    key = {
        "address": "aws_kms_key.big",
        "mode": "managed",
        "type": "aws_kms_key",
        "name": "big",
        "change": {
            "actions": ["create"],
            "before": None,
            "after": {
                "enable_key_rotation": True,
                "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                "key_usage": "ENCRYPT_DECRYPT",
                "policy": json.dumps({"Version": "2012-10-17", "Statement": statements}),
            },
            "after_unknown": {},
        },
    }
    engine = open_engine("embedded", find_pack(), options=EngineOptions(toolchain=toolchain))
    try:
        result = engine.evaluate({"format_version": "1.2", "resource_changes": [key]})
    finally:
        engine.close()
    public = [r for r in result["deny"] if r["rule_id"] == "KMS-011"]
    assert len(public) == 10
    assert len(json.dumps(result)) > 10_000_000


@pytest.mark.parametrize(
    "document",
    [
        {"n": 2**64, "m": -(2**63) - 1, "s": "é\u2028"},  # beyond orjson's integers
        {"s": "a\ud800b", "t": "é"},  # half a surrogate pair: JSON escapes it
        {"n": 2**64 - 1, "f": 0.1, "e": 1e300, "z": -0.0, "u": "\U0001f600", "l": [None, True]},
    ],
)
def test_engine_input_is_the_same_json_whatever_the_encoder(document: dict[str, Any]) -> None:
    encoded = encode_input(document)
    assert json.loads(encoded) == json.loads(json.dumps(document).replace("\\ud800", "\\ufffd"))


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8181", True),
        ("http://127.8.0.1:8181", True),
        ("http://localhost:8181", True),
        ("http://[::1]:8181", True),
        ("https://opa.example.com", False),
        ("http://10.0.0.7:8181", False),
        ("http://[fd00::7]:8181", False),
    ],
)
def test_decisions_from_this_host_are_asked_uncompressed(url: str, local: bool) -> None:
    """Loopback spares the CPU of gzip on both sides; a server elsewhere may still compress."""
    from tfgen.engines.opa import _on_this_host

    assert _on_this_host(url) is local


@pytest.mark.parametrize("name", ["embedded", "opa"])
def test_both_engines_judge_a_plan_holding_a_lone_surrogate(
    name: str, opa_serve: ServeFn, toolchain: Toolchain
) -> None:
    """JSON may escape half a surrogate pair; such a value is sent escaped, not refused."""
    pack = find_pack(PACK)
    key = {
        "address": "aws_kms_key.k",
        "mode": "managed",
        "type": "aws_kms_key",
        "name": "k",
        "change": {"actions": ["create"], "after": {"description": "\ud800"}},
    }
    url = opa_serve(PACK) if name == "opa" else None
    options = EngineOptions(opa_url=url, toolchain=toolchain)
    engine = open_engine(name, pack, options=options)
    try:
        result = engine.evaluate({"format_version": "1.2", "resource_changes": [key]})
    finally:
        engine.close()
    assert {r["rule_id"] for r in result["deny"]} == {"FIX-001"}


def test_healthy_asks_the_server(opa_serve: ServeFn) -> None:
    engine = open_engine("opa", find_pack(PACK), options=EngineOptions(opa_url=opa_serve(PACK)))
    try:
        assert engine.healthy()  # type: ignore[attr-defined]
    finally:
        engine.close()
