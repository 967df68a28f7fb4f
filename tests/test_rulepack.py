"""The shipped Wasm build: used only for exactly its pack, verified before use, never trusted blind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REGO

from tfgen.errors import ToolchainError
from tfgen.rulepack import (
    SHIPPED_DIR,
    SHIPPED_MANIFEST,
    SHIPPED_WASM,
    RulePack,
    compiled_pack,
    policy_origin,
    shipped_wasm,
    write_shipped,
)

WASM = b"\0asm\1\0\0\0"


def test_committed_build_is_the_build_of_rego() -> None:
    """A source install without OPA ships tfgen/_wasm: it must be this pack's build."""
    shipped = shipped_wasm(RulePack(REGO), SHIPPED_DIR)
    assert shipped is not None, "tfgen/_wasm is stale: run python scripts/build-wasm.py"
    assert shipped.path.read_bytes()[:4] == b"\0asm"


def test_the_shipped_pack_needs_no_opa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFGEN_OPA_BIN", str(tmp_path / "no-opa-here"))
    monkeypatch.setenv("TFGEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    compiled = compiled_pack(RulePack(REGO))
    assert compiled.shipped
    assert compiled.path == SHIPPED_DIR / SHIPPED_WASM
    assert policy_origin(RulePack(REGO)).startswith("shipped Wasm build of rule pack")
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
