"""Rule selection on a real plan: --only-rule, --skip-rule and enforcement = "off", never silent."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import FIXTURES, PlanFn

from tfgen.cli import main
from tfgen.report import FORMATS
from tfgen.rulepack import find_pack

ROOT = FIXTURES / "suppressions" / "root"


@pytest.fixture
def plan_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plan_module: PlanFn) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_module(ROOT)))
    return path


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object], str]:
    code = main(["check", "plan.json", "--format", "json", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def rules() -> set[str]:
    return {rule.rule_id for rule in find_pack().rules}


def rule_ids(report: dict[str, object]) -> set[str]:
    return {f["rule_id"] for f in report["findings"]}  # type: ignore[attr-defined]


def skipped_notice(report: dict[str, object]) -> str:
    (notice,) = [n for n in report["notices"] if "skipped" in n]  # type: ignore[attr-defined]
    return str(notice)


@pytest.mark.terraform
def test_skip_rule_drops_its_findings_and_says_so(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = check(capsys)
    assert code == 1 and "KMS-001" in rule_ids(report)
    code, report, _ = check(capsys, "--skip-rule", "KMS-001")
    assert code == 0
    assert "KMS-001" not in rule_ids(report)
    assert skipped_notice(report).startswith("1 rule(s) skipped")
    assert "KMS-001 (--skip-rule)" in skipped_notice(report)
    assert report["skipped_rules"] == [{"rule_id": "KMS-001", "reason": "--skip-rule"}]


@pytest.mark.terraform
def test_only_rule_lists_every_other_rule_as_skipped(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = check(capsys, "--only-rule", "CT-001", "--only-rule", "CT-002")
    assert code == 0 and rule_ids(report) == set()
    notice = skipped_notice(report)
    assert int(notice.split()[0]) == notice.count("(not an --only-rule)") == len(rules()) - 2
    assert "KMS-001 (not an --only-rule)" in notice and "CT-001" not in notice


@pytest.mark.terraform
def test_enforcement_off_in_config(plan_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (plan_file.parent / ".tfgen.toml").write_text(
        '[rules.KMS-001]\nenforcement = "off"\nreason = "keys rotate by re-encryption"\n'
    )
    code, report, _ = check(capsys)
    assert code == 0 and "KMS-001" not in rule_ids(report)
    assert "KMS-001 (off: keys rotate by re-encryption)" in skipped_notice(report)


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("argv", "toml", "why"),
    [
        (["--skip-rule", "KMS-404"], "", "--skip-rule: unknown rule id 'KMS-404'"),
        (["--only-rule", "*"], "", "--only-rule: unknown rule id '*'"),
        ([], '[rules.KMS-404]\nenforcement = "off"\nreason = "x"\n', "unknown rule id 'KMS-404'"),
        ([], '[rules.KMS-001]\nenforcement = "off"\n', 'enforcement = "off" needs reason'),
    ],
)
def test_bad_selection_is_exit_2(
    plan_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str], toml: str, why: str
) -> None:
    if toml:
        (plan_file.parent / ".tfgen.toml").write_text(toml)
    code, report, err = check(capsys, *argv)
    assert code == 2 and report == {}
    assert why in err and err.count("\n") == 1


@pytest.mark.terraform
@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"codeclimate", "junit"}))
def test_every_format_lists_the_skipped_rules(
    plan_file: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    code = main(["check", "plan.json", "--skip-rule", "KMS-001", "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 rule(s) skipped" in out and "KMS-001" in out


@pytest.mark.terraform
def test_junit_marks_skipped_rules_as_skipped_cases(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "plan.json", "--skip-rule", "KMS-001", "--format", "junit"])
    root = ET.fromstring(capsys.readouterr().out)  # noqa: S314 - parses our own output
    assert code == 0
    (case,) = [c for c in root.iter("testcase") if c.get("classname") == "KMS-001"]
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "rule skipped: --skip-rule"
