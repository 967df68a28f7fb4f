"""tfgen.redact: sensitive values leave the plan before any engine, and every output is scrubbed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfgen.cli import main
from tfgen.redact import (
    MIN_SCRUB_LENGTH,
    REDACTED,
    Secrets,
    input_secrets,
    redact_plan,
    redact_report,
    scrub,
)

E2E = Path(__file__).resolve().parent / "fixtures" / "e2e" / "root"
SECRETS = ("cc-4471-hush", "s3cr3t-note-value")


@pytest.mark.terraform
def test_real_plan_has_no_sensitive_value_left(plan_module: Any) -> None:
    plan = plan_module(E2E)
    raw = json.dumps(plan)
    assert all(secret in raw for secret in SECRETS)  # the fixture really carries them

    redacted, secrets = redact_plan(plan)
    text = json.dumps(redacted)
    for secret in SECRETS:
        assert secret not in text
    assert set(SECRETS) <= secrets.values
    assert plan == plan_module(E2E)  # the input is not modified

    key = next(r for r in redacted["resource_changes"] if r["address"] == "aws_kms_key.this")
    after = key["change"]["after"]
    assert after["tags"] == {"CostCenter": REDACTED, "Team": "platform"}
    # Terraform does not mark the provider-computed copy; the second pass catches it.
    assert after["tags_all"]["CostCenter"] == REDACTED
    assert after["enable_key_rotation"] is True
    assert after["deletion_window_in_days"] == 30
    assert redacted["variables"]["cost_center"]["value"] == REDACTED
    assert redacted["output_changes"]["cost_center"]["after"] == REDACTED
    assert redacted["planned_values"]["outputs"]["cost_center"]["value"] == REDACTED
    root_vars = redacted["configuration"]["root_module"]["variables"]
    assert root_vars["secret_note"]["default"] == REDACTED
    streams = [r for r in redacted["resource_changes"] if r["address"].startswith("module.logs.")]
    assert {r["address"] for r in streams} == {
        'module.logs.aws_kms_key.stream["app"]',
        'module.logs.aws_kms_key.stream["audit"]',
    }
    assert all(r["change"]["after"]["tags"]["Note"] == REDACTED for r in streams)


def test_masks_nested_lists_and_whole_values() -> None:
    plan = {
        "resource_changes": [
            {
                "address": "x.y",
                "change": {
                    "before": {"rules": [{"v": "keep"}, {"v": "hide-me-1"}], "n": 123456},
                    "before_sensitive": {"rules": [{}, {"v": True}], "n": True},
                    "after": {"policy": '{"Statement": []}', "flag": True},
                    "after_sensitive": {"policy": True, "flag": True},
                },
            }
        ],
        "prior_state": {
            "values": {
                "root_module": {
                    "child_modules": [
                        {
                            "resources": [
                                {"values": {"pw": "hide-me-2"}, "sensitive_values": {"pw": True}}
                            ]
                        }
                    ]
                }
            }
        },
    }
    redacted, secrets = redact_plan(plan)
    change = redacted["resource_changes"][0]["change"]
    assert change["before"] == {"rules": [{"v": "keep"}, {"v": REDACTED}], "n": REDACTED}
    # A redacted policy is no longer JSON: a rule that needs it sees an unusable value.
    assert change["after"] == {"policy": REDACTED, "flag": REDACTED}
    child = redacted["prior_state"]["values"]["root_module"]["child_modules"][0]
    assert child["resources"][0]["values"]["pw"] == REDACTED
    assert {"hide-me-1", "hide-me-2", "123456", '{"Statement": []}'} <= secrets.values


def test_non_sensitive_plan_is_unchanged() -> None:
    plan = {"resource_changes": [{"change": {"after": {"a": "b"}, "after_sensitive": {}}}]}
    redacted, secrets = redact_plan(plan)
    assert redacted == plan
    assert not secrets


def test_scrub_every_spelling() -> None:
    secrets = Secrets(frozenset({'pa"ss<wörd>', "abcd", "abcdef"}))
    assert scrub('x pa"ss<wörd> y', secrets) == f"x {REDACTED} y"
    assert scrub(json.dumps({"v": 'pa"ss<wörd>'}), secrets) == json.dumps({"v": REDACTED})
    assert scrub('{"v": "pa\\"ss<w\\u00f6rd>"}', secrets) == f'{{"v": "{REDACTED}"}}'
    assert scrub("<a>pa&quot;ss&lt;wörd&gt;</a>", secrets) == f"<a>{REDACTED}</a>"
    # The longer secret is removed whole, not leaving its tail behind.
    assert scrub("abcdef", secrets) == REDACTED


def test_short_values_are_redacted_but_not_scrubbed_from_text() -> None:
    plan: dict[str, Any] = {"variables": {"pin": {"value": "123"}}}
    plan["configuration"] = {"root_module": {"variables": {"pin": {"sensitive": True}}}}
    redacted, secrets = redact_plan(plan)
    assert redacted["variables"]["pin"]["value"] == REDACTED
    assert not secrets


def test_input_secrets_from_vars_var_files_and_environment(tmp_path: Path) -> None:
    """What Terraform's own error messages could echo: values given to sensitive variables."""
    (tmp_path / "variables.tf").write_text(
        'variable "token" {\n  type = string\n  sensitive = true\n  default = "default-secret"\n}\n'
        'variable "region" {\n  type = string\n}\n'
        'variable "keys" {\n  type = list(string)\n  sensitive = true\n  default = []\n}\n'
    )
    (tmp_path / "a.tfvars").write_text(
        'keys = ["from-tfvars-1", "from-tfvars-2"]\nregion = "eu-west-1"\n'
    )
    (tmp_path / "b.tfvars.json").write_text(json.dumps({"token": "from-json-file"}))
    secrets = input_secrets(
        tmp_path,
        ["token=from-the-cli", "region=us-east-1"],
        [tmp_path / "a.tfvars", tmp_path / "b.tfvars.json"],
        {"TF_VAR_token": "from-environment", "TF_VAR_region": "eu-central-1"},
    )
    assert secrets.values == {
        "default-secret",
        "from-the-cli",
        "from-tfvars-1",
        "from-tfvars-2",
        "from-json-file",
        "from-environment",
    }
    message = "Error: invalid value from-the-cli for var.token"
    assert scrub(message, secrets) == f"Error: invalid value {REDACTED} for var.token"


