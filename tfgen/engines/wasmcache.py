"""Compiled Wasm modules cached on disk, so a run deserializes the pack instead of compiling it.

An entry is keyed by the Wasm digest, the wasmtime and opa-py-wasm versions and the host (machine
and CPU features), and carries the digest of its payload: an entry that is corrupt, truncated,
foreign or refused by wasmtime is compiled again and replaced, never deserialized unchecked.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import tempfile
from pathlib import Path

import wasmtime

_MAGIC = b"tfgen-cwasm 1\n"
_DIGEST = 32  # sha256


def load_module(engine: wasmtime.Engine, wasm: bytes, directory: Path) -> wasmtime.Module:
    """The module for `wasm` on `engine`: from the cache when a sound entry exists, else compiled."""
    key = cache_key(wasm)
    path = directory / f"{key}.cwasm"
    module = _read(engine, path, bytes.fromhex(key))
    if module is not None:
        return module
    module = wasmtime.Module(engine, wasm)
    _write(path, bytes.fromhex(key), bytes(module.serialize()))
    return module


def cache_key(wasm: bytes) -> str:
    """What a compiled module depends on: the Wasm, the runtime versions and the host CPU."""
    parts = [
        hashlib.sha256(wasm).hexdigest(),
        f"wasmtime {dist_version('wasmtime')}",
        f"opa-py-wasm {dist_version('opapywasm', 'opa_py_wasm')}",
        platform.machine(),
        _cpu_features(),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _read(engine: wasmtime.Engine, path: Path, key: bytes) -> wasmtime.Module | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 2 * _DIGEST
    if len(data) <= head or not data.startswith(_MAGIC):
        return None
    stored_key = data[len(_MAGIC) : len(_MAGIC) + _DIGEST]
    digest = data[len(_MAGIC) + _DIGEST : head]
    payload = memoryview(data)[head:]
    if stored_key != key or hashlib.sha256(payload).digest() != digest:
        return None
    try:
        # Sound by the checks above: this payload is what serialize() wrote for this key.
        return wasmtime.Module.deserialize(engine, payload.tobytes())
    except wasmtime.WasmtimeError:
        return None  # e.g. built for another engine configuration: compiled again


def _write(path: Path, key: bytes, payload: bytes) -> None:
    """Atomically replace the entry; a cache that cannot be written only costs the next run time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_MAGIC + key + hashlib.sha256(payload).digest())
                handle.write(payload)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def dist_version(package: str, dist: str | None = None) -> str:
    """A package's installed version from its dist-info name (importlib.metadata costs ~50 ms)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return "unknown"
    site = Path(spec.origin).parent.parent
    name = (dist or package).replace("-", "_").lower()
    for entry in site.glob("*.dist-info"):
        stem, _, version = entry.name[: -len(".dist-info")].partition("-")
        if stem.replace("-", "_").lower() == name:
            return version
    return "unknown"


def _cpu_features() -> str:
    """The host CPU's feature flags (wasmtime compiles for the features it detects)."""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return platform.processor() or "unknown"
