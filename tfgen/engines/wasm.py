"""Reading a Wasm module's import section, and fitting opa-py-wasm's initial memory to it."""

from __future__ import annotations

import opapywasm.runtime


def fit_initial_memory(wasm: bytes) -> None:
    """Give the module the initial memory it imports.

    opa-py-wasm 1.2.1 always offers `env.memory` with 2 pages; a pack whose data segments need
    more is refused at link time ("memory types incompatible"), which its trap-and-grow retry
    does not cover. Its starting size is a module constant, so raise it to the module's minimum.
    """
    pages = imported_memory_pages(wasm)
    if pages is not None and pages > opapywasm.runtime._DEFAULT_MEMORY_PAGES:
        opapywasm.runtime._DEFAULT_MEMORY_PAGES = pages


def imported_memory_pages(wasm: bytes) -> int | None:
    """The minimum page count of the `env.memory` import, read from the module's import section."""
    if wasm[:4] != b"\0asm":
        return None
    pos = 8
    while pos < len(wasm):
        section, pos = wasm[pos], pos + 1
        size, pos = _leb(wasm, pos)
        if section != 2:
            pos += size
            continue
        count, pos = _leb(wasm, pos)
        for _ in range(count):
            names = []
            for _ in range(2):
                length, pos = _leb(wasm, pos)
                names.append(wasm[pos : pos + length])
                pos += length
            kind, pos = wasm[pos], pos + 1
            if kind == 0:  # function: type index
                _, pos = _leb(wasm, pos)
            elif kind == 1:  # table: reference type, limits
                pos = _skip_limits(wasm, pos + 1)
            elif kind == 2:  # memory: limits
                minimum, _ = _leb(wasm, pos + 1)
                if names == [b"env", b"memory"]:
                    return minimum
                pos = _skip_limits(wasm, pos)
            elif kind == 3:  # global: value type, mutability
                pos += 2
            else:
                return None
        return None
    return None


def _skip_limits(wasm: bytes, pos: int) -> int:
    flags, pos = wasm[pos], pos + 1
    _, pos = _leb(wasm, pos)
    if flags & 1:
        _, pos = _leb(wasm, pos)
    return pos


def _leb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
