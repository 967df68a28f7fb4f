"""What the pack reads, derived from the pack, and the differential proof that pruning to it changes
no finding: every fixture plan, a benchmark plan and generated plans, on the embedded engine and
on a real OPA server."""

from __future__ import annotations

import importlib.util
import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import FIXTURES, REGO, ROOT, PlanFn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.engines import EngineOptions, open_engine
from tfgen.engines.base import Engine
from tfgen.evaluate import rule_input
from tfgen.redact import redact_plan
from tfgen.ruleinput import InputNeeds, input_keys, input_needs, prune, undeclared_types
from tfgen.rulepack import RulePack, find_pack
from tfgen.toolchain import Toolchain

PACK = find_pack(REGO)
RULE_CASES = sorted(p.parent for p in (FIXTURES / "rules").glob("*/*/expected.json"))
ENGINE_PACK = FIXTURES / "engines" / "pack"


def test_the_pack_reads_changes_and_configuration_of_declared_types_only() -> None:
    needs = input_needs(PACK)
    assert undeclared_types(PACK) == []
    assert needs.keys == frozenset({"resource_changes", "configuration", "variables"})
    declared = {t for rule in PACK.rules for t in rule.resource_types}
    assert declared <= (needs.types or set())
    assert "aws_kms_alias" in needs.config_types


def _copy(tmp_path: Path, source: Path = REGO) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*_test.rego"))
    return target


