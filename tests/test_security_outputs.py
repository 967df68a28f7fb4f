"""Outputs never replace what is not a regular file: --output, --save-plan and `tfgen generate
--out` refuse character and block devices, FIFOs, sockets and directories, with or without
--force (as root here, so /dev/null itself is the first target)."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import FIXTURES

from tfgen.cli import main

PLAN = FIXTURES / "bad" / "control_valid_plan.json"
ROOT_MODULE = FIXTURES / "security" / "public_key"

Kind = Callable[[Path], Path]


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    _SOCKETS.append(sock)
    return path


def _block_device(path: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("creating a block device node needs root")
    os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 250))
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _dev_null(path: Path) -> Path:
    return Path(os.devnull)


_SOCKETS: list[socket.socket] = []
KINDS: dict[str, Kind] = {
    "dev-null": _dev_null,
    "fifo": _fifo,
    "socket": _socket,
    "block-device": _block_device,
    "directory": _directory,
}


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _SOCKETS:
        _SOCKETS.pop().close()


def _identity(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return stat.S_IFMT(info.st_mode), info.st_ino, info.st_rdev


def _refused(capsys: pytest.CaptureFixture[str], target: Path, argv: list[str], what: str) -> None:
    before = _identity(target)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{target}: is {what}" in err or f"{target}: exists and is not a directory" in err
    assert _identity(target) == before, "the target was replaced"


WHAT = {
    "dev-null": "a character device",
    "fifo": "a FIFO",
    "socket": "a socket",
    "block-device": "a block device",
    "directory": "a directory",
}


@pytest.mark.opa
@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
@pytest.mark.parametrize("kind", KINDS)
def test_output_refuses_non_regular_targets(
    kind: str, force: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    target = KINDS[kind](tmp_path / "report")
    argv = ["check", str(PLAN), "--output", str(target), *(["--force"] if force else [])]
    _refused(capsys, target, argv, WHAT[kind])


@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
@pytest.mark.parametrize("kind", KINDS)
def test_save_plan_refuses_non_regular_targets(
    kind: str, force: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    target = KINDS[kind](tmp_path / "plan.json")
    argv = ["plan", "--offline", str(ROOT_MODULE), "--save-plan", str(target)]
    _refused(capsys, target, [*argv, *(["--force"] if force else [])], WHAT[kind])


@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("directory", "dev-null")])
def test_generate_refuses_non_regular_files_in_the_module(
    kind: str, force: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "module"
    out.mkdir()
    target = KINDS[kind](out / "main.tf")
    argv = ["generate", "--out", str(out), *(["--force"] if force else [])]
    before = _identity(target)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{target}: is {WHAT[kind]}" in err, err
    assert _identity(target) == before


def test_generate_never_writes_through_a_link_to_dev_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "module"
    out.mkdir()
    (out / "main.tf").symlink_to(os.devnull)
    assert main(["generate", "--out", str(out)]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert main(["generate", "--out", str(out), "--force"]) == 0
    assert (out / "main.tf").is_file() and not (out / "main.tf").is_symlink()
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)
    assert Path(os.devnull).read_bytes() == b""


def test_generate_out_onto_a_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--out", os.devnull, "--force"]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


@pytest.mark.opa
def test_output_dash_is_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    assert main(["check", str(PLAN), "--format", "json", "--output", "-"]) == 1
    assert capsys.readouterr().out.startswith("{")
    assert not (Path.cwd() / "-").exists()
