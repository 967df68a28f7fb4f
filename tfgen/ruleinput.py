"""What a rule pack reads of a plan, derived from the pack, and the plan pruned to exactly that.

The pack says it in three places: which top-level input keys its policy files reference, the
`custom.resource_types` each rule's METADATA declares, and the `custom.resource_types` /
`custom.configuration_types` a library package declares for the links it follows on the rules'
behalf. A pack whose files name a resource type they do not declare, or read `input` in a way
this reader cannot follow, is not pruned: its engine sees the whole rule input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfgen.errors import InputError
from tfgen.rulepack import RulePack, read_metadata

# A Rego string literal, raw string or comment (skipped), or the root document `input`.
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*|(?<![\w.])input(?!\w)')
_AFTER_INPUT = re.compile(r'\s*(?:\.\s*(\w+)|\[\s*"(\w+)"\s*\])')
_GET_INPUT = re.compile(r"object\.get\(\s*$")
_GET_KEY = re.compile(r'\s*,\s*(?:\[\s*)?"(\w+)"')


@dataclass(frozen=True)
class InputNeeds:
    """The top-level keys the pack reads (None: unknown, keep all) and the resource types whose
    changes (`types`) and configuration (`types` and `config_types`) it reads (None: all)."""

    keys: frozenset[str] | None
    types: frozenset[str] | None
    config_types: frozenset[str] = frozenset()


def input_needs(pack: RulePack) -> InputNeeds:
    """What the pack's policy files read of the input; computed once per pack content."""
    key = (pack.root, pack.digest)
    if key not in _NEEDS:
        _NEEDS[key] = _needs(pack)
    return _NEEDS[key]


_NEEDS: dict[tuple[Path, str], InputNeeds] = {}


def _needs(pack: RulePack) -> InputNeeds:
    keys = input_keys(_policy_texts(pack))
    if undeclared_types(pack):
        return InputNeeds(keys=keys, types=None)
    types: set[str] = {t for rule in pack.rules for t in rule.resource_types}
    config_types: set[str] = set()
    for declared in _library_types(pack).values():
        types |= declared[0]
        config_types |= declared[1]
    return InputNeeds(keys=keys, types=frozenset(types), config_types=frozenset(config_types))


def prune(rule_input: Mapping[str, Any], needs: InputNeeds) -> dict[str, Any]:
    """The rule input without the keys, resource changes and configuration the pack never reads.

    Values that are kept are the same objects, not copies.
    """
    out: dict[str, Any] = {}
    for key, value in rule_input.items():
        if needs.keys is not None and key not in needs.keys:
            continue
        if needs.types is not None and key == "resource_changes" and isinstance(value, list):
            value = [
                rc for rc in value if not isinstance(rc, dict) or rc.get("type") in needs.types
            ]
        elif needs.types is not None and key == "configuration" and isinstance(value, dict):
            value = _configuration(value, needs.types | needs.config_types)
        out[key] = value
    return out


def _configuration(configuration: dict[str, Any], types: frozenset[str]) -> dict[str, Any]:
    """Every module's resources of `types`; outputs, module calls and the rest kept as they are."""
    root = configuration.get("root_module")
    if not isinstance(root, dict):
        return configuration
    pruned_root: dict[str, Any] = {}
    stack = [(root, pruned_root)]
    while stack:
        module, target = stack.pop()
        target.update(module)
        resources = module.get("resources")
        if isinstance(resources, list):
            target["resources"] = [
                r for r in resources if not isinstance(r, dict) or r.get("type") in types
            ]
        calls = module.get("module_calls")
        if not isinstance(calls, dict):
            continue
        target["module_calls"] = {}
        for name, call in calls.items():
            if isinstance(call, dict) and isinstance(call.get("module"), dict):
                child: dict[str, Any] = {}
                target["module_calls"][name] = {**call, "module": child}
                stack.append((call["module"], child))
            else:
                target["module_calls"][name] = call
    return {**configuration, "root_module": pruned_root}


def input_keys(texts: Iterable[str]) -> frozenset[str] | None:
    """The top-level input keys Rego sources read; None when one reads `input` another way."""
    keys: set[str] = set()
    for text in texts:
        for match in _TOKEN.finditer(text):
            if match.group() != "input":
                continue
            key = _key_after(text, match.start(), match.end())
            if key is None:
                return None
            keys.add(key)
    return frozenset(keys)


def _key_after(text: str, start: int, end: int) -> str | None:
    after = _AFTER_INPUT.match(text, end)
    if after:
        return after.group(1) or after.group(2)
    if _GET_INPUT.search(text, max(0, start - 40), start):
        get = _GET_KEY.match(text, end)
        if get:
            return get.group(1)
    return None


def type_literals(text: str, prefixes: Iterable[str]) -> set[str]:
    """String literals in Rego source that name a resource type of one of the providers."""
    heads = tuple(f"{p}_" for p in prefixes)
    found = set()
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[:1] in ('"', "`"):
            value = token[1:-1]
            if value.startswith(heads) and re.fullmatch(r"[a-z0-9_]+", value):
                found.add(value)
    return found


def undeclared_types(pack: RulePack) -> list[str]:
    """Resource types a policy file names but its METADATA does not declare, as `file: type`."""
    declared_by_file = {pack.root / rule.file: set(rule.resource_types) for rule in pack.rules}
    for path, (types, config_types) in _library_types(pack).items():
        declared_by_file[path] = set(types | config_types)
    every = set().union(*declared_by_file.values()) if declared_by_file else set()
    prefixes = {t.split("_", 1)[0] for t in every} or {"aws"}
    problems = []
    for path in _policy_files(pack):
        named = type_literals(path.read_text(encoding="utf-8"), prefixes)
        for name in sorted(named - declared_by_file.get(path, set())):
            problems.append(f"{path.relative_to(pack.root).as_posix()}: {name}")
    return problems


def _library_types(pack: RulePack) -> dict[Path, tuple[frozenset[str], frozenset[str]]]:
    """The types each library package declares it reads: (resource changes, configuration)."""
    rule_files = {pack.root / rule.file for rule in pack.rules}
    out = {}
    for path in _policy_files(pack):
        if path in rule_files:
            continue
        try:
            custom = read_metadata(path, pack.root).get("custom")
        except InputError:
            continue  # a package without METADATA declares nothing
        if not isinstance(custom, dict):
            continue
        out[path] = (
            frozenset(_names(custom.get("resource_types"))),
            frozenset(_names(custom.get("configuration_types"))),
        )
    return out


def _names(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _policy_files(pack: RulePack) -> list[Path]:
    return [p for p in pack.sources if p.suffix == ".rego"]


def _policy_texts(pack: RulePack) -> Iterable[str]:
    return (p.read_text(encoding="utf-8") for p in _policy_files(pack))
