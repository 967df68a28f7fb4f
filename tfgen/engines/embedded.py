"""The embedded engine: the rule pack compiled to Wasm by the pinned OPA, evaluated in-process."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import opapywasm.policy
import opapywasm.runtime
import wasmtime
from opapywasm import OpaInvalidPolicyError, OpaWasmError, OpaWasmPolicy, PolicyConfig

from tfgen.engines.base import Decision, decision, encode_input
from tfgen.engines.wasm import fit_initial_memory
from tfgen.engines.wasmcache import dist_version, load_module
from tfgen.errors import EngineError
from tfgen.rulepack import ENTRYPOINT, RulePack
from tfgen.toolchain import Toolchain, pins
from tfgen.wasmbuild import compiled_pack

_MAX_BYTES = 512 * 1024 * 1024
_MAX_PAGES = 32768  # 2 GiB of Wasm linear memory


class EmbeddedEngine:
    """No server: `opa build -t wasm` once (cached), then opa-py-wasm per plan."""

    name = "embedded"

    def __init__(
        self,
        pack: RulePack,
        rule_config: Mapping[str, Any] | None = None,
        timeout: float = 120.0,
        instances: int = 1,
        toolchain: Toolchain | None = None,
    ) -> None:
        self._pack = pack
        toolchain = toolchain or Toolchain()
        compiled = compiled_pack(pack, toolchain)
        path = compiled.path
        config = PolicyConfig(
            pool_size=instances,  # evaluations that may run at once, each in its own instance
            borrow_timeout_seconds=None,  # a job beyond the instances waits its turn, however long
            max_input_bytes=_MAX_BYTES,
            max_data_bytes=_MAX_BYTES,
            max_result_bytes=_MAX_BYTES,
            max_cstring_scan_bytes=_MAX_BYTES,
            max_memory_pages=_MAX_PAGES,
            eval_timeout_seconds=timeout,
            parse_raw_json_input=False,  # the input is encode_input's JSON, valid by construction
        )
        wasm = path.read_bytes()
        fit_initial_memory(wasm)
        try:
            self._policy = _open_policy(wasm, config, toolchain.cache_dir / "wasm")
        except OpaWasmError as exc:
            if not compiled.shipped:
                path.unlink(missing_ok=True)  # a damaged cache entry is rebuilt next run
            raise EngineError(f"{path}: cannot load the compiled rule pack ({exc})") from exc
        if ENTRYPOINT not in self._policy.entrypoints:
            self._policy.close()
            raise EngineError(f"{path}: compiled rule pack has no entrypoint {ENTRYPOINT}")
        lacking = sorted(set(self._policy.builtins) - set(self._policy.registered_builtins))
        if lacking:
            self._policy.close()
            raise EngineError(
                f"{pack.root}: the rule pack calls {', '.join(lacking)}, which the embedded "
                "engine cannot run: use --engine opa or docker, or avoid those builtins"
            )
        self._config = dict(rule_config or {})
        try:
            self._policy.set_data({"tfgen_config": self._config})
        except OpaWasmError as exc:
            raise EngineError(f"rule configuration cannot be passed to the engine ({exc})") from exc

    def evaluate(self, plan: Mapping[str, Any]) -> Decision:
        try:
            raw = self._policy.evaluate_raw(encode_input(plan), ENTRYPOINT)
        except (OpaWasmError, ValueError) as exc:
            raise EngineError(f"embedded engine: evaluation failed ({exc})") from exc
        if not isinstance(raw, list) or not raw:
            raise EngineError(
                f"embedded engine: decision {ENTRYPOINT} is undefined for {self._pack.root}"
            )
        if len(raw) != 1 or not isinstance(raw[0], dict) or "result" not in raw[0]:
            raise EngineError(f"embedded engine: unexpected result set for {ENTRYPOINT}")
        return decision(raw[0]["result"], "embedded engine", self._config)

    @property
    def instances(self) -> int:
        """Evaluations that may run at once; more wait for one to finish."""
        return self._policy.pool_size

    def versions(self) -> dict[str, str]:
        return {
            "engine": self.name,
            "opa": pins()["opa"],
            "opa_py_wasm": dist_version("opapywasm", "opa_py_wasm"),
        }

    def notices(self) -> tuple[str, ...]:
        return ()

    def close(self) -> None:
        self._policy.close()


# Held while opa-py-wasm's factory class is swapped for the caching one (see _open_policy).
_FACTORY_LOCK = threading.Lock()
_FACTORY = "WasmtimeRuntimeFactory"


def _open_policy(wasm: bytes, config: PolicyConfig, cache: Path) -> OpaWasmPolicy:
    """opa-py-wasm's policy, with its module deserialized from the compiled-module cache.

    opa-py-wasm 1.2.1 compiles inside `WasmtimeRuntimeFactory.__init__` and offers no way to pass
    a compiled module, so its policy module's reference to that class is swapped for the one
    construction.
    """

    def factory(wasm_bytes: bytes, *, max_memory_pages: int | None = None) -> _CachedFactory:
        return _CachedFactory(wasm_bytes, cache, max_memory_pages)

    with _FACTORY_LOCK:
        original = vars(opapywasm.policy)[_FACTORY]
        setattr(opapywasm.policy, _FACTORY, factory)
        try:
            return OpaWasmPolicy.from_wasm_bytes(wasm, config)
        finally:
            setattr(opapywasm.policy, _FACTORY, original)


class _CachedFactory(opapywasm.runtime.WasmtimeRuntimeFactory):
    """`WasmtimeRuntimeFactory` (the same engine configuration), its module from the cache."""

    def __init__(self, wasm_bytes: bytes, cache: Path, max_memory_pages: int | None) -> None:
        if not wasm_bytes:
            raise OpaInvalidPolicyError("policy wasm is empty")
        self._max_memory_pages = max_memory_pages
        engine_config = wasmtime.Config()
        engine_config.epoch_interruption = True
        self._engine = wasmtime.Engine(engine_config)
        self._epoch = opapywasm.runtime.EpochTicker(self._engine)
        try:
            self._module = load_module(self._engine, wasm_bytes, cache)
        except wasmtime.WasmtimeError as exc:
            raise OpaInvalidPolicyError(f"invalid policy wasm: {exc}") from exc
        self._validate_required_env_imports()
