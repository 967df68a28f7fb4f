"""The Rego rule pack: where it is, its rule catalog (METADATA) and its digest."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml

from tfgen import __version__
from tfgen.errors import InputError
from tfgen.model import Enforcement, RelatedResource, RuleMeta, Severity
from tfgen.toolchain import Toolchain

ENTRYPOINT = "main/report"
_REPO_REGO = Path(__file__).resolve().parent.parent / "rego"
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


def with_extra_rules(pack: RulePack, extra: Path, toolchain: Toolchain | None = None) -> RulePack:
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
    target = (toolchain or Toolchain()).cache_dir / "packs" / digest.hexdigest()
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
