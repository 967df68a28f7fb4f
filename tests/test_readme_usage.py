"""README `## Generate the module` and `## Check plans`: every shown command runs as shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_readme import blocks, commands, project, section

from tfgen.cli import main

__all__ = ["project"]  # the fixture: a checkout whose infra/ has a key with rotation off


def test_generate_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (script,) = blocks(section("Generate the module"), "sh")
    steps = commands(script)
    assert [expected for _, expected, _ in steps] == [0, 0, 2]
    for argv, expected, _ in steps:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        code = main(argv)
        err = capsys.readouterr().err
        assert code == expected, err
        if expected == 2:
            assert err.count("\n") == 1 and "account" in err
            assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    policy = (tmp_path / "kms" / "examples" / "basic" / "main.tf").read_text()
    assert "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org" in policy
    assert (tmp_path / "kms-default" / "main.tf").is_file()


@pytest.mark.terraform
@pytest.mark.docker
def test_check_commands(
    project: Path, docker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (script,) = blocks(section("Check plans"), "sh")
    steps = commands(script)
    assert any("docker" in argv for argv, _, _ in steps)
    for argv, expected, _ in steps:
        code = main(argv)
        captured = capsys.readouterr()
        assert code == expected, captured.out + captured.err
    sarif = json.loads((project / "tfgen.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"KMS-001"}
    report = json.loads((project / "report.json").read_text())
    assert report["summary"]["exit_code"] == 1
