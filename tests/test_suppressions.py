"""Inline `tfgen:ignore` comments in .tf files, on real plans of the fixture module."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, PlanFn

from tfgen.cli import main
from tfgen.errors import InputError
from tfgen.suppressions import attached_block, block_spans, parse_comment

ROOT = FIXTURES / "suppressions" / "root"
KNOWN = {"KMS-001", "CT-001"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout holding the fixture module under infra/."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(ROOT, tmp_path / "infra")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def plan_file(project: Path, plan_module: PlanFn) -> Path:
    path = project / "plan.json"
    path.write_text(json.dumps(plan_module(ROOT)))
    return path


def by_address(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["address"]: f for f in report["findings"] if f["rule_id"] == "KMS-001"}


def test_comment_syntax() -> None:
    ids, reason, expires = parse_comment(
        '=KMS-001,CT-001 reason="rotation done by \\"re-encryption\\" job" expires=2027-03-31',
        "main.tf:1",
        KNOWN,
    )
    assert ids == ("KMS-001", "CT-001")
    assert reason == 'rotation done by "re-encryption" job'
    assert expires == dt.date(2027, 3, 31)
    assert parse_comment("=KMS-001 reason=legacy", "x", KNOWN)[1:] == ("legacy", None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("=KMS-001", "needs reason="),
        ('=KMS-001 reason=""', "needs reason="),
        ('=KMS-001 reason="x" expires=2027-02-30', "expires must be a date"),
        ('=KMS-001 reason="x" expires=soon', "expires must be a date"),
        ('=KMS-999 reason="x"', "unknown rule id 'KMS-999'"),
        ('=* reason="x"', "not '*'"),
        ('=KMS-* reason="x"', "not '*'"),
        ('=KMS-001, reason="x"', "empty rule id"),
        (' KMS-001 reason="x"', "needs rule ids"),
        ('=KMS-001 reason="x" owner=me', "unknown option owner"),
        ('=KMS-001 reason="x', "cannot read"),
    ],
)
def test_bad_comment_names_file_and_line(text: str, why: str) -> None:
    with pytest.raises(InputError, match=f"^main.tf:7: .*{why}"):
        parse_comment(text, "main.tf:7", KNOWN)


def test_comment_belongs_to_the_block_around_or_directly_below_it() -> None:
    text = (ROOT / "main.tf").read_text()
    spans = block_spans(text)
    lines = text.splitlines()
    blocks = {
        n: attached_block(spans, n) for n in range(1, len(lines) + 1) if "tfgen:" in lines[n - 1]
    }
    assert list(blocks.values()) == [
        ("resource", "aws_kms_key", "waived"),
        ("resource", "aws_kms_key", "open"),
        ("resource", "aws_kms_key", "expired"),
        ("module", "child"),
    ]
    assert attached_block(spans, 3) is None  # the blank line after a block


@pytest.mark.terraform
def test_check_with_source_dir_waives_expires_and_reports_stale(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["check", "plan.json", "--source-dir", "infra", "--format", "json"], capsys
    )
    assert code == 1, err  # aws_kms_key.open and the expired one still block
    report = json.loads(out)
    found = by_address(report)
    waived = found["aws_kms_key.waived"]["waiver"]
    assert waived["reason"] == "rotation done by re-encryption job"
    assert waived["expires"] == "2099-03-31"
    assert waived["location"] == {"file": "infra/main.tf", "line": 1}
    module = found["module.child.aws_kms_key.k"]["waiver"]
    assert module["location"] == {"file": "infra/main.tf", "line": 13}  # the module call's comment
    assert found["aws_kms_key.open"]["waiver"] is None
    assert found["aws_kms_key.expired"]["waiver"] is None
    notices = "\n".join(report["notices"])
    assert "expired tfgen:ignore=KMS-001 at infra/main.tf:8 on 2020-01-01" in notices
    assert "stale tfgen:ignore=CT-001 at infra/main.tf:4 matches no finding" in notices


@pytest.mark.terraform
def test_without_sources_nothing_is_waived(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", "plan.json", "--format", "json"], capsys)
    assert code == 1
    assert all(f["waiver"] is None for f in json.loads(out)["findings"])


@pytest.mark.terraform
def test_sarif_marks_inline_suppressions_in_source(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", "plan.json", "--source-dir", "infra", "--format", "sarif"], capsys)
    assert code == 1
    results = json.loads(out)["runs"][0]["results"]
    kinds = {
        r["properties"]["address"]: [s["kind"] for s in r.get("suppressions", [])] for r in results
    }
    assert kinds["aws_kms_key.waived"] == ["inSource"]
    assert kinds["aws_kms_key.open"] == []
    (waived,) = [r for r in results if r["properties"]["address"] == "aws_kms_key.waived"]
    region = waived["suppressions"][0]["location"]["physicalLocation"]
    assert region == {"artifactLocation": {"uri": "infra/main.tf"}, "region": {"startLine": 1}}


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("comment", "why"),
    [
        ("# tfgen:ignore=KMS-001", "needs reason="),
        ('// tfgen:ignore=KMS-404 reason="x"', "unknown rule id 'KMS-404'"),
        ('# tfgen:ignore=KMS-001 reason="x" expires=31/03/2027', "expires must be a date"),
        ('# tfgen:ignore=* reason="x"', "not '*'"),
    ],
)
def test_bad_comment_in_the_sources_is_exit_2(
    plan_file: Path, capsys: pytest.CaptureFixture[str], comment: str, why: str
) -> None:
    child = plan_file.parent / "infra" / "child" / "main.tf"
    child.write_text(f"{comment}\n{child.read_text()}")
    code, _, err = run(["check", "plan.json", "--source-dir", "infra"], capsys)
    assert code == 2
    assert err.startswith("tfgen: error: infra/child/main.tf:1: ") and why in err
    assert err.count("\n") == 1


@pytest.mark.terraform
def test_tfgen_plan_always_reads_the_comments(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["plan", "infra", "--offline", "--format", "json"], capsys)
    assert code == 1, err
    found = by_address(json.loads(out))
    assert found["aws_kms_key.waived"]["waiver"]["location"] == {"file": "infra/main.tf", "line": 1}
    assert found["aws_kms_key.open"]["waiver"] is None
