"""The embedded engine: the rule pack compiled to Wasm by the pinned OPA, evaluated in-process."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.metadata import version as package_version
from typing import Any

from opapywasm import OpaWasmError, OpaWasmPolicy, PolicyConfig

from tfgen.engines.base import Decision, decision
from tfgen.engines.wasm import fit_initial_memory
from tfgen.errors import EngineError
from tfgen.rulepack import ENTRYPOINT, RulePack, build_wasm
from tfgen.toolchain import pins

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
    ) -> None:
        self._pack = pack
        path = build_wasm(pack)
        config = PolicyConfig(
            pool_size=1,
            max_input_bytes=_MAX_BYTES,
            max_data_bytes=_MAX_BYTES,
            max_result_bytes=_MAX_BYTES,
            max_cstring_scan_bytes=_MAX_BYTES,
            max_memory_pages=_MAX_PAGES,
            eval_timeout_seconds=timeout,
            parse_raw_json_input=False,  # the input is json.dumps output, valid by construction
        )
        wasm = path.read_bytes()
        fit_initial_memory(wasm)
        try:
            self._policy = OpaWasmPolicy.from_wasm_bytes(wasm, config)
        except OpaWasmError as exc:
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
            raw = self._policy.evaluate_raw(json.dumps(plan, allow_nan=False), ENTRYPOINT)
        except (OpaWasmError, ValueError) as exc:
            raise EngineError(f"embedded engine: evaluation failed ({exc})") from exc
        if not isinstance(raw, list) or not raw:
            raise EngineError(
                f"embedded engine: decision {ENTRYPOINT} is undefined for {self._pack.root}"
            )
        if len(raw) != 1 or not isinstance(raw[0], dict) or "result" not in raw[0]:
            raise EngineError(f"embedded engine: unexpected result set for {ENTRYPOINT}")
        return decision(raw[0]["result"], "embedded engine", self._pack.version, self._config)

    def versions(self) -> dict[str, str]:
        return {
            "engine": self.name,
            "opa": pins()["opa"],
            "opa_py_wasm": package_version("opa-py-wasm"),
        }

    def notices(self) -> tuple[str, ...]:
        return ()

    def close(self) -> None:
        self._policy.close()