def test_literal_passed_to_a_sensitive_child_variable() -> None:
    call = {
        "expressions": {
            "token": {"constant_value": "literal-secret"},
            "name": {"constant_value": "x"},
        },
        "module": {"variables": {"token": {"sensitive": True}, "name": {}}},
    }
    plan = {"configuration": {"root_module": {"module_calls": {"child": call}}}}
    redacted, secrets = redact_plan(plan)
    expressions = redacted["configuration"]["root_module"]["module_calls"]["child"]["expressions"]
    assert expressions == {"token": {"constant_value": REDACTED}, "name": {"constant_value": "x"}}
    assert secrets.values == {"literal-secret"}


@pytest.mark.parametrize(
    "plan",
    [
        {"resource_changes": None, "planned_values": None, "variables": None},
        {
            "resource_changes": [
                "x",
                {"change": None},
                {"change": {"after": 1, "after_sensitive": 5}},
            ]
        },
        {"planned_values": {"outputs": {"o": "x"}, "root_module": {"child_modules": [None, 3]}}},
        {"configuration": {"root_module": {"variables": None, "module_calls": {"m": None}}}},
        {"configuration": {"root_module": {"module_calls": {"m": {"expressions": {"a": 1}}}}}},
        {"variables": {"v": "not an object"}, "output_changes": {"o": None}},
    ],
)
def test_odd_shapes_do_not_crash(plan: dict[str, Any]) -> None:
    redacted, secrets = redact_plan(plan)
    assert redacted == plan
    assert not secrets


_leaf = st.one_of(st.text(min_size=0, max_size=12), st.integers(), st.booleans(), st.none())
_value = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def _value_and_mask(draw: st.DrawFn) -> tuple[Any, Any]:
    value = draw(_value)
    return value, draw(_mask_for(value))


def _mask_for(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, dict):
        return st.one_of(
            st.booleans(), st.fixed_dictionaries({k: _mask_for(v) for k, v in value.items()})
        )
    if isinstance(value, list):
        return st.one_of(st.booleans(), st.tuples(*(_mask_for(v) for v in value)).map(list))
    return st.booleans()


def _marked(value: Any, mask: Any) -> list[str]:
    if mask is True:
        return [s for s in _all_strings(value)]
    if isinstance(mask, dict) and isinstance(value, dict):
        return [s for k, v in value.items() for s in _marked(v, mask.get(k, False))]
    if isinstance(mask, list) and isinstance(value, list):
        return [s for v, m in zip(value, mask, strict=False) for s in _marked(v, m)]
    return []


def _all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _all_strings(v)]
    return []


@settings(max_examples=200, deadline=None)
@given(_value_and_mask(), _value_and_mask())
def test_no_marked_string_survives_anywhere(
    before: tuple[Any, Any], after: tuple[Any, Any]
) -> None:
    """Whatever the shapes: no marked string of scrubbable length is left as a value anywhere."""
    change = {"before": before[0], "before_sensitive": before[1]}
    change |= {"after": after[0], "after_sensitive": after[1]}
    plan = {"resource_changes": [{"address": "a.b", "change": change}], "copy": [after[0]]}
    redacted, secrets = redact_plan(plan)
    marked = {s for s in _marked(*before) + _marked(*after) if len(s) >= MIN_SCRUB_LENGTH}
    assert marked <= secrets.values
    assert not marked & set(_all_strings(redacted))
    # Keys (the plan's structure) are never rewritten; redacted attributes become unknown.
    redacted_change = redacted["resource_changes"][0]["change"]
    assert [k for k in redacted_change if k != "after_unknown"] == list(change)
    for name in redacted_change.get("after_unknown", {}):
        assert redacted_change["after"][name] in (REDACTED, None)


