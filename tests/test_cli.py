"""tfgen.cli: the one place errors become exit codes."""

from __future__ import annotations

import pytest

import tfgen.cli.check
from tfgen.cli import main


def test_an_unexpected_exception_fails_closed_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(tfgen.cli.check, "run", broken)
    monkeypatch.delenv("TFGEN_DEBUG", raising=False)
    assert main(["check", "plan.json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error: RuntimeError: boom second line" in err
    assert "Traceback" not in err


def test_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--engine", "nope", "plan.json"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
