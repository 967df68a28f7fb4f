"""README `## Scaling out`: the shown commands run as shown."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from test_readme import blocks, commands, section

from tfgen.cli import main
from tfgen.rulepack import find_pack


@pytest.mark.usefixtures("isolated")
def test_scaling_out_commands(capsys: pytest.CaptureFixture[str]) -> None:
    steps = [step for script in blocks(section("Scaling out"), "sh") for step in commands(script)]
    assert steps
    for argv, expected, _ in steps:
        code = main(argv)
        assert code == expected, capsys.readouterr().err
    with (Path.cwd() / "policy-set" / "policies.hcl").open(encoding="utf-8") as handle:
        names = [name.strip('"') for block in hcl2.load(handle)["policy"] for name in block]
    assert sorted(names) == sorted(rule.rule_id for rule in find_pack().rules)
