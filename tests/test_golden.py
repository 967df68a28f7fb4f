"""Reports are byte-for-byte what they were: `tfgen check` on fixed plans against committed output.

Each case runs the command in-process from the repository root with the fixture rule pack, and
compares stdout, stderr and the exit code with tests/fixtures/golden/reports/<case>/<format>.*.
After an intended change to a report, regenerate them with
`TFGEN_UPDATE_GOLDEN=1 pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT

from tfgen import __version__
from tfgen.cli import main
from tfgen.report import FORMATS

GOLDEN = FIXTURES / "golden"
REPORTS = GOLDEN / "reports"
UPDATE = os.environ.get("TFGEN_UPDATE_GOLDEN") == "1"
VERSION = "@TFGEN_VERSION@"  # stands for tfgen's version in the committed files

PACK = "tests/fixtures/engines/pack"
MIXED = "tests/fixtures/golden/plans/mixed.json"
CASES: dict[str, list[str]] = {
    # Findings in the root and a child module, located in the sources, one waived by the config.
    "located-waived": [
        MIXED,
        "--source-dir",
        "tests/fixtures/engines/modules/mixed",
        "--config",
        "tests/fixtures/golden/waivers.toml",
    ],
    # Advisory findings gate too; only high and above are shown.
    "advisory-threshold": [MIXED, "--fail-on", "advisory", "--severity-threshold", "high"],
    # An unreadable plan beside a good one: exit 2, the good plan still reported.
    "one-bad-plan": [MIXED, "tests/fixtures/bad/truncated.json"],
}


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.chdir(ROOT)
    code = main(argv)
    out, err = capsys.readouterr()
    return f"exit {code}\n--- stdout\n{out}--- stderr\n{err}".replace(__version__, VERSION)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_report_is_unchanged(
    case: str,
    fmt: str,
    isolated: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["check", *CASES[case], "--rules", PACK, "--format", fmt]
    got = _run(argv, capsys, monkeypatch)
    golden = REPORTS / case / f"{fmt}.txt"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.is_file(), f"no {golden.relative_to(ROOT)}: run with TFGEN_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8"), f"tfgen {' '.join(argv)}"


def test_every_case_has_every_format_and_nothing_else() -> None:
    expected = {Path(case) / f"{fmt}.txt" for case in CASES for fmt in FORMATS}
    found = {p.relative_to(REPORTS) for p in REPORTS.rglob("*") if p.is_file()}
    assert found == expected
