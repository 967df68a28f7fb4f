"""The Rego rule pack: where it is, its rule catalog (METADATA), its digest and its Wasm build."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, get_args

import yaml

from tfgen import __version__
from tfgen.errors import InputError, ToolchainError
from tfgen.model import Enforcement, RelatedResource, RuleMeta, Severity
from tfgen.toolchain import cache_dir, opa_binary, opa_version, pins

ENTRYPOINT = "main/report"
_REPO_REGO = Path(__file__).resolve().parent.parent / "rego"
# The pack compiled at wheel build time, with its record (see setup.py).
SHIPPED_DIR = Path(__file__).resolve().parent / "_wasm"
SHIPPED_WASM, SHIPPED_MANIFEST = "policy.wasm", "policy.json"
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_REQUIRED = ("title", "description")
# libyaml's safe loader when PyYAML was built with it: METADATA parses ~10x faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_REQUIRED_CUSTOM = ("id", "severity", "enforcement", "remediation")


# Rego only tests use, as OPA `--ignore` patterns (matched against every file and directory
# name): test files, and the test-builder library package `tfgen/lib/testing`. Never built,
# bundled, served or counted by coverage.
TEST_ONLY = ("*_test.rego", "testing")


def is_test_only(path: Path) -> bool:
    """The file is Rego only tests use (see TEST_ONLY)."""
    return path.name.endswith("_test.rego") or "testing" in path.parent.parts


@dataclass(frozen=True)
class RulePack:
    """A rule pack directory: `tfgen/rules/<group>/<name>/<name>.rego`, `tfgen/lib/**`, `main/main.rego`."""

    root: Path
    extends: Path | None = None  # the pack an organisation's rules were added to (its mount)

    @functools.cached_property
    def sources(self) -> tuple[Path, ...]:
        """The pack's policy and data files (Rego tests and test builders excluded), sorted."""
        return tuple(
            sorted(
                p
                for p in self.root.rglob("*")
                if p.is_file()
                and p.suffix in (".rego", ".json", ".yaml", ".yml")
                and not is_test_only(p.relative_to(self.root))
            )
        )

    @functools.cached_property
    def digest(self) -> str:
        """sha256 over the relative paths and bytes of the policy files."""
        h = hashlib.sha256()
        for path in self.sources:
            h.update(path.relative_to(self.root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        return h.hexdigest()

    @property
    def version(self) -> str:
        """The pack ships with tfgen and carries its version; the digest identifies its content."""
        return __version__

    @functools.cached_property
    def rules(self) -> tuple[RuleMeta, ...]:
        """The rule catalog, from each rule package's METADATA block, sorted by rule id."""
        rules = [read_rule(path, self.root) for path in self._rule_files()]
        seen: dict[str, str] = {}
        for rule in rules:
            if rule.rule_id in seen:
                raise InputError(
                    rule.file, f"rule id {rule.rule_id} also used by {seen[rule.rule_id]}"
                )
            seen[rule.rule_id] = rule.file
        return tuple(sorted(rules, key=lambda r: r.rule_id))

    def _rule_files(self) -> list[Path]:
        base = self.root / "tfgen" / "rules"
        return [p for p in sorted(base.glob("*/*/*.rego")) if p.stem == p.parent.name]


def find_pack(path: str | Path | None = None) -> RulePack:
    """The rule pack at `path`, else the one beside or inside this package."""
    chosen = path or _default_root()
    root = Path(chosen)
    if not (root / "main" / "main.rego").is_file():
        raise InputError(str(root), "not a rule pack (no main/main.rego)")
    return RulePack(root.resolve())


def with_extra_rules(pack: RulePack, extra: Path) -> RulePack:
    """The pack plus an organisation's rules from `extra` (`<group>/<name>/<name>.rego`).

    Each extra rule keeps the METADATA contract, lives in package `tfgen.rules.<group>.<name>`
    (so main collects it) and may import the pack's libraries; an id or package the pack already
    has is an error naming both files. The merged pack is written once to the cache, keyed by
    both digests, and then compiled and served like any other pack.
    """
    if not extra.is_dir():
        raise InputError(str(extra), "extra rules: not a directory")
    files = sorted(
        p for p in extra.rglob("*.rego") if p.is_file() and not p.name.endswith("_test.rego")
    )
    rules = [
        p for p in files if p.relative_to(extra).parts == (p.parent.parent.name, p.stem, p.name)
    ]
    if not rules:
        raise InputError(str(extra), "extra rules: no <group>/<name>/<name>.rego rule files")
    builtin = {rule.rule_id: rule.file for rule in pack.rules}
    seen: dict[str, str] = {}
    for path in rules:
        rule = read_rule(path, extra.parent)
        group, name = path.parent.parent.name, path.stem
        if rule.package != f"tfgen.rules.{group}.{name}":
            raise InputError(
                rule.file,
                f"package must be tfgen.rules.{group}.{name} (its path), not {rule.package}",
            )
        clash = builtin.get(rule.rule_id) or seen.get(rule.rule_id)
        if clash is not None:
            where = pack.root / clash if rule.rule_id in builtin else clash
            raise InputError(rule.file, f"rule id {rule.rule_id} is also used by {where}")
        if (pack.root / "tfgen" / "rules" / group / name).exists():
            raise InputError(
                rule.file,
                f"package tfgen.rules.{group}.{name} is also {pack.root}/tfgen/rules/{group}/{name}",
            )
        seen[rule.rule_id] = rule.file
    digest = hashlib.sha256(pack.digest.encode())
    for path in files:
        digest.update(path.relative_to(extra).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    target = cache_dir() / "packs" / digest.hexdigest()
    if not (target / "main" / "main.rego").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            merged = Path(tmp) / "pack"
            shutil.copytree(pack.root, merged, ignore=shutil.ignore_patterns("*_test.rego"))
            for path in files:
                copy = merged / "tfgen" / "rules" / path.relative_to(extra)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
            try:
                merged.rename(target)
            except OSError:
                if not (target / "main" / "main.rego").is_file():
                    raise
    return RulePack(target, extends=pack.root)


def _default_root() -> Path:
    """The checkout's rego/, or the copy an installed wheel carries as tfgen._rego."""
    if (_REPO_REGO / "main" / "main.rego").is_file():
        return _REPO_REGO
    spec = importlib.util.find_spec("tfgen._rego")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else _REPO_REGO


def read_rule(path: Path, root: Path) -> RuleMeta:
    """One rule's catalog entry from the package-scoped METADATA block of its file."""
    name, package, meta = _read_head(path, root, "cannot read rule")
    custom = meta.get("custom")
    if not isinstance(custom, dict):
        raise InputError(name, "METADATA has no custom: block")
    missing = [k for k in _REQUIRED if not isinstance(meta.get(k), str)] + [
        f"custom.{k}" for k in _REQUIRED_CUSTOM if not isinstance(custom.get(k), str)
    ]
    if missing:
        raise InputError(name, f"METADATA lacks {', '.join(missing)}")
    severity = custom["severity"]
    enforcement = custom["enforcement"]
    if severity not in get_args(Severity):
        raise InputError(name, f"custom.severity {severity!r} is not one of {get_args(Severity)}")
    if enforcement not in get_args(Enforcement):
        raise InputError(name, f"custom.enforcement {enforcement!r} is not mandatory|advisory")
    return RuleMeta(
        rule_id=custom["id"],
        title=meta["title"],
        description=" ".join(meta["description"].split()),
        severity=severity,
        enforcement=enforcement,
        remediation=" ".join(custom["remediation"].split()),
        package=package,
        file=name,
        resource_types=_strings(custom.get("resource_types", []), name, "custom.resource_types"),
        frameworks=_strings(custom.get("frameworks", []), name, "custom.frameworks"),
        related_resources=_related(meta.get("related_resources", []), name),
    )


def read_metadata(path: Path, root: Path) -> dict[str, Any]:
    """The package-scoped METADATA block of one policy file (rule or library)."""
    return _read_head(path, root, "cannot read")[2]


def _read_head(path: Path, root: Path, unreadable: str) -> tuple[str, str, dict[str, Any]]:
    """A policy file's name below root, its package and the METADATA block before the package."""
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, f"{unreadable} ({exc})") from exc
    package = _PACKAGE.search(text)
    if not package:
        raise InputError(name, "no package declaration")
    return name, package.group(1), _package_metadata(text[: package.start()], name)


def _package_metadata(head: str, name: str) -> dict[str, Any]:
    """Parse the `# METADATA` comment block that precedes the package declaration."""
    lines = head.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "# METADATA"]
    if not starts:
        raise InputError(name, "no METADATA block before the package declaration")
    body = []
    for line in lines[starts[-1] + 1 :]:
        if not line.startswith("#"):
            break
        body.append(line[2:] if line.startswith("# ") else line[1:])
    try:
        meta = yaml.load("\n".join(body), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InputError(name, f"METADATA is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise InputError(name, "METADATA is not a mapping")
    return meta


def _strings(value: object, name: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(name, f"{key} must be a list of strings")
    return tuple(value)


def _related(value: object, name: str) -> tuple[RelatedResource, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(name, "related_resources must be a list")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("ref"), str):
            raise InputError(name, "each related_resources entry needs a ref")
        out.append(RelatedResource(ref=item["ref"], description=str(item.get("description", ""))))
    return tuple(out)


def wasm_path(pack: RulePack) -> Path:
    """Where the pack's Wasm build is cached: keyed by the pack digest and the pinned OPA version."""
    key = hashlib.sha256(f"{pack.digest}\0opa-{pins()['opa']}\0{ENTRYPOINT}".encode()).hexdigest()
    return cache_dir() / "wasm" / f"{key}.wasm"


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


def compiled_pack(pack: RulePack) -> CompiledPack:
    """The pack's Wasm: the shipped build when it is this pack, else built by OPA (cached)."""
    shipped = shipped_wasm(pack)
    if shipped is not None:
        return shipped
    path = build_wasm(pack)
    origin = f"rule pack {pack.root} compiled to Wasm by OPA {pins()['opa']} (cached at {path})"
    return CompiledPack(path=path, shipped=False, origin=origin)


def policy_origin(pack: RulePack) -> str:
    """Where the embedded engine's policy comes from, without compiling anything."""
    shipped = shipped_wasm(pack)
    if shipped is not None:
        return shipped.origin
    state = "cached" if wasm_path(pack).is_file() else "not built yet"
    return f"rule pack {pack.root}, compiled to Wasm by OPA {pins()['opa']} on first use ({state})"


def build_wasm(pack: RulePack) -> Path:
    """The pack compiled to Wasm by the pinned OPA, built once and reused from the cache."""
    target = wasm_path(pack)
    if target.is_file():
        return target
    try:
        opa = pinned_opa()
    except ToolchainError as exc:
        raise ToolchainError(
            f"rule pack {pack.root} is not the one tfgen ships compiled, so the embedded engine "
            f"needs OPA to compile it to Wasm: {exc.message}"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / "policy.wasm"
        partial.write_bytes(compile_wasm(pack, opa))
        partial.replace(target)
    return target


def pinned_opa() -> Path:
    """The OPA binary, refused unless it is the pinned version."""
    opa = opa_binary()
    version = opa_version(opa)
    if version != pins()["opa"]:
        raise ToolchainError(
            f"{opa} is OPA {version} but tfgen pins {pins()['opa']}: put OPA {pins()['opa']} "
            "on PATH as `opa` or set TFGEN_OPA_BIN to it"
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
