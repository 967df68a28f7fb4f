"""The rule pack compiled to Wasm: the build shipped with tfgen (verified) or one the pinned OPA
makes (cached)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from tfgen.errors import ToolchainError
from tfgen.rulepack import ENTRYPOINT, TEST_ONLY, RulePack
from tfgen.toolchain import Toolchain, opa_version, pins

# The pack compiled at wheel build time, with its record (see setup.py).
SHIPPED_DIR = Path(__file__).resolve().parent / "_wasm"
SHIPPED_WASM, SHIPPED_MANIFEST = "policy.wasm", "policy.json"


def wasm_path(pack: RulePack, toolchain: Toolchain) -> Path:
    """Where the pack's Wasm build is cached: keyed by the pack digest and the pinned OPA version."""
    key = hashlib.sha256(f"{pack.digest}\0opa-{pins()['opa']}\0{ENTRYPOINT}".encode()).hexdigest()
    return toolchain.cache_dir / "wasm" / f"{key}.wasm"


@dataclass(frozen=True)
class CompiledPack:
    """A Wasm build of a rule pack and where it came from."""

    path: Path
    shipped: bool
    origin: str


class ShippedManifest(TypedDict):
    entrypoint: str
    opa: str
    pack_digest: str
    sha256: str


def shipped_manifest(directory: Path = SHIPPED_DIR) -> ShippedManifest | None:
    """The record beside the shipped Wasm build, or None when this installation has none."""
    path = directory / SHIPPED_MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolchainError(f"{path}: cannot read the shipped rule pack record ({exc})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ToolchainError(
            f"{path}: shipped rule pack record is not JSON: reinstall tfgen"
        ) from exc
    keys = ShippedManifest.__annotations__
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys):
        raise ToolchainError(f"{path}: shipped rule pack record lacks {', '.join(keys)}")
    manifest: ShippedManifest = {k: data[k] for k in keys}  # type: ignore[assignment]
    return manifest


def shipped_wasm(pack: RulePack, directory: Path = SHIPPED_DIR) -> CompiledPack | None:
    """The shipped Wasm build if it was compiled from exactly this pack; its bytes are verified."""
    manifest = shipped_manifest(directory)
    if manifest is None or manifest["pack_digest"] != pack.digest:
        return None
    if manifest["entrypoint"] != ENTRYPOINT or manifest["opa"] != pins()["opa"]:
        return None
    path = directory / SHIPPED_WASM
    try:
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ToolchainError(f"{path}: cannot read the shipped rule pack build ({exc})") from exc
    if actual != manifest["sha256"]:
        raise ToolchainError(
            f"{path}: shipped rule pack build is damaged (sha256 {actual[:16]}, recorded "
            f"{manifest['sha256'][:16]}): reinstall tfgen"
        )
    origin = (
        f"shipped Wasm build of rule pack {pack.version} (digest {pack.digest[:16]}, "
        f"compiled by OPA {manifest['opa']})"
    )
    return CompiledPack(path=path, shipped=True, origin=origin)


def compiled_pack(pack: RulePack, toolchain: Toolchain) -> CompiledPack:
    """The pack's Wasm: the shipped build when it is this pack, else built by OPA (cached)."""
    shipped = shipped_wasm(pack)
    if shipped is not None:
        return shipped
    path = build_wasm(pack, toolchain)
    origin = f"rule pack {pack.root} compiled to Wasm by OPA {pins()['opa']} (cached at {path})"
    return CompiledPack(path=path, shipped=False, origin=origin)


def policy_origin(pack: RulePack, toolchain: Toolchain) -> str:
    """Where the embedded engine's policy comes from, without compiling anything."""
    shipped = shipped_wasm(pack)
    if shipped is not None:
        return shipped.origin
    state = "cached" if wasm_path(pack, toolchain).is_file() else "not built yet"
    return f"rule pack {pack.root}, compiled to Wasm by OPA {pins()['opa']} on first use ({state})"


def build_wasm(pack: RulePack, toolchain: Toolchain) -> Path:
    """The pack compiled to Wasm by the pinned OPA, built once and reused from the cache."""
    target = wasm_path(pack, toolchain)
    if target.is_file():
        return target
    try:
        opa = pinned_opa(toolchain)
    except ToolchainError as exc:
        raise ToolchainError(
            f"rule pack {pack.root} is not the one tfgen ships compiled, so the embedded engine "
            f"needs OPA to compile it to Wasm: {exc.message}",
            parameter=exc.parameter,
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / "policy.wasm"
        partial.write_bytes(compile_wasm(pack, opa))
        partial.replace(target)
    return target


def pinned_opa(toolchain: Toolchain) -> Path:
    """The toolchain's OPA binary, refused unless it is the pinned version."""
    opa = toolchain.opa()
    version = opa_version(opa)
    if version != pins()["opa"]:
        raise ToolchainError(
            f"{opa} is OPA {version} but tfgen pins {pins()['opa']}: put OPA {pins()['opa']} "
            "on PATH as `opa` or set opa_bin to it",
            parameter="opa_bin",
        )
    return opa


def compile_wasm(pack: RulePack, opa: Path) -> bytes:
    """`opa build -t wasm` of the pack (Rego tests left out); the module's bytes."""
    with tempfile.TemporaryDirectory(prefix="tfgen-wasm-") as tmp:
        bundle = Path(tmp) / "bundle.tar.gz"
        ignore = [f"--ignore={pattern}" for pattern in TEST_ONLY]
        cmd = [str(opa), "build", "-t", "wasm", "-e", ENTRYPOINT, *ignore]
        try:
            proc = subprocess.run(
                [*cmd, "-o", str(bundle), "."],
                cwd=pack.root,  # relative file names: the same pack builds the same bytes anywhere
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolchainError(f"{opa}: cannot run opa build ({exc})") from exc
        if proc.returncode != 0:
            detail = _first_error(proc.stderr or proc.stdout)
            raise ToolchainError(f"{pack.root}: rule pack does not compile: {detail}")
        return _extract_wasm(bundle)


def write_shipped(pack: RulePack, wasm: bytes, directory: Path) -> ShippedManifest:
    """Write a Wasm build and its record (pack digest, OPA version, sha256) for shipping."""
    manifest: ShippedManifest = {
        "entrypoint": ENTRYPOINT,
        "opa": pins()["opa"],
        "pack_digest": pack.digest,
        "sha256": hashlib.sha256(wasm).hexdigest(),
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SHIPPED_WASM).write_bytes(wasm)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (directory / SHIPPED_MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def _extract_wasm(bundle: Path) -> bytes:
    with tarfile.open(bundle, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.lstrip("/") == "policy.wasm":
                extracted = tar.extractfile(member)
                if extracted is not None:
                    return extracted.read()
    raise ToolchainError(f"{bundle}: opa build produced no policy.wasm")


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    relevant = [line for line in lines if "rego_" in line or "error" in line.lower()]
    return "; ".join((relevant or lines or ["no output"])[:3])
