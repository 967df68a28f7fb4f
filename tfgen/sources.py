"""Source locations: map a plan address to the `.tf` file and line of its resource block."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tfgen.model import Finding, PlanInfo, Report, SourceLocation
from tfgen.spool import transform

# Fallback when python-hcl2 cannot parse a file that Terraform accepted.
_BLOCK = re.compile(
    r'^[ \t]*(resource|data|module)[ \t]+"?([\w-]+)"?(?:[ \t]+"?([\w-]+)"?)?[ \t]*\{'
)


@dataclass(frozen=True)
class Address:
    """A resource address without instance keys: module path, mode, type and name."""

    modules: tuple[str, ...]
    mode: str
    type: str
    name: str


def parse_address(address: str) -> Address | None:
    """`module.a["x"].module.b[0].data.t.n[1]` → Address(("a", "b"), "data", "t", "n")."""
    parts = [_strip_key(p) for p in _split(address)]
    modules: list[str] = []
    while len(parts) >= 2 and parts[0] == "module":
        modules.append(parts[1])
        parts = parts[2:]
    mode = "managed"
    if parts[:1] == ["data"]:
        mode, parts = "data", parts[1:]
    if len(parts) != 2 or not all(parts):
        return None
    return Address(tuple(modules), mode, parts[0], parts[1])


def _split(address: str) -> list[str]:
    """Split on dots outside instance keys (`["a.b"]`) and quoted strings."""
    parts, current, depth, quoted, escaped = [], [], 0, False, False
    for ch in address:
        if quoted:
            current.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _strip_key(part: str) -> str:
    index = part.find("[")
    return part if index < 0 else part[:index]


def block_lines(path: Path) -> dict[tuple[str, ...], int]:
    """Top-level blocks of one `.tf` file: (kind, label, ...) → start line."""
    import hcl2  # ~0.2 s to import with lark: only runs that locate findings in .tf files pay it
    from lark.exceptions import LarkError

    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = hcl2.parses_to_tree(text)
    except (LarkError, ValueError, RecursionError):  # python-hcl2 misses some valid HCL
        return _scan_lines(text)
    lines: dict[tuple[str, ...], int] = {}
    body = next(iter(tree.children), None)
    for block in getattr(body, "children", ()):
        if getattr(block, "data", None) != "block":
            continue
        labels = tuple(_label(c) for c in block.children if getattr(c, "data", None) in _LABELS)
        lines.setdefault(labels, block.meta.line)
    return lines


_LABELS = ("identifier", "string")


def _label(node: Any) -> str:
    return "".join(str(token) for token in node.scan_values(lambda _: True)).strip('"')


def _scan_lines(text: str) -> dict[tuple[str, ...], int]:
    lines: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _BLOCK.match(line)
        if match:
            labels = tuple(g for g in match.groups() if g)
            lines.setdefault(labels, number)
    return lines


def module_blocks(directory: Path) -> dict[tuple[str, ...], tuple[Path, int]]:
    """All top-level blocks of a module directory's `.tf` files, in file-name order."""
    blocks: dict[tuple[str, ...], tuple[Path, int]] = {}
    for path in sorted(directory.glob("*.tf")):
        try:
            found = block_lines(path)
        except OSError:
            continue
        for labels, line in found.items():
            blocks.setdefault(labels, (path, line))
    return blocks