def test_plan_structure_is_never_rewritten() -> None:
    """A sensitive value equal to a key or inside another value must not change what rules read."""
    plan: dict[str, Any] = {
        "resource_changes": [
            {
                "address": "aws_kms_key.rotation",
                "change": {
                    "after": {
                        "description": "rotation",
                        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                        "enable_key_rotation": True,
                        "name": "rotation-key",
                    },
                    "after_sensitive": {"description": True},
                },
            }
        ]
    }
    redacted, secrets = redact_plan(plan)
    after = redacted["resource_changes"][0]["change"]["after"]
    assert after == {**plan["resource_changes"][0]["change"]["after"], "description": REDACTED}
    assert redacted["resource_changes"][0]["address"] == "aws_kms_key.rotation"
    # Rendered text is still scrubbed of substrings: that is the second line of defence.
    assert scrub("aws_kms_key.rotation", secrets) == f"aws_kms_key.{REDACTED}"


def test_a_sensitive_attribute_is_unknown_to_the_rules(
    plan_module: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key spec the rules cannot see must not exempt the key from the rotation check."""
    (tmp_path / "main.tf").write_text(
        'variable "spec" {\n  type      = string\n  default   = "RSA_2048"\n  sensitive = true\n}\n'
        'variable "usage" {\n  type      = string\n  default   = "SIGN_VERIFY"\n  sensitive = true\n}\n'
        'resource "aws_kms_key" "this" {\n'
        "  customer_master_key_spec = var.spec\n  key_usage                = var.usage\n}\n"
    )
    plan = plan_module(tmp_path)
    redacted, _ = redact_plan(plan)
    (change,) = redacted["resource_changes"]
    assert change["change"]["after_unknown"]["customer_master_key_spec"] is True
    assert change["change"]["after_unknown"]["key_usage"] is True
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert main(["check", str(path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert ("KMS-001", "aws_kms_key.this") in {
        (f["rule_id"], f["address"]) for f in report["findings"]
    }
    assert "RSA_2048" not in json.dumps(report)


@pytest.mark.terraform
def test_in_place_redaction_equals_the_copy(plan_module: Any) -> None:
    plan = plan_module(E2E)
    copied, secrets = redact_plan(plan)
    assert json.dumps(plan) != json.dumps(copied)  # the copy left the input alone
    same, secrets_in_place = redact_plan(plan, in_place=True)
    assert same == copied
    assert secrets_in_place == secrets


def test_report_strings_are_redacted_in_every_field() -> None:
    from tfgen.model import Finding, PlanInfo, Report, SourceLocation

    secret = 'Qx7"Kw<r>&Zt\\é'  # noqa: S105 - a test value
    inside_json = json.dumps({"Sid": secret})
    finding = Finding(
        rule_id="KMS-011",
        title="t",
        severity="critical",
        enforcement="mandatory",
        address=f"aws_kms_key.x[{json.dumps(secret)}]",
        resource_type="aws_kms_key",
        message=f"statement {secret}",
        plan=f"/plans/{secret}.json",
        location=SourceLocation(file=f"{secret}.tf", line=3),
        details={secret: [secret, inside_json, json.dumps(inside_json)]},
    )
    report = Report(
        tool={"tfgen": "0"},
        plans=(PlanInfo(f"/plans/{secret}.json", "1.2", "1.5.0", 1),),
        findings=(finding,),
        rules=(),
        errors=(f"error {secret}",),
        notices=(f"notice {secret}",),
    )
    redacted = redact_report(report, Secrets(frozenset({secret})))
    text = repr(redacted)
    for part in ("Qx7", "Kw", "Zt"):
        assert part not in text
    assert redacted.findings[0].details[REDACTED][0] == REDACTED
    assert json.loads(redacted.findings[0].details[REDACTED][1]) == {"Sid": REDACTED}
    assert redacted.exit_code == report.exit_code


def test_sensitive_map_keys_are_renamed_in_values_only() -> None:
    after = {"tags": {"k3y-secret": "v"}, "tags_all": {"k3y-secret": "v", "other-secret": "w"}}
    plan = {
        "resource_changes": [
            {
                "address": "a.b",
                "change": {"after": after, "after_sensitive": {"tags": True}},
            }
        ],
        "variables": {"k": {"value": "other-secret"}},
        "configuration": {"root_module": {"variables": {"k": {"sensitive": True}}}},
    }
    redacted, secrets = redact_plan(plan)
    assert {"k3y-secret", "other-secret"} <= secrets.values
    change = redacted["resource_changes"][0]["change"]
    assert change["after"]["tags"] == REDACTED
    assert change["after"]["tags_all"] == {REDACTED: "v", f"{REDACTED} 2": "w"}