def test_a_rule_that_reads_a_type_it_does_not_declare_is_found(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    rule = root / "tfgen" / "rules" / "kms" / "rotation" / "rotation.rego"
    text = rule.read_text(encoding="utf-8")
    rule.write_text(
        text + '\n_bucket_seen if {\n\tsome rc in plan.changes\n\trc.type == "aws_s3_bucket"\n}\n',
        encoding="utf-8",
    )
    pack = RulePack(root)
    assert undeclared_types(pack) == ["tfgen/rules/kms/rotation/rotation.rego: aws_s3_bucket"]
    assert input_needs(pack).types is None  # such a pack is evaluated unpruned


def test_a_library_type_must_be_declared_by_the_library(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    lib = root / "tfgen" / "lib" / "plan" / "plan.rego"
    lib.write_text(
        lib.read_text(encoding="utf-8")
        + '\ngrants := {a: rc | some a, rc in changes; rc.type == "aws_kms_grant"}\n',
        encoding="utf-8",
    )
    assert undeclared_types(RulePack(root)) == ["tfgen/lib/plan/plan.rego: aws_kms_grant"]


@pytest.mark.parametrize(
    ("source", "keys"),
    [
        ("x := input.resource_changes", {"resource_changes"}),
        ('x := input["configuration"].root_module', {"configuration"}),
        ('x := object.get(input, "planned_values", {})', {"planned_values"}),
        ('x := object.get(input, ["configuration", "root_module"], {})', {"configuration"}),
        ('# input.variables in a comment\nx := "input.prior_state"', set()),
        ("x := data.input.anything", set()),
        ("x := input", None),
        ("x := input[k]", None),
        ("x := object.get(input, k, {})", None),
    ],
)
def test_input_keys(source: str, keys: set[str] | None) -> None:
    assert input_keys([source]) == (frozenset(keys) if keys is not None else None)


def test_a_pack_read_another_way_keeps_every_key(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    lib = root / "tfgen" / "lib" / "plan" / "plan.rego"
    lib.write_text(lib.read_text(encoding="utf-8") + "\n_everything := input\n", encoding="utf-8")
    assert input_needs(RulePack(root)).keys is None


def test_prune_keeps_what_is_read_and_shares_it() -> None:
    key = {"address": "aws_kms_key.k", "type": "aws_kms_key", "mode": "managed"}
    bucket = {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "mode": "managed"}
    alias = {"address": "aws_kms_alias.a", "type": "aws_kms_alias", "mode": "managed"}
    child = {"resources": [bucket, key], "outputs": {"o": {"expression": {}}}}
    plan: dict[str, Any] = {
        "format_version": "1.2",
        "planned_values": {"root_module": {}},
        "resource_changes": [key, bucket, alias],
        "configuration": {
            "provider_config": {"aws": {}},
            "root_module": {
                "resources": [key, bucket, alias],
                "module_calls": {"m": {"source": "./m", "expressions": {}, "module": child}},
            },
        },
    }
    needs = InputNeeds(
        keys=frozenset({"resource_changes", "configuration"}),
        types=frozenset({"aws_kms_key"}),
        config_types=frozenset({"aws_kms_alias"}),
    )
    pruned = prune(plan, needs)
    assert pruned == {
        "resource_changes": [key],
        "configuration": {
            "provider_config": {"aws": {}},
            "root_module": {
                "resources": [key, alias],
                "module_calls": {
                    "m": {
                        "source": "./m",
                        "expressions": {},
                        "module": {"resources": [key], "outputs": {"o": {"expression": {}}}},
                    }
                },
            },
        },
    }
    assert pruned["resource_changes"][0] is key
    assert plan["configuration"]["root_module"]["resources"] == [key, bucket, alias]  # untouched
    assert prune(plan, InputNeeds(keys=None, types=None)) == plan


@pytest.fixture(scope="module")
def embedded(toolchain: Toolchain) -> Iterator[Engine]:
    engine = open_engine("embedded", PACK, options=EngineOptions(toolchain=toolchain))
    yield engine
    engine.close()


def _on_server(url: str, document: dict[str, Any]) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/v1/data/main/report",
        data=json.dumps({"input": document}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())["result"]


def _results(report: Any) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for kind in ("deny", "warn") for r in report[kind])


def assert_pruning_changes_nothing(
    plan: dict[str, Any], embedded: Engine, server: str | None = None
) -> int:
    """Whole and pruned rule input give identical results on each engine; the result count."""
    redacted, _ = redact_plan(plan)
    whole = rule_input(redacted)
    pruned = prune(whole, input_needs(PACK))
    assert len(json.dumps(pruned)) <= len(json.dumps(whole))
    expected = _results(embedded.evaluate(whole))
    assert _results(embedded.evaluate(pruned)) == expected
    if server is not None:
        assert _results(_on_server(server, whole)) == expected
        assert _results(_on_server(server, pruned)) == expected
    needs = input_needs(PACK)
    for rule in PACK.rules:  # each rule on no more than its own types and the library's
        narrowed = InputNeeds(
            keys=needs.keys,
            types=frozenset(rule.resource_types) | _library_change_types(),
            config_types=needs.config_types,
        )
        mine = [r for r in expected if json.loads(r)["rule_id"] == rule.rule_id]
        theirs = _results(embedded.evaluate(prune(whole, narrowed)))
        assert [r for r in theirs if json.loads(r)["rule_id"] == rule.rule_id] == mine
    return len(expected)


def _library_change_types() -> frozenset[str]:
    from tfgen.ruleinput import _library_types

    types: set[str] = set()
    for changes, _ in _library_types(PACK).values():
        types |= changes
    return frozenset(types)


@pytest.mark.opa
@pytest.mark.terraform
@pytest.mark.parametrize(
    "case", RULE_CASES, ids=[str(c.relative_to(FIXTURES / "rules")) for c in RULE_CASES]
)
def test_fixture_plans(case: Path, plan_module: PlanFn, embedded: Engine, opa_server: str) -> None:
    assert_pruning_changes_nothing(plan_module(case), embedded, opa_server)


def _make_plans() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_plans", ROOT / "bench" / "make_plans.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.opa
@pytest.mark.terraform
def test_benchmark_plan(plan_module: PlanFn, embedded: Engine, opa_server: str) -> None:
    """The benchmark's 20-resource unit, planned by Terraform, replicated to 100 resources."""
    make_plans = _make_plans()
    unit = plan_module(make_plans.FIXTURE)
    replicator = make_plans.Replicator(make_plans._with_key_policy(unit))
    per_unit = assert_pruning_changes_nothing(replicator.plan(0, 1), embedded, opa_server)
    assert per_unit > 0
    plan = replicator.plan(0, 5)
    assert len(plan["resource_changes"]) == 100
    assert assert_pruning_changes_nothing(plan, embedded, opa_server) == 5 * per_unit


_POLICIES = [
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111122223333:trail/*"
                    }
                },
            }
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["kms:DescribeKey", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        ],
    },
]
_TYPES = [
    "aws_kms_key",
    "aws_kms_key_policy",
    "aws_cloudtrail",
    "aws_kms_alias",
    "aws_s3_bucket",
    "aws_sns_topic",
]
_ACTIONS = [
    ["create"],
    ["update"],
    ["no-op"],
    ["delete"],
    ["delete", "create"],
    ["create", "delete"],
]


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """Plans of up to 10 resources of mixed types, in the root and a child module, whose trails,
    key policies and aliases reference keys by configuration (directly, through an alias, a
    module output or a module variable) or by known ARN, with known, unknown and missing values."""
    count = draw(st.integers(1, 10))
    changes: list[dict[str, Any]] = []
    modules: dict[str, list[dict[str, Any]]] = {"": [], "module.m": []}
    arns = [f"arn:aws:kms:us-east-1:111122223333:key/k{i}" for i in range(count)]
    for i in range(count):
        rtype = draw(st.sampled_from(_TYPES))
        scope = draw(st.sampled_from(["", "module.m"]))
        name = f"r{i}"
        address = f"{scope + '.' if scope else ''}{rtype}.{name}"
        after: dict[str, Any] = {"tags": {"Name": draw(st.sampled_from(["a", "b"]))}}
        unknown: dict[str, Any] = {}
        expressions: dict[str, Any] = {}
        if rtype in ("aws_kms_key", "aws_kms_key_policy"):
            choice = draw(st.sampled_from(["known", "unknown", "absent"]))
            if choice == "known":
                after["policy"] = json.dumps(draw(st.sampled_from(_POLICIES)))
                expressions["policy"] = {"constant_value": after["policy"]}
            elif choice == "unknown":
                unknown["policy"] = True
                if draw(st.booleans()):
                    expressions["policy"] = {"references": ["local.p"]}
        if rtype == "aws_kms_key":
            after["enable_key_rotation"] = draw(st.sampled_from([True, False, None]))
            after["deletion_window_in_days"] = draw(st.sampled_from([7, 30]))
            after["is_enabled"] = draw(st.booleans())
            after["key_usage"] = "ENCRYPT_DECRYPT"
            after["customer_master_key_spec"] = draw(
                st.sampled_from(["SYMMETRIC_DEFAULT", "RSA_2048"])
            )
            if draw(st.booleans()):
                after["arn"] = arns[i]
            else:
                unknown["arn"] = True
        target = draw(st.integers(0, count - 1))
        link = draw(st.sampled_from(["direct", "alias", "var", "output", "value", "none"]))
        ref = f"aws_kms_key.r{target}"
        refs = {
            "direct": [f"{ref}.arn", ref],
            "alias": [f"aws_kms_alias.r{target}.arn", f"aws_kms_alias.r{target}"],
            "var": ["var.key"],
            "output": ["module.m.key_arn", "module.m"],
            "value": [],
            "none": [],
        }[link]
        attr = {
            "aws_cloudtrail": "kms_key_id",
            "aws_kms_key_policy": "key_id",
            "aws_kms_alias": "target_key_id",
            "aws_s3_bucket": "kms_master_key_id",
        }.get(rtype)
        if attr:
            if refs:
                expressions[attr] = {"references": refs}
                unknown[attr] = True
            elif link == "value":
                after[attr] = arns[target]
        changes.append(
            {
                "address": address,
                **({"module_address": scope} if scope else {}),
                "mode": "managed",
                "type": rtype,
                "name": name,
                "change": {
                    "actions": draw(st.sampled_from(_ACTIONS)),
                    "before": None,
                    "after": after,
                    "after_unknown": unknown,
                    "before_sensitive": False,
                    "after_sensitive": {},
                },
            }
        )
        modules[scope].append(
            {
                "address": f"{rtype}.{name}",
                "mode": "managed",
                "type": rtype,
                "name": name,
                "expressions": expressions,
            }
        )
    child_key = draw(st.integers(0, count - 1))
    return {
        "format_version": "1.2",
        "terraform_version": "1.15.5",
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "configuration": {
            "root_module": {
                "resources": modules[""],
                "module_calls": {
                    "m": {
                        "source": "./m",
                        "expressions": {"key": {"references": [f"aws_kms_key.r{child_key}.arn"]}},
                        "module": {
                            "resources": modules["module.m"],
                            "outputs": {
                                "key_arn": {
                                    "expression": {"references": [f"aws_kms_key.r{child_key}.arn"]}
                                }
                            },
                            "variables": {"key": {}},
                        },
                    }
                },
            }
        },
    }


@pytest.mark.opa
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans())
def test_generated_plans(plan: dict[str, Any], embedded: Engine, opa_server: str) -> None:
    assert_pruning_changes_nothing(plan, embedded, opa_server)


def test_the_engine_pack_fixture_is_pruned_by_its_own_declarations() -> None:
    needs = input_needs(RulePack(ENGINE_PACK))
    assert needs.types is not None and "aws_kms_key" in needs.types
