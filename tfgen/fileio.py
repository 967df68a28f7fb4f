"""The one way tfgen writes a file: atomically, and never onto anything but a regular file."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from tfgen.errors import InputError

STDOUT = "-"


def check_target(path: Path, *, force: bool = False) -> None:
    """Refuse a target that is not a regular file (even with force), or exists without force."""
    try:
        mode = path.stat().st_mode  # follows a symlink: what counts is what it points at
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _error(path, f"cannot write ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(mode):
        raise _error(path, f"is {_kind(mode)}, not a regular file; tfgen writes only regular files")
    if not force:
        raise _error(path, "exists; pass --force to overwrite it")


def write_text_atomic(path: Path, text: str, *, mode: int = 0o644, force: bool = False) -> None:
    """Write UTF-8 `text` to `path` through a temporary file beside it, so readers never see half."""
    with open_text_atomic(path, mode=mode, force=force) as out:
        out.write(text)


def write_bytes_atomic(path: Path, data: bytes, *, mode: int = 0o644, force: bool = False) -> None:
    """Write `data` to `path`: temp file in its directory, fsync, chmod `mode`, then replace."""
    with _replacing(path, mode=mode, force=force) as handle:
        handle.write(data)


@contextlib.contextmanager
def open_text_atomic(path: Path, *, mode: int = 0o644, force: bool = False) -> Iterator[TextIO]:
    """A UTF-8 text stream that replaces `path` when the block ends, as write_bytes_atomic does;
    nothing replaces it if the block raises."""
    with _replacing(path, mode=mode, force=force) as handle:
        out = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        try:
            yield out
            out.flush()
        finally:
            out.detach()  # the handle stays open for _replacing to sync and close


@contextlib.contextmanager
def _replacing(path: Path, *, mode: int, force: bool) -> Iterator[BinaryIO]:
    """A temporary file in `path`'s directory, moved over `path` (fsync, chmod `mode`) when the
    block ends without error, removed otherwise."""
    check_target(path, force=force)
    target = path.resolve()  # a symlink to a regular file: replace the file it points at
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _error(path, f"cannot write ({exc.strerror or exc})") from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), mode)  # mkstemp's 0600, unless the caller wants that
            os.fsync(handle.fileno())
        check_target(path, force=force)  # again: it may have changed while we wrote
        tmp.replace(target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _error(path, f"cannot write ({exc.strerror or exc})") from exc
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _error(path: Path, reason: str) -> InputError:
    return InputError(str(path), reason)
