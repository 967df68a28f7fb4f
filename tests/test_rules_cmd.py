"""`tfgen rules`: the catalog from METADATA in text, JSON and Markdown."""

from __future__ import annotations

import json
import re

import pytest

from tfgen.cli import main
from tfgen.rulepack import find_pack

PACK = find_pack()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["rules", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def test_json_lists_every_rule_with_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(run(capsys, "--format", "json"))
    assert data["pack_version"] == PACK.version
    assert [r["id"] for r in data["rules"]] == sorted(r.rule_id for r in PACK.rules)
    by_id = {r.rule_id: r for r in PACK.rules}
    for entry in data["rules"]:
        rule = by_id[entry["id"]]
        assert entry["title"] == rule.title
        assert entry["severity"] == rule.severity
        assert entry["enforcement"] == rule.enforcement
        assert entry["resource_types"] == list(rule.resource_types) != []
        assert entry["remediation"] == rule.remediation != ""
        assert [r["url"] for r in entry["references"]] == [r.ref for r in rule.related_resources]
        assert all(r["url"].startswith("https://") for r in entry["references"])


def test_text_fits_120_columns_and_names_fix_and_links(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run(capsys)
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "SEVERITY", "ENFORCEMENT", "TITLE"]
    for rule in PACK.rules:
        row = next(line for line in lines if line.startswith(rule.rule_id + " "))
        assert row.split()[1:3] == [rule.severity, rule.enforcement]
        assert f"see: {rule.related_resources[0].ref}" in out
    # Wrapped text never exceeds the width; only an unbreakable URL may.
    assert all(len(line) <= 120 or line.strip().startswith("see: ") for line in lines)
    assert " ".join(out.split()).count("fix: ") == len(PACK.rules)


def test_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "--format", "markdown")
    lines = out.splitlines()
    assert lines[0].startswith("| Rule | Severity | Enforcement | Title |")
    assert len(lines) == 2 + len(PACK.rules)
    for rule in PACK.rules:
        row = next(line for line in lines if f"<code>{rule.rule_id}</code>" in line)
        assert f"]({rule.related_resources[0].ref})" in row
        assert len(re.findall(r"(?<!\\)\|", row)) == 8


def test_bad_format_and_pack_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["rules", "--format", "sarif"])
    assert exc.value.code == 2
    assert main(["rules", "--rules", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.endswith("not a rule pack (no main/main.rego)\n")
