"""The one file writer: atomic, mode as asked, never onto anything but a regular file."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tfgen.errors import InputError
from tfgen.fileio import open_text_atomic, write_text_atomic

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLAN = FIXTURES / "bad" / "control_valid_plan.json"
MODULE = FIXTURES / "rules" / "KMS-001" / "positive"


def test_writes_creates_and_sets_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    write_text_atomic(target, "one\n", mode=0o600)
    assert target.read_text(encoding="utf-8") == "one\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_text_atomic(target, "two\n", force=True)
    assert target.read_text(encoding="utf-8") == "two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]  # no temp file left


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "kept.txt"
    target.write_text("mine\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"kept\.txt: exists; pass --force"):
        write_text_atomic(target, "theirs\n")
    assert target.read_text(encoding="utf-8") == "mine\n"


def test_a_symlink_to_a_regular_file_writes_the_file(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text_atomic(link, "new\n", force=True)
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "new\n"


def test_a_stream_replaces_the_file_only_when_it_completes(tmp_path: Path) -> None:
    """A report written piece by piece: readers see the old file until the new one is whole, and
    a failure half way leaves the old file and no temporary file behind."""
    target = tmp_path / "report.json"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), open_text_atomic(target, force=True) as out:
        out.write("new, half")
        assert target.read_text(encoding="utf-8") == "old\n"
        raise RuntimeError("the renderer failed")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    with open_text_atomic(target, mode=0o640, force=True) as out:
        for piece in ("{", '"ü": "\r\n"', "}\n"):
            out.write(piece)
    assert target.read_bytes() == '{"ü": "\r\n"}\n'.encode()  # UTF-8, newlines untranslated
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_missing_directory_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write"):
        write_text_atomic(tmp_path / "absent" / "x.txt", "x")


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "dir"
    path.mkdir()
    return path


def _socket(tmp_path: Path) -> Path:
    path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def _link_to_null(tmp_path: Path) -> Path:
    path = tmp_path / "null-link"
    path.symlink_to("/dev/null")
    return path


def _dev_null(tmp_path: Path) -> Path:
    return Path("/dev/null")


SPECIAL: dict[str, Callable[[Path], Path]] = {
    "dev-null": _dev_null,
    "fifo": _fifo,
    "directory": _directory,
    "socket": _socket,
    "symlink-to-dev-null": _link_to_null,
}


def _snapshot(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_mode, st.st_ino, st.st_rdev


@pytest.mark.parametrize("kind", sorted(SPECIAL))
@pytest.mark.parametrize("force", [False, True])
def test_never_onto_a_special_file(tmp_path: Path, kind: str, force: bool) -> None:
    target = SPECIAL[kind](tmp_path)
    before = _snapshot(target)
    with pytest.raises(InputError, match="not a regular file"):
        write_text_atomic(target, "x\n", force=force)
    assert _snapshot(target) == before


@pytest.mark.parametrize("kind", sorted(SPECIAL))
@pytest.mark.parametrize("command", ["check --output", "plan --save-plan"])
def test_cli_onto_a_special_file_is_exit_2_and_untouched(
    tmp_path: Path, kind: str, command: str
) -> None:
    target = SPECIAL[kind](tmp_path)
    before = _snapshot(target)
    name, flag = command.split()
    source = PLAN if name == "check" else MODULE
    proc = subprocess.run(
        [sys.executable, "-m", "tfgen", name, str(source), flag, str(target), "--force"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"tfgen: error: {target}: is {_KIND[kind]}, not a regular file; tfgen writes only regular files\n"
    )
    assert proc.stdout == ""
    assert _snapshot(target) == before


_KIND = {
    "dev-null": "a character device",
    "fifo": "a FIFO",
    "directory": "a directory",
    "socket": "a socket",
    "symlink-to-dev-null": "a character device",
}


def test_check_output_dash_is_stdout(tmp_path: Path, opa_bin: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tfgen", "check", str(PLAN), "--format", "json", "--output", "-"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout.startswith("{")
    assert list(tmp_path.iterdir()) == []
