"""The compiled-module cache: sound entries are reused; corrupt or foreign ones are rebuilt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import wasmtime
from helpers import FIXTURES

from tfgen.engines import EngineOptions, open_engine, wasmcache
from tfgen.engines.wasmcache import cache_key, load_module
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain

# A module that exports f() = 42, and another one (a different digest) that returns 7.
WAT = '(module (func (export "f") (result i32) i32.const {}))'
PACK = FIXTURES / "engines" / "pack"
PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {
            "address": "aws_kms_key.a",
            "mode": "managed",
            "type": "aws_kms_key",
            "name": "a",
            "change": {"actions": ["create"], "after": {"enable_key_rotation": False}},
        }
    ],
}


def _engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.epoch_interruption = True
    return wasmtime.Engine(config)


def _call(engine: wasmtime.Engine, module: wasmtime.Module) -> int:
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1 << 40)
    func = wasmtime.Instance(store, module, []).exports(store)["f"]
    assert isinstance(func, wasmtime.Func)
    result = func(store)
    assert isinstance(result, int)
    return result


def _wasm(value: int) -> bytes:
    return bytes(wasmtime.wat2wasm(WAT.format(value)))


def _entry(directory: Path, wasm: bytes) -> Path:
    return directory / f"{cache_key(wasm)}.cwasm"


def test_a_sound_entry_is_reused_unchanged(tmp_path: Path) -> None:
    wasm = _wasm(42)
    engine = _engine()
    assert _call(engine, load_module(engine, wasm, tmp_path)) == 42
    entry = _entry(tmp_path, wasm)
    stamp, content = entry.stat().st_mtime_ns, entry.read_bytes()
    assert _call(engine, load_module(engine, wasm, tmp_path)) == 42
    assert (entry.stat().st_mtime_ns, entry.read_bytes()) == (stamp, content)


def test_the_cached_module_is_deserialized_not_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wasm = _wasm(42)
    engine = _engine()
    load_module(engine, wasm, tmp_path)

    def no_compile(*_: object) -> None:
        raise AssertionError("compiled although a sound cache entry exists")

    monkeypatch.setattr(wasmtime.Module, "__init__", no_compile)
    assert _call(engine, load_module(engine, wasm, tmp_path)) == 42


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: _flip(d, len(d) - 100), id="payload-byte-flipped"),
        pytest.param(lambda d: _flip(d, 20), id="key-byte-flipped"),
        pytest.param(lambda d: _flip(d, 50), id="digest-byte-flipped"),
        pytest.param(lambda d: d[: len(d) // 2], id="truncated"),
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: b"\0asm" + d[4:], id="not-ours"),
    ],
)
def test_a_corrupt_entry_is_rebuilt_never_deserialized(tmp_path: Path, damage: object) -> None:
    wasm = _wasm(42)
    engine = _engine()
    load_module(engine, wasm, tmp_path)
    entry = _entry(tmp_path, wasm)
    sound = entry.read_bytes()
    assert callable(damage)
    entry.write_bytes(damage(sound))
    assert _call(engine, load_module(engine, wasm, tmp_path)) == 42
    assert entry.read_bytes() == sound


def test_a_foreign_entry_under_this_key_is_rebuilt(tmp_path: Path) -> None:
    """Another module's sound entry copied to this key's name: its key does not match."""
    mine, other = _wasm(42), _wasm(7)
    engine = _engine()
    load_module(engine, other, tmp_path)
    _entry(tmp_path, mine).write_bytes(_entry(tmp_path, other).read_bytes())
    assert _call(engine, load_module(engine, mine, tmp_path)) == 42


def test_an_entry_for_another_engine_configuration_is_rebuilt(tmp_path: Path) -> None:
    """Right key and digest, but compiled without epoch interruption: wasmtime refuses it."""
    wasm = _wasm(42)
    foreign = bytes(wasmtime.Module(wasmtime.Engine(), wasm).serialize())
    key = bytes.fromhex(cache_key(wasm))
    entry = _entry(tmp_path, wasm)
    entry.write_bytes(b"tfgen-cwasm 1\n" + key + hashlib.sha256(foreign).digest() + foreign)
    engine = _engine()
    assert _call(engine, load_module(engine, wasm, tmp_path)) == 42
    assert entry.read_bytes().endswith(bytes(load_module(engine, wasm, tmp_path).serialize()))


def test_the_key_follows_the_wasm_runtime_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    wasm = _wasm(42)
    base = cache_key(wasm)
    assert cache_key(_wasm(7)) != base
    monkeypatch.setattr(wasmcache, "_cpu_features", lambda: "sse2")
    assert cache_key(wasm) != base
    monkeypatch.undo()
    monkeypatch.setattr(wasmcache, "dist_version", lambda *_: "0.0.0")
    assert cache_key(wasm) != base


def test_an_unwritable_cache_still_loads(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    engine = _engine()
    assert _call(engine, load_module(engine, _wasm(42), blocker / "cache")) == 42


@pytest.mark.opa
def test_the_embedded_engine_survives_a_corrupt_cache_entry(tmp_path: Path, opa_bin: Path) -> None:
    """End to end: a damaged compiled module in the cache gives the same findings, then is sound."""
    options = EngineOptions(toolchain=Toolchain(opa_bin=opa_bin, cache_dir=tmp_path / "cache"))
    pack = RulePack(PACK)

    def findings() -> str:
        engine = open_engine("embedded", pack, options=options)
        try:
            return json.dumps(engine.evaluate(PLAN), sort_keys=True)
        finally:
            engine.close()

    first = findings()
    (entry,) = (tmp_path / "cache" / "wasm").glob("*.cwasm")
    sound = entry.read_bytes()
    entry.write_bytes(_flip(sound, len(sound) // 2))
    assert findings() == first
    assert entry.read_bytes() == sound
    assert "FIX-001" in first
