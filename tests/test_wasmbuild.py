"""The rule pack's Wasm build: built once by the pinned OPA and cached, and the shipped build
(verified before use, never trusted blind)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import FIXTURE_PACK, REGO, copy_pack

from tfgen.cli import describe
from tfgen.engines import EngineOptions, open_engine
from tfgen.errors import ToolchainError
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain
from tfgen.wasmbuild import (
    SHIPPED_DIR,
    SHIPPED_MANIFEST,
    SHIPPED_WASM,
    build_wasm,
    compiled_pack,
    policy_origin,
    shipped_wasm,
    wasm_path,
    write_shipped,
)

WASM = b"\0asm\1\0\0\0"
PACK = FIXTURE_PACK


def test_committed_build_is_the_build_of_rego() -> None:
    """A source install without OPA ships tfgen/_wasm: it must be this pack's build."""
    shipped = shipped_wasm(RulePack(REGO), SHIPPED_DIR)
    assert shipped is not None, "tfgen/_wasm is stale: run python scripts/build-wasm.py"
    assert shipped.path.read_bytes()[:4] == b"\0asm"


def test_the_shipped_pack_needs_no_opa(tmp_path: Path) -> None:
    no_opa = Toolchain(opa_bin=tmp_path / "no-opa-here", cache_dir=tmp_path / "empty-cache")
    compiled = compiled_pack(RulePack(REGO), no_opa)
    assert compiled.shipped
    assert compiled.path == SHIPPED_DIR / SHIPPED_WASM
    assert policy_origin(RulePack(REGO), no_opa).startswith("shipped Wasm build of rule pack")
    assert not (tmp_path / "empty-cache").exists()


def test_another_pack_is_not_given_the_shipped_build(tmp_path: Path) -> None:
    pack = RulePack(REGO)
    write_shipped(pack, WASM, tmp_path)
    record = json.loads((tmp_path / SHIPPED_MANIFEST).read_text())
    record["pack_digest"] = "0" * 64
    (tmp_path / SHIPPED_MANIFEST).write_text(json.dumps(record))
    assert shipped_wasm(pack, tmp_path) is None
    assert shipped_wasm(pack, tmp_path / "nothing-shipped") is None


def test_a_build_for_another_opa_is_not_used(tmp_path: Path) -> None:
    pack = RulePack(REGO)
    write_shipped(pack, WASM, tmp_path)
    record = json.loads((tmp_path / SHIPPED_MANIFEST).read_text())
    record["opa"] = "0.70.0"
    (tmp_path / SHIPPED_MANIFEST).write_text(json.dumps(record))
    assert shipped_wasm(pack, tmp_path) is None


def test_a_damaged_shipped_build_is_an_error(tmp_path: Path) -> None:
    pack = RulePack(REGO)
    write_shipped(pack, WASM, tmp_path)
    assert shipped_wasm(pack, tmp_path) is not None
    (tmp_path / SHIPPED_WASM).write_bytes(WASM + b"\0")
    with pytest.raises(ToolchainError, match=r"policy.wasm: shipped rule pack build is damaged"):
        shipped_wasm(pack, tmp_path)
    (tmp_path / SHIPPED_WASM).unlink()
    with pytest.raises(ToolchainError, match=r"cannot read the shipped rule pack build"):
        shipped_wasm(pack, tmp_path)


@pytest.mark.parametrize("text", ["{", "[]", '{"opa": "1.22.4"}'])
def test_a_broken_record_is_an_error(tmp_path: Path, text: str) -> None:
    (tmp_path / SHIPPED_MANIFEST).write_text(text)
    with pytest.raises(ToolchainError, match=r"policy.json: shipped rule pack record"):
        shipped_wasm(RulePack(REGO), tmp_path)


# Reading the pack: catalog, digest, and its Wasm build.


def test_wasm_is_built_once_then_reused_without_opa(opa_bin: Path, tmp_path: Path) -> None:
    tools = Toolchain(opa_bin=opa_bin, cache_dir=tmp_path / "cache")
    pack = RulePack(copy_pack(tmp_path))
    built = build_wasm(pack, tools)
    assert built == wasm_path(pack, tools)
    assert built.read_bytes()[:4] == b"\0asm"
    stamp = built.stat().st_mtime_ns
    no_opa = replace(tools, opa_bin=tmp_path / "no-opa-here")
    assert build_wasm(RulePack(pack.root), no_opa).stat().st_mtime_ns == stamp
    engine = open_engine("embedded", RulePack(pack.root), options=EngineOptions(toolchain=no_opa))
    engine.close()


def test_no_opa_and_no_cached_wasm_is_a_toolchain_error(tmp_path: Path) -> None:
    pack = RulePack(copy_pack(tmp_path))
    no_opa = Toolchain(opa_bin=tmp_path / "no-opa-here", cache_dir=tmp_path / "empty-cache")
    with pytest.raises(ToolchainError, match=r"needs OPA to compile it to Wasm: opa_bin=") as exc:
        open_engine("embedded", pack, options=EngineOptions(toolchain=no_opa))
    assert exc.value.parameter == "opa_bin"
    assert describe(exc.value).endswith(f"TFGEN_OPA_BIN={tmp_path / 'no-opa-here'}: no such file")


def test_a_pack_that_does_not_compile_names_the_error(tmp_path: Path, toolchain: Toolchain) -> None:
    root = copy_pack(tmp_path)
    rule = root / "tfgen" / "rules" / "kms" / "rotation" / "rotation.rego"
    rule.write_text(rule.read_text().replace("rc.type ==", "rc.type = = "))
    with pytest.raises(ToolchainError, match=r"does not compile: .*rego_parse_error"):
        open_engine("embedded", RulePack(root), options=EngineOptions(toolchain=toolchain))
    assert not wasm_path(RulePack(root), toolchain).exists()