class SourceMap:
    """Locates plan addresses in the module sources under `root_dir` (the planned directory)."""

    def __init__(self, plan: Mapping[str, Any], root_dir: Path, base: Path | None = None) -> None:
        self.root = root_dir.resolve()
        base = (base or self.root).resolve()
        self.base = base if self.root.is_relative_to(base) else self.root
        self.config = _obj(_obj(plan.get("configuration")).get("root_module"))
        self.installed = _installed_modules(self.root)
        self._blocks: dict[Path, dict[tuple[str, ...], tuple[Path, int]]] = {}

    def _module_blocks(self, directory: Path) -> dict[tuple[str, ...], tuple[Path, int]]:
        if directory not in self._blocks:
            self._blocks[directory] = module_blocks(directory)
        return self._blocks[directory]

    def locate(self, address: str) -> SourceLocation | None:
        """The resource block's file and line, or the nearest local `module` call that holds it."""
        parsed = parse_address(address)
        if parsed is None:
            return None
        dirs = self.module_dirs(parsed.modules)
        call_site: tuple[Path, int] | None = None
        for directory, name in zip(dirs, parsed.modules, strict=False):
            if directory is not None:
                call_site = self._module_blocks(directory).get(("module", name)) or call_site
        kind = "data" if parsed.mode == "data" else "resource"
        hit = (
            self._module_blocks(dirs[-1]).get((kind, parsed.type, parsed.name))
            if dirs[-1]
            else None
        )
        target = hit or call_site
        if target is None:
            return None
        path, line = target
        return SourceLocation(file=self.relative(path), line=line)

    def module_dirs(self, modules: Sequence[str]) -> tuple[Path | None, ...]:
        """The root directory, then the directory of each nested call (None: not the user's code)."""
        directory: Path | None = self.root
        config: Mapping[str, Any] | None = self.config
        dirs = [directory]
        for depth, name in enumerate(modules):
            call = _obj(_obj(_obj(config).get("module_calls")).get(name))
            directory = self._module_dir(tuple(modules[: depth + 1]), directory, call)
            config = call.get("module")
            dirs.append(directory)
        return tuple(dirs)

    def local_dirs(self) -> set[Path]:
        """The root and every module directory of the user's own code that the plan calls."""
        found = {self.root}
        pending: list[tuple[tuple[str, ...], Path | None, Mapping[str, Any]]] = [
            ((), self.root, self.config)
        ]
        while pending:
            keys, directory, config = pending.pop()
            for name, call in _obj(config.get("module_calls")).items():
                call = _obj(call)
                child = self._module_dir((*keys, name), directory, call)
                if child is not None and child.is_dir():
                    found.add(child)
                pending.append(((*keys, name), child, _obj(call.get("module"))))
        return found

    def _module_dir(
        self, keys: tuple[str, ...], parent: Path | None, call: Mapping[str, Any]
    ) -> Path | None:
        installed = self.installed.get(".".join(keys))
        if installed is not None and ".terraform" not in installed.parts:
            return installed
        source = call.get("source", "")
        if parent is not None and isinstance(source, str) and source.startswith(("./", "../")):
            return (parent / source).resolve()
        return None  # a registry or remote module: not the user's code

    def relative(self, path: Path) -> str:
        """`path` as reports show it: relative to the base, else to the planned directory."""
        for base in (self.base, self.root):
            if path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return Path(os.path.relpath(path, self.base)).as_posix()


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _installed_modules(root: Path) -> dict[str, Path]:
    """`.terraform/modules/modules.json`: module key (`a.b`) → its directory, when present."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return {
            m["Key"]: (root / m["Dir"]).resolve()
            for m in data.get("Modules", [])
            if m.get("Key") and isinstance(m.get("Dir"), str)
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def source_location(plan: Mapping[str, Any], address: str, root_dir: Path) -> SourceLocation | None:
    """The source location of one address in a plan of `root_dir`."""
    return SourceMap(plan, root_dir).locate(address)


def with_locations(findings: Iterable[Finding], sources: SourceMap) -> tuple[Finding, ...]:
    """Findings with `location` filled in where the source is found (kept as given otherwise)."""
    return tuple(
        f if f.location else replace(f, location=sources.locate(f.address)) for f in findings
    )


def attach_locations(
    report: Report,
    plans: Sequence[tuple[PlanInfo, Mapping[str, Any]]],
    source_dirs: Mapping[str, Path],
    base: Path,
) -> Report:
    """Fill in each finding's file:line from the source directory its plan was made in.

    Paths are relative to `base` (the working directory, so SARIF paths match the checkout) when
    the sources lie below it, else relative to the source directory.
    """
    maps = {
        info.path: SourceMap(plan, source_dirs[info.path], base)
        for info, plan in plans
        if info.path in source_dirs
    }
    return locate_findings(report, maps)


def locate_findings(report: Report, maps: Mapping[str, SourceMap]) -> Report:
    """Fill in each finding's file:line from the SourceMap of its plan, where there is one."""
    if not maps:
        return report

    def locate(chunk: list[Finding]) -> list[Finding]:
        return [
            replace(f, location=maps[f.plan].locate(f.address))
            if f.location is None and f.plan in maps
            else f
            for f in chunk
        ]

    return replace(report, findings=transform(report.findings, locate))
