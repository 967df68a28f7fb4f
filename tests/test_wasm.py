"""The Wasm import-section reader behind the embedded engine's memory fit."""

from __future__ import annotations

from tfgen.engines.wasm import imported_memory_pages
from tfgen.rulepack import find_pack
from tfgen.toolchain import Toolchain
from tfgen.wasmbuild import build_wasm


def _module(imports: bytes, count: int) -> bytes:
    body = bytes([count]) + imports
    return b"\0asm\x01\0\0\0" + bytes([2, len(body)]) + body


def _import(module: bytes, name: bytes, desc: bytes) -> bytes:
    return bytes([len(module)]) + module + bytes([len(name)]) + name + desc


def test_env_memory_minimum_is_read_past_other_imports() -> None:
    imports = (
        _import(b"env", b"f", b"\x00\x00")  # function, type 0
        + _import(b"env", b"t", b"\x01\x70\x01\x01\x02")  # table funcref, limits 1..2
        + _import(b"env", b"g", b"\x03\x7f\x00")  # global i32, immutable
        + _import(b"env", b"memory", b"\x02\x00\x85\x01")  # memory, minimum 133 (LEB128)
    )
    assert imported_memory_pages(_module(imports, 4)) == 133


def test_no_memory_import_or_not_wasm_is_none() -> None:
    assert imported_memory_pages(_module(_import(b"env", b"f", b"\x00\x00"), 1)) is None
    assert imported_memory_pages(b"not wasm") is None


def test_the_compiled_rule_pack_imports_its_memory(toolchain: Toolchain) -> None:
    pages = imported_memory_pages(build_wasm(find_pack(), toolchain).read_bytes())
    assert pages is not None and pages >= 2
