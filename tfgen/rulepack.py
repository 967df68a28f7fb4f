"""The Rego rule pack: where it is, its rule catalog (METADATA), its digest and its Wasm build."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml

from tfgen.errors import InputError, ToolchainError
from tfgen.model import Enforcement, RelatedResource, RuleMeta, Severity
from tfgen.toolchain import cache_dir, opa_binary, opa_version, pins

ENTRYPOINT = "main/report"
_REPO_REGO = Path(__file__).resolve().parent.parent / "rego"
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_PACK_VERSION = re.compile(r'"version"\s*:\s*"([^"]+)"|\bversion\s*:=\s*"([^"]+)"')
_REQUIRED = ("title", "description")
# libyaml's safe loader when PyYAML was built with it: METADATA parses ~10x faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_REQUIRED_CUSTOM = ("id", "severity", "enforcement", "remediation")


@dataclass(frozen=True)
class RulePack:
    """A rule pack directory: `tfgen/rules/<group>/<name>/<name>.rego`, `tfgen/lib/**`, `main/main.rego`."""

    root: Path

    @functools.cached_property
    def sources(self) -> tuple[Path, ...]:
        """The pack's policy and data files (Rego tests excluded), sorted."""
        return tuple(
            sorted(
                p
                for p in self.root.rglob("*")
                if p.is_file()
                and p.suffix in (".rego", ".json", ".yaml", ".yml")
                and not p.name.endswith("_test.rego")
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

    @functools.cached_property
    def version(self) -> str:
        """The version `data.main.report.pack.version` states, read from main/main.rego."""
        main = self.root / "main" / "main.rego"
        try:
            text = main.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(str(main), f"cannot read the rule pack entry point ({exc})") from exc
        match = _PACK_VERSION.search(text)
        if not match:
            raise InputError(str(main), "no pack version string found")
        return match.group(1) or match.group(2)

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
    """The rule pack at `path`, else $TFGEN_RULES_DIR, else the one beside or inside this package."""
    chosen = path or os.environ.get("TFGEN_RULES_DIR") or _default_root()
    root = Path(chosen)
    if not (root / "main" / "main.rego").is_file():
        raise InputError(str(root), "not a rule pack (no main/main.rego)")
    return RulePack(root.resolve())


def _default_root() -> Path:
    """The checkout's rego/, or the copy an installed wheel carries as tfgen._rego."""
    if (_REPO_REGO / "main" / "main.rego").is_file():
        return _REPO_REGO
    spec = importlib.util.find_spec("tfgen._rego")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else _REPO_REGO


def read_rule(path: Path, root: Path) -> RuleMeta:
    """One rule's catalog entry from the package-scoped METADATA block of its file."""
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, f"cannot read rule ({exc})") from exc
    package = _PACKAGE.search(text)
    if not package:
        raise InputError(name, "no package declaration")
    meta = _package_metadata(text[: package.start()], name)
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
        package=package.group(1),
        file=name,
        resource_types=_strings(custom.get("resource_types", []), name, "custom.resource_types"),
        frameworks=_strings(custom.get("frameworks", []), name, "custom.frameworks"),
        related_resources=_related(meta.get("related_resources", []), name),
    )


def read_metadata(path: Path, root: Path) -> dict[str, Any]:
    """The package-scoped METADATA block of one policy file (rule or library)."""
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, f"cannot read ({exc})") from exc
    package = _PACKAGE.search(text)
    if not package:
        raise InputError(name, "no package declaration")
    return _package_metadata(text[: package.start()], name)


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


def build_wasm(pack: RulePack) -> Path:
    """The pack compiled to Wasm by the pinned OPA, built once and reused from the cache."""
    target = wasm_path(pack)
    if target.is_file():
        return target
    try:
        opa = opa_binary()
    except ToolchainError as exc:
        raise ToolchainError(
            f"the embedded engine needs the rule pack compiled to Wasm and {exc.message}"
        ) from exc
    version = opa_version(opa)
    if version != pins()["opa"]:
        raise ToolchainError(
            f"{opa} is OPA {version} but tfgen pins {pins()['opa']}: "
            "set TFGEN_OPA_BIN or run scripts/install-opa.sh"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        bundle = Path(tmp) / "bundle.tar.gz"
        cmd = [str(opa), "build", "-t", "wasm", "-e", ENTRYPOINT, "--ignore", "*_test.rego"]
        try:
            proc = subprocess.run(
                [*cmd, "-o", str(bundle), str(pack.root)],
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
        wasm = _extract_wasm(bundle)
        partial = Path(tmp) / "policy.wasm"
        partial.write_bytes(wasm)
        partial.replace(target)
    return target


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
