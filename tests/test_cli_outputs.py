"""One evaluation, several reports: --output [FORMAT=]PATH, the verdict on stderr, --quiet, colour."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tfgen.cli import main
from tfgen.cli.options import use_color

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLAN = FIXTURES / "bad" / "control_valid_plan.json"  # two keys with rotation off: exit 1


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR", "TFGEN_OPA_URL", "TFGEN_RULES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", str(PLAN), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_several_reports_from_one_evaluation(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "--output",
        "sarif=tfgen.sarif",
        "--output",
        "markdown=review.md",
        "--output",
        "report.json",
        "--format",
        "json",
    )
    assert code == 1
    assert out == ""
    (verdict,) = err.splitlines()
    assert verdict.startswith("FAIL: 2 findings: 2 blocking, 0 advisory, 0 waived in 1 plan")
    assert verdict.endswith("(exit 1)")
    assert json.loads((work / "tfgen.sarif").read_text())["version"] == "2.1.0"
    assert (work / "review.md").read_text().startswith("### tfgen: :x: **FAIL**")
    assert json.loads((work / "report.json").read_text())["summary"]["blocking"] == 2
    # Plain --output PATH keeps using --format.
    code, out, err = run(capsys, "--format", "junit", "--output", "r.xml")
    assert code == 1 and out == "" and err.startswith("FAIL: ")
    assert (work / "r.xml").read_text().startswith('<?xml version="1.0"')


def test_stdout_report_among_files(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--output", "json=-", "--output", "sarif=s.sarif")
    assert code == 1
    assert json.loads(out)["summary"]["exit_code"] == 1
    assert err.startswith("FAIL: ")
    # A text report on stdout carries the verdict itself: stderr stays empty.
    code, out, err = run(capsys, "--output", "-", "--output", "sarif=t.sarif")
    assert (code, err) == (1, "")
    assert out.splitlines()[-1].startswith("FAIL: ")


def test_quiet_prints_nothing_but_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--quiet") == (1, "", "")
    assert run(capsys, "-q", "--output", "sarif=q.sarif") == (1, "", "")
    assert (work / "q.sarif").is_file()
    code, out, err = run(capsys, "-q", "--engine", "opa", "--opa-url", "http://127.0.0.1:9")
    assert (code, out) == (2, "")
    assert err.startswith("tfgen: error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    "value, reason",
    [
        ("yaml=x.yaml", "--output: yaml=x.yaml: unknown format 'yaml'"),
        ("sarif=", "--output: sarif=: no path after the format"),
    ],
)
def test_bad_outputs_exit_2_before_evaluating(
    work: Path, capsys: pytest.CaptureFixture[str], value: str, reason: str
) -> None:
    code, out, err = run(capsys, "--output", value)
    assert (code, out) == (2, "")
    assert err.startswith(f"tfgen: error: {reason}")


def test_two_stdout_reports_or_one_file_twice_are_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--output", "json=-", "--output", "-")
    assert (code, err) == (2, "tfgen: error: --output: only one report can go to stdout (-)\n")
    code, _, err = run(capsys, "--output", "sarif=a", "--output", "json=./a")
    assert (code, err) == (2, "tfgen: error: --output: two reports name the same file\n")
    assert not (work / "a").exists()


def test_existing_report_needs_force(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "keep.md").write_text("mine\n")
    code, _, err = run(capsys, "--output", "sarif=new.sarif", "--output", "markdown=keep.md")
    assert (code, err) == (2, "tfgen: error: keep.md: exists; pass --force to overwrite it\n")
    assert (work / "keep.md").read_text() == "mine\n"
    assert not (work / "new.sarif").exists()  # nothing written when one target is refused
    code, _, _ = run(capsys, "--output", "markdown=keep.md", "--force")
    assert code == 1 and (work / "keep.md").read_text().startswith("### tfgen")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "choice, env, tty, expected",
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, True),  # set but empty does not count (no-color.org)
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "0"}, True, True),
        ("auto", {"FORCE_COLOR": "0"}, False, False),
        ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_choice(choice: str, env: dict[str, str], tty: bool, expected: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert use_color(choice, stream, env) is expected


def test_colour_only_on_the_stream_that_is_a_terminal(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _ = run(capsys)
    assert code == 1 and "\x1b[31;1mblocking\x1b[0m" in out
    code, out, err = run(capsys, "--output", "text=report.txt")
    assert "\x1b" not in (work / "report.txt").read_text()  # files never get colour
    assert err.startswith("\x1b[31;1mFAIL\x1b[0m: ")
