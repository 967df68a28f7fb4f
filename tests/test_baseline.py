"""Baselines on real plans: accepted findings do not block, new ones do, gone ones are resolved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, PlanFn

from tfgen.baseline import Baseline, dumps, entry, from_findings
from tfgen.cli import main
from tfgen.model import Finding

ROOT = FIXTURES / "suppressions" / "root"
NEW_KEY = 'resource "aws_kms_key" "added" {}\n'
ROTATED = (
    (ROOT / "main.tf")
    .read_text()
    .replace(
        'resource "aws_kms_key" "open" {}',
        'resource "aws_kms_key" "open" {\n  enable_key_rotation = true\n}',
    )
)


def finding(message: str = "m", details: dict[str, Any] | None = None) -> Finding:
    return Finding(
        rule_id="KMS-011",
        title="t",
        severity="high",
        enforcement="mandatory",
        address="aws_kms_key.this",
        resource_type="aws_kms_key",
        message=message,
        plan="plan.json",
        details=details or {"statement": "Enable IAM User Permissions"},
    )


def test_the_cause_is_the_details_not_the_message() -> None:
    assert entry(finding("old wording")) == entry(finding("new wording"))
    assert entry(finding(details={"b": 1, "a": [2]})) == entry(finding(details={"a": [2], "b": 1}))
    assert entry(finding(details={"statement": "Other"})) != entry(finding())


def test_dumps_is_sorted_and_stable() -> None:
    first = finding(details={"statement": "B"})
    second = finding(details={"statement": "A"})
    text = dumps(from_findings([first, second]))
    assert text == dumps(from_findings([second, first]))
    data = json.loads(text)
    assert data["version"] == 1
    assert data["findings"] == sorted(
        data["findings"], key=lambda e: (e["rule_id"], e["address"], e["cause"])
    )
    assert "m" not in {v for e in data["findings"] for v in e.values()}


def test_marking_marks_held_findings_and_reports_resolved_entries() -> None:
    held, gone = finding(), finding(details={"statement": "Gone"})
    baseline = Baseline(frozenset({entry(held), entry(gone)}), ".tfgen-baseline.json")
    mark = baseline.marking()
    marked = mark(held)
    assert marked.baselined and not marked.blocking
    assert mark.notices() == (
        "resolved baseline entry KMS-011 aws_kms_key.this in .tfgen-baseline.json: not found in "
        "this run; rewrite the baseline (tfgen baseline --force) to drop it",
    )


@pytest.fixture
def plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plan_module: PlanFn) -> Path:
    """plan.json of the fixture module, added.json with one more key, rotated.json with one fixed."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text(json.dumps(plan_module(ROOT)))
    (tmp_path / "added.json").write_text(json.dumps(plan_module(ROOT, files={"added.tf": NEW_KEY})))
    (tmp_path / "rotated.json").write_text(
        json.dumps(plan_module(ROOT, files={"main.tf": ROTATED}))
    )
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def statuses(out: str) -> dict[str, str]:
    return {f["address"]: f["status"] for f in json.loads(out)["findings"]}


@pytest.mark.terraform
def test_baseline_then_only_new_findings_block(
    plans: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "baseline", "plan.json", "--output", ".tfgen-baseline.json")
    assert code == 0, err
    assert "4 finding(s) recorded in .tfgen-baseline.json" in err
    written = (plans / ".tfgen-baseline.json").read_text()
    assert len(json.loads(written)["findings"]) == 4
    assert "rotation" not in written  # no message text

    code, out, _ = run(
        capsys, "check", "plan.json", "--baseline", ".tfgen-baseline.json", "--format", "json"
    )
    assert code == 0
    assert set(statuses(out).values()) == {"baselined"}
    assert json.loads(out)["summary"]["baselined"] == 4

    code, out, _ = run(
        capsys, "check", "added.json", "--baseline", ".tfgen-baseline.json", "--format", "json"
    )
    assert code == 1
    assert statuses(out)["aws_kms_key.added"] == "blocking"
    assert [s for a, s in statuses(out).items() if a != "aws_kms_key.added"] == ["baselined"] * 4

    code, out, _ = run(
        capsys, "check", "rotated.json", "--baseline", ".tfgen-baseline.json", "--format", "json"
    )
    assert code == 0
    (resolved,) = [n for n in json.loads(out)["notices"] if n.startswith("resolved")]
    assert resolved.startswith(
        "resolved baseline entry KMS-001 aws_kms_key.open in .tfgen-baseline.json"
    )


@pytest.mark.terraform
def test_baseline_is_reproducible_and_not_overwritten_without_force(
    plans: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "baseline", "plan.json", "--output", "b.json")[0] == 0
    first = (plans / "b.json").read_bytes()
    code, _, err = run(capsys, "baseline", "plan.json", "--output", "b.json")
    assert code == 2 and "b.json: exists; pass --force" in err
    assert run(capsys, "baseline", "plan.json", "--output", "b.json", "--force")[0] == 0
    assert (plans / "b.json").read_bytes() == first


@pytest.mark.terraform
def test_sarif_baseline_state(plans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "baseline", "plan.json", "--output", "b.json")
    code, out, _ = run(capsys, "check", "added.json", "--baseline", "b.json", "--format", "sarif")
    assert code == 1
    states = {
        r["properties"]["address"]: r["baselineState"]
        for r in json.loads(out)["runs"][0]["results"]
    }
    assert states.pop("aws_kms_key.added") == "new"
    assert set(states.values()) == {"unchanged"}


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("not json", "baseline is not JSON"),
        ('{"version": 2, "findings": []}', "not a tfgen baseline"),
        ('{"version": 1}', "baseline has no findings list"),
        ('{"version": 1, "findings": [{"rule_id": "KMS-001"}]}', "baseline entry #1 needs exactly"),
    ],
)
def test_bad_baseline_is_exit_2(
    plans: Path, capsys: pytest.CaptureFixture[str], content: str, why: str
) -> None:
    (plans / "b.json").write_text(content)
    code, out, err = run(capsys, "check", "plan.json", "--baseline", "b.json")
    assert code == 2 and out == ""
    assert err == f"tfgen: error: b.json: {why}" + err.split(why, 1)[1]
    assert err.count("\n") == 1
    code, _, err = run(capsys, "check", "plan.json", "--baseline", "missing.json")
    assert code == 2 and "missing.json: cannot read baseline" in err
