"""README adoption sections (inline suppressions, rule selection, baseline, custom rules): the
shown files and commands run as shown in a fresh clone, on the roots under examples/."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from helpers import ROOT, blocks, commands, section

from tfgen.cli import main


@pytest.mark.terraform
def test_inline_suppression_example(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = section("Inline suppressions")
    (snippet,) = blocks(text, "hcl")
    main_tf = clone / "examples" / "inline-suppression" / "main.tf"
    assert main_tf.read_text().startswith(snippet)
    comment = snippet.splitlines()[0]
    expires = dt.date.fromisoformat(re.search(r"expires=(\S+)", comment).group(1))  # type: ignore[union-attr]
    (script,) = blocks(text, "sh")
    steps = commands(script)
    assert [until for _, _, until in steps] == [expires, expires, None]
    waiving = dt.date.today() < expires  # from that date the comment expires: KMS-001 blocks
    outputs = []
    for argv, expected, until in steps:
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == (1 if until is not None and not waiving else expected), err
        outputs.append(out)
    if waiving:
        shown = " ".join(outputs[0].split())  # the text table wraps long reasons
        assert "Rotation is done by the quarterly re-encryption job" in shown
        assert "examples/inline-suppression/main.tf:1" in shown
    sarif = json.loads((clone / "tfgen.sarif").read_text())
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "KMS-001"]
    if waiving:
        assert result["suppressions"][0]["kind"] == "inSource"
        location = result["suppressions"][0]["location"]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "examples/inline-suppression/main.tf"
        assert location["region"]["startLine"] == 1


@pytest.mark.terraform
def test_rule_selection_example(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = section("Rule selection")
    flags, with_config = (commands(script) for script in blocks(text, "sh"))
    (config,) = blocks(text, "toml")
    assert [code for _, code, _ in flags] == [1, 0, 0, 2]
    for argv, expected, _ in flags:
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == expected, err
        if "--skip-rule" in argv and code == 0:
            assert "notice: 1 rule(s) skipped, their findings not reported: KMS-001" in out
    (clone / ".tfgen.toml").write_text(config)
    ((argv, expected, _),) = with_config
    assert main(argv) == expected
    assert "KMS-001 (off: Keys are rotated by the quarterly re-encryption job" in (
        capsys.readouterr().out
    )


@pytest.mark.terraform
def test_baseline_example(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (script,) = blocks(section("Baseline"), "sh")
    steps = commands(script)
    assert [code for _, code, _ in steps] == [1, 0, 0, 0]
    for argv, expected, _ in steps:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == expected, err
    baseline = json.loads((clone / ".tfgen-baseline.json").read_text())
    assert [e["rule_id"] for e in baseline["findings"]] == ["KMS-001"]
    sarif = json.loads((clone / "tfgen.sarif").read_text())
    assert [r["baselineState"] for r in sarif["runs"][0]["results"]] == ["unchanged"]


@pytest.mark.terraform
def test_custom_rules_example(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (script,) = blocks(section("Custom rules"), "sh")
    steps = commands(script)
    assert [code for _, code, _ in steps] == [1, 1, 0]
    for argv, expected, _ in steps:
        code = main([*argv, "--format", "json"] if argv[0] == "check" else argv)
        out, err = capsys.readouterr()
        assert code == expected, err
        if "--extra-rules" in argv:
            owner = [f for f in json.loads(out)["findings"] if f["rule_id"] == "ORG-001"]
            assert ("aws_kms_key.this", "advisory") in {(f["address"], f["status"]) for f in owner}


def test_rule_authoring_section_shows_the_example_files() -> None:
    text = (ROOT / "rego" / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Writing your own rules\n")
    rule, test = blocks(text[start:], "rego")
    example = ROOT / "examples" / "extra-rules" / "org" / "key_owner"
    assert rule == (example / "key_owner.rego").read_text()
    assert test == (example / "key_owner_test.rego").read_text()
