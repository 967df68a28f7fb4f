"""The shape of a plan: the parts the rules read are checked before any engine sees them."""

from __future__ import annotations

import re
from typing import Any

from tfgen.errors import InputError

SUPPORTED_MAJORS = (0, 1)
_MODES = ("managed", "data")
_VERSION = re.compile(r"(\d+)(?:\.\d+)*")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


class _Checker:
    """Type checks for the parts of a plan the rules read; errors name the JSON path."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, path: str, reason: str) -> InputError:
        return InputError(self.label, f"not a valid Terraform plan: {path} {reason}")

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, got {_type_name(value)}")
        return value

    def arr(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array, got {_type_name(value)}")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {_type_name(value)}")
        return value

    def obj_or_null(self, value: Any, path: str) -> None:
        if value is not None and not isinstance(value, dict):
            raise self.fail(path, f"must be an object or null, got {_type_name(value)}")

    def required(self, parent: dict[str, Any], key: str, path: str) -> Any:
        if key not in parent:
            raise self.fail(f"{path}.{key}" if path else key, "is missing")
        return parent[key]


def validate_plan(document: Any, label: str) -> None:
    """Raise InputError unless `document` is a plan whose rule-relevant parts have the right types."""
    check = _Checker(label)
    if isinstance(document, list):
        raise InputError(
            label, "is a JSON array, expected the object `terraform show -json` prints"
        )
    if not isinstance(document, dict):
        raise InputError(
            label,
            f"is {_type_name(document)}, expected the object `terraform show -json` prints",
        )
    _check_format_version(document, label)
    if document.get("errored") is True:
        raise InputError(label, "Terraform reported errors while planning (errored: true)")
    if "planned_values" not in document and "resource_changes" not in document:
        if "values" in document or set(document) <= {"format_version", "terraform_version"}:
            raise InputError(
                label,
                "is Terraform state, not a plan: run `terraform show -json` on a saved plan file",
            )
        raise InputError(label, "not a Terraform plan: planned_values and resource_changes missing")
    if "terraform_version" in document:
        check.string(document["terraform_version"], "terraform_version")
    planned = check.obj(check.required(document, "planned_values", ""), "planned_values")
    if "root_module" in planned:
        _check_state_module(check, planned["root_module"], "planned_values.root_module")
    if "resource_changes" in document:
        _check_changes(check, document["resource_changes"], "resource_changes")
    if "configuration" in document:
        configuration = check.obj(document["configuration"], "configuration")
        if "root_module" in configuration:
            _check_config_module(check, configuration["root_module"], "configuration.root_module")
    if "prior_state" in document:
        prior = check.obj(document["prior_state"], "prior_state")
        if "values" in prior:
            values = check.obj(prior["values"], "prior_state.values")
            if "root_module" in values:
                _check_state_module(check, values["root_module"], "prior_state.values.root_module")
    if "variables" in document:
        variables = check.obj(document["variables"], "variables")
        for name, variable in variables.items():
            check.obj(variable, f"variables.{name}")


def _check_format_version(document: dict[str, Any], label: str) -> None:
    if "format_version" not in document:
        raise InputError(
            label, "not a Terraform plan: format_version missing (expected `terraform show -json`)"
        )
    version = document["format_version"]
    if not isinstance(version, str):
        raise InputError(
            label,
            f'not a Terraform plan: format_version must be a string like "1.2", got {_type_name(version)}',
        )
    if not _VERSION.fullmatch(version):
        raise InputError(
            label, f"not a Terraform plan: format_version {version!r} is not a version"
        )
    major = int(version.split(".")[0])
    if major not in SUPPORTED_MAJORS:
        supported = max(SUPPORTED_MAJORS)
        raise InputError(
            label,
            f"plan format_version {version} is not supported (this tfgen reads {supported}.x); "
            "upgrade tfgen",
        )


def _check_changes(check: _Checker, value: Any, path: str) -> None:
    """resource_changes: the rules index these by address and skip all but mode "managed"."""
    seen: set[str] = set()
    for index, item in enumerate(check.arr(value, path)):
        where = f"{path}[{index}]"
        change = check.obj(item, where)
        address = check.string(check.required(change, "address", where), f"{where}.address")
        check.string(check.required(change, "type", where), f"{where}.type")
        check.string(check.required(change, "name", where), f"{where}.name")
        mode = check.string(check.required(change, "mode", where), f"{where}.mode")
        if mode not in _MODES:
            raise check.fail(f"{where}.mode", f'must be "managed" or "data", got {mode!r}')
        if "module_address" in change:
            check.string(change["module_address"], f"{where}.module_address")
        if "deposed" not in change:
            if address in seen:
                raise check.fail(where, f"repeats the address {address!r}")
            seen.add(address)
        _check_change_body(check, check.required(change, "change", where), f"{where}.change")


def _check_change_body(check: _Checker, value: Any, where: str) -> None:
    body = check.obj(value, where)
    actions = check.arr(check.required(body, "actions", where), f"{where}.actions")
    if not actions:
        raise check.fail(f"{where}.actions", "is empty")
    for position, action in enumerate(actions):
        check.string(action, f"{where}.actions[{position}]")
    for key in ("before", "after"):
        if key in body:
            check.obj_or_null(body[key], f"{where}.{key}")
    for key in ("after_unknown", "before_sensitive", "after_sensitive"):
        if key in body and not isinstance(body[key], dict | bool) and body[key] is not None:
            raise check.fail(
                f"{where}.{key}", f"must be an object or boolean, got {_type_name(body[key])}"
            )


def _check_state_module(check: _Checker, value: Any, path: str) -> None:
    """A planned_values/prior_state module: resources and child modules, walked without recursion."""
    stack = [(value, path)]
    while stack:
        module_value, where = stack.pop()
        module = check.obj(module_value, where)
        for index, item in enumerate(check.arr(module.get("resources", []), f"{where}.resources")):
            at = f"{where}.resources[{index}]"
            resource = check.obj(item, at)
            check.string(check.required(resource, "address", at), f"{at}.address")
            check.string(check.required(resource, "type", at), f"{at}.type")
            if "values" in resource:
                check.obj_or_null(resource["values"], f"{at}.values")
        children = check.arr(module.get("child_modules", []), f"{where}.child_modules")
        stack.extend((child, f"{where}.child_modules[{i}]") for i, child in enumerate(children))


def _check_config_module(check: _Checker, value: Any, path: str) -> None:
    """A configuration module: resources and module calls, walked without recursion."""
    stack = [(value, path)]
    while stack:
        module_value, where = stack.pop()
        module = check.obj(module_value, where)
        for index, item in enumerate(check.arr(module.get("resources", []), f"{where}.resources")):
            at = f"{where}.resources[{index}]"
            resource = check.obj(item, at)
            check.string(check.required(resource, "address", at), f"{at}.address")
            check.string(check.required(resource, "type", at), f"{at}.type")
            check.string(check.required(resource, "name", at), f"{at}.name")
            check.string(check.required(resource, "mode", at), f"{at}.mode")
            if "expressions" in resource:
                check.obj(resource["expressions"], f"{at}.expressions")
        calls = check.obj(module.get("module_calls", {}), f"{where}.module_calls")
        for name, call_value in calls.items():
            at = f"{where}.module_calls.{name}"
            call = check.obj(call_value, at)
            if "module" in call:
                stack.append((call["module"], f"{at}.module"))
