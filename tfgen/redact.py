"""Sensitive values: redact them from a plan before any engine sees it, and from a Report before
any renderer does."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfgen.model import Report
from tfgen.spool import transform

REDACTED = "(sensitive value)"
# Shorter strings are still redacted in the plan, but scrubbing them from free text would mangle it.
MIN_SCRUB_LENGTH = 4


@dataclass(frozen=True)
class Secrets:
    """The sensitive strings of one or more plans, in every spelling an output format may use."""

    values: frozenset[str] = frozenset()

    def __or__(self, other: Secrets) -> Secrets:
        return Secrets(self.values | other.values)

    def __bool__(self) -> bool:
        return bool(self.values)

    def spellings(self) -> list[str]:
        """Raw, JSON-escaped and XML-escaped forms, longest first so overlaps are removed whole."""
        forms: set[str] = set()
        for value in self.values:
            forms |= _data_spellings(value)
            forms.add(_xml_escape(value))
        return _longest_first(forms)

    def data_spellings(self) -> list[str]:
        """The forms a secret takes inside data: raw, or inside JSON text (also nested, and as
        Go's encoder writes it), longest first."""
        forms: set[str] = set()
        for value in self.values:
            forms |= _data_spellings(value)
        return _longest_first(forms)


def _data_spellings(value: str) -> set[str]:
    forms = {value}
    for ascii_only in (True, False):
        once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        go = once.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        forms |= {once, go, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
        forms.add(json.dumps(go, ensure_ascii=ascii_only)[1:-1])
    return forms


def _longest_first(forms: set[str]) -> list[str]:
    return sorted(forms, key=lambda s: (-len(s), s))


def redact_report(report: Report, secrets: Secrets) -> Report:
    """The report with every secret replaced in all its strings, before any renderer escapes them.

    Works on the Report's fields generically (messages, details keys and values, addresses, paths,
    errors, notices, tool versions), so every output format gets the same redacted data; a spool
    of findings is redacted chunk by chunk into a new one.
    """
    if not secrets:
        return report
    forms = secrets.data_spellings()
    findings = transform(report.findings, lambda chunk: _redact_strings(chunk, forms))
    redacted: Report = _redact_strings(dataclasses.replace(report, findings=()), forms)
    return dataclasses.replace(redacted, findings=findings)


def redact_data(value: Any, secrets: Secrets) -> Any:
    """JSON-like data with every secret replaced in its strings and keys (e.g. a plan to save)."""
    return _redact_strings(value, secrets.data_spellings()) if secrets else value


def _redact_strings(value: Any, forms: Sequence[str]) -> Any:
    if isinstance(value, str):
        for form in forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value
    if isinstance(value, dict):
        return {_redact_strings(k, forms): _redact_strings(v, forms) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_strings(v, forms) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _redact_strings(getattr(value, f.name), forms)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def _xml_escape(value: str) -> str:
    """XML text and attribute escaping (xml.sax.saxutils.escape with quotes, without its imports)."""
    for raw, entity in _XML_ENTITIES:
        value = value.replace(raw, entity)
    return value


_XML_ENTITIES = (("&", "&amp;"), (">", "&gt;"), ("<", "&lt;"), ('"', "&quot;"), ("'", "&apos;"))


def scrub(text: str, secrets: Secrets) -> str:
    """`text` with every sensitive string replaced by the redaction marker."""
    for form in secrets.spellings():
        text = text.replace(form, REDACTED)
    return text


def redact_plan(plan: dict[str, Any], *, in_place: bool = False) -> tuple[dict[str, Any], Secrets]:
    """A copy of the plan with sensitive values replaced by the marker, and those values.

    `in_place` redacts the given plan itself instead of a copy (callers that own a freshly parsed
    plan); the original must not be used afterwards.
    """
    found: set[str] = set()
    if not in_place:
        plan = json.loads(json.dumps(plan))
    for change in _changes(plan):
        for side in ("before", "after"):
            mask = change.get(f"{side}_sensitive", False)
            if side in change:
                change[side] = _mask(change[side], mask, found)
        _mark_unknown(change)
    for resource in _state_resources(plan):
        resource["values"] = _mask(resource.get("values"), resource.get("sensitive_values"), found)
    for outputs in (
        _at(plan, "planned_values", "outputs"),
        _at(plan, "prior_state", "values", "outputs"),
    ):
        for output in _objects(outputs):
            if output.get("sensitive") and "value" in output:
                output["value"] = _mask(output["value"], True, found)
    root = _at(plan, "configuration", "root_module")
    root_vars = _at(root, "variables")
    for name, variable in _at(plan, "variables").items():
        if _at(root_vars, name).get("sensitive") and isinstance(variable, dict):
            variable["value"] = _mask(variable.get("value"), True, found)
    for module in _config_modules(root):
        for variable in _objects(_at(module, "variables")):
            if variable.get("sensitive") and "default" in variable:
                variable["default"] = _mask(variable["default"], True, found)
        for call in _objects(_at(module, "module_calls")):
            # A literal passed to a child module's sensitive variable.
            inputs = _at(call, "module", "variables")
            for name, expression in _at(call, "expressions").items():
                sensitive = _at(inputs, name).get("sensitive")
                if sensitive and isinstance(expression, dict) and "constant_value" in expression:
                    expression["constant_value"] = _mask(expression["constant_value"], True, found)
    secrets = Secrets(frozenset(s for s in found if len(s) >= MIN_SCRUB_LENGTH))
    # Second pass: an exact copy Terraform did not mark (e.g. the provider's tags_all), as a whole
    # value anywhere, or as a map key inside a resource's, output's or variable's value. Never
    # substrings, nor the plan's own structure: rewriting those could change what rules decide.
    if secrets:
        for holder, key, attributes in _value_slots(plan):
            value = holder[key]
            if attributes and isinstance(value, dict):
                # Attribute names are the resource's schema: only keys inside their values.
                holder[key] = {
                    name: _replace_copies(item, secrets.values, rename_keys=True)
                    for name, item in value.items()
                }
            else:
                holder[key] = _replace_copies(value, secrets.values, rename_keys=True)
        plan = _replace_copies(plan, secrets.values, rename_keys=False)
    return plan, secrets


def _value_slots(plan: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, bool]]:
    """(holder, key, whether its keys are attribute names) of every place a plan keeps a
    resource's attributes, or an output's or variable's value."""
    for change in _changes(plan):
        yield from ((change, side, True) for side in ("before", "after") if side in change)
    for resource in _state_resources(plan):
        if "values" in resource:
            yield resource, "values", True
    for outputs in (
        _at(plan, "planned_values", "outputs"),
        _at(plan, "prior_state", "values", "outputs"),
    ):
        yield from ((o, "value", False) for o in _objects(outputs) if "value" in o)
    yield from ((v, "value", False) for v in _objects(_at(plan, "variables")) if "value" in v)


def _mark_unknown(change: dict[str, Any]) -> None:
    """Redacted attributes are unknown to the rules, so a rule that needs one fails closed."""
    mask = change.get("after_sensitive", False)
    after = change.get("after")
    if not isinstance(after, dict) or not mask:
        return
    names = [n for n in after if mask is True or (isinstance(mask, dict) and mask.get(n) is True)]
    if names:
        unknown = change.get("after_unknown")
        change["after_unknown"] = {
            **(unknown if isinstance(unknown, dict) else {}),
            **dict.fromkeys(names, True),
        }


def _at(value: Any, *keys: str) -> dict[str, Any]:
    """The object at value[k1][k2]..., or {} where anything on the way is missing or not one."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _objects(table: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (v for v in table.values() if isinstance(v, dict))


def _mask(value: Any, mask: Any, found: set[str]) -> Any:
    """Replace the parts of `value` that `mask` (True, or a matching dict/list) marks sensitive."""
    if mask is True:
        found.update(_strings(value, keys=True))
        return REDACTED if value is not None else None
    if not mask:  # False, null, {} or []: nothing below is sensitive
        return value
    # Only the marked entries change, in place: redact_plan owns the plan it walks.
    if isinstance(mask, dict) and isinstance(value, dict):
        for key, below in mask.items():
            if below and key in value:
                value[key] = _mask(value[key], below, found)
    elif isinstance(mask, list) and isinstance(value, list):
        for index, below in enumerate(mask[: len(value)]):
            if below:
                value[index] = _mask(value[index], below, found)
    return value


def _strings(value: Any, *, keys: bool = False) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys:
                yield str(key)
            yield from _strings(item, keys=keys)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, keys=keys)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def _replace_copies(value: Any, secrets: frozenset[str], *, rename_keys: bool) -> Any:
    if isinstance(value, str):
        return REDACTED if value in secrets else value
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if rename_keys and key in secrets:
                key = _free_key(out, value)
            out[key] = _replace_copies(item, secrets, rename_keys=rename_keys)
        return out
    if isinstance(value, list):
        return [_replace_copies(v, secrets, rename_keys=rename_keys) for v in value]
    return value


def _free_key(taken: dict[str, Any], original: dict[str, Any]) -> str:
    """The marker as a key, numbered when one map has several redacted keys."""
    key, number = REDACTED, 1
    while key in taken or key in original:
        number += 1
        key = f"{REDACTED} {number}"
    return key


def _changes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("resource_changes", "resource_drift"):
        for item in _list(plan.get(key)):
            if isinstance(item, dict) and isinstance(item.get("change"), dict):
                yield item["change"]
    yield from _objects(_at(plan, "output_changes"))


def _state_resources(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for root in (
        _at(plan, "planned_values", "root_module"),
        _at(plan, "prior_state", "values", "root_module"),
    ):
        yield from _module_resources(root)


def _module_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from (r for r in _list(module.get("resources")) if isinstance(r, dict))
    for child in _list(module.get("child_modules")):
        if isinstance(child, dict):
            yield from _module_resources(child)


def _config_modules(module: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield module
    for call in _objects(_at(module, "module_calls")):
        if isinstance(call.get("module"), dict):
            yield from _config_modules(call["module"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def input_secrets(
    module_dir: Path,
    variables: Sequence[str] = (),
    var_files: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
) -> Secrets:
    """Values given to the root module's sensitive variables, to scrub from Terraform's errors."""
    names: set[str] = set()
    found: set[str] = set()
    for path in sorted(module_dir.glob("*.tf")):
        for block in _hcl(path).get("variable", []):
            for name, body in block.items():
                if isinstance(body, dict) and body.get("sensitive") is True:
                    names.add(name)
                    found.update(_strings(body.get("default")))
    for item in variables:
        name, sep, value = item.partition("=")
        if sep and name.strip() in names:
            found.add(value)
    for path in var_files:
        values = _json_file(path) if path.suffix == ".json" else _hcl(path)
        found.update(s for name in names & set(values) for s in _strings(values[name]))
    env = environ or {}
    found.update(env[f"TF_VAR_{name}"] for name in names if f"TF_VAR_{name}" in env)
    return Secrets(frozenset(s for s in found if len(s) >= MIN_SCRUB_LENGTH))


def _hcl(path: Path) -> dict[str, Any]:
    import hcl2  # python-hcl2 and lark take ~0.2 s to import; only `tfgen plan` reads HCL
    from hcl2.utils import SerializationOptions
    from lark.exceptions import LarkError

    options = SerializationOptions(strip_string_quotes=True, with_comments=False)
    try:
        data = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=options)
    except (OSError, UnicodeDecodeError, LarkError, ValueError, RecursionError):
        return {}  # Terraform reports unreadable files itself
    return data if isinstance(data, dict) else {}


def _json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
