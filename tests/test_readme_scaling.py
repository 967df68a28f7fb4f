"""README `## Scaling out`: the shown commands run as shown (keys made by the shown openssl lines)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import hcl2
import pytest
from helpers import missing
from test_readme import blocks, commands, section

from tfgen.bundle import read_manifest
from tfgen.cli import main
from tfgen.rulepack import find_pack


@pytest.mark.usefixtures("isolated")
def test_scaling_out_commands(capsys: pytest.CaptureFixture[str]) -> None:
    scripts = blocks(section("Scaling out"), "sh")
    if shutil.which("openssl") is None:
        missing("openssl", "not on PATH (Debian package openssl)")
    ran = 0
    for script in scripts:
        for line in script.splitlines():
            if line.startswith("openssl "):
                subprocess.run(shlex.split(line), check=True, capture_output=True)
        for argv, expected, _ in commands(script):
            code = main(argv)
            assert code == expected, capsys.readouterr().err
            ran += 1
    assert ran == 3
    with (Path.cwd() / "policy-set" / "policies.hcl").open(encoding="utf-8") as handle:
        names = [name.strip('"') for block in hcl2.load(handle)["policy"] for name in block]
    pack = find_pack()
    assert sorted(names) == sorted(rule.rule_id for rule in pack.rules)
    bundle = Path.cwd() / "tfgen-bundle.tar.gz"
    assert read_manifest(bundle)["revision"] == pack.digest
    with tarfile.open(bundle) as tar:
        assert "/.signatures.json" in tar.getnames()
