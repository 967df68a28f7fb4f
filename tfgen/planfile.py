"""Read a `terraform show -json` plan from a file or stdin, and check it is one before rules see it."""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO

from tfgen.errors import InputError
from tfgen.model import PlanInfo

STDIN = "-"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
SUPPORTED_MAJORS = (0, 1)
_MODES = ("managed", "data")

_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = b"PK\x03\x04"
_HCL_START = re.compile(
    r"(?:#|//|/\*|(?:terraform|provider|resource|data|module|variable|output|locals|moved|import"
    r"|removed|check)\b)"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VERSION = re.compile(r"(\d+)(?:\.\d+)*")
_READ_CHUNK = 1024 * 1024
_SNIFF_BYTES = 4096


def load_plan(
    source: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[PlanInfo, dict[str, Any]]:
    """Read, decode, parse and validate one plan; `source` is a path or `-` for stdin."""
    label = display_name(source)
    if not source:
        raise InputError("''", "empty path: name a plan JSON file, or - for stdin")
    # The bytes go straight into loads_plan, which drops them once decoded: peak memory is the text
    # plus the parsed document, never the bytes as well.
    if source == STDIN:
        plan = loads_plan(_read_stdin(label, max_bytes), label)
    else:
        plan = loads_plan(_read_file(source, label, max_bytes), label)
    return plan_info(source, plan), plan


def display_name(source: str) -> str:
    """How messages name a source: the path as given (control characters escaped), `<stdin>` for `-`."""
    if source == STDIN:
        return "<stdin>"
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", source)


def loads_plan(data: bytes, label: str) -> dict[str, Any]:
    """Decode and validate plan bytes; errors name `label`."""
    text = _decode(data, label)
    del data
    if not text.strip():
        raise InputError(label, "empty input, expected the JSON of `terraform show -json PLANFILE`")
    stripped = text.lstrip()
    if stripped[0] not in "{[" and _HCL_START.match(stripped):
        raise InputError(
            label,
            "looks like Terraform configuration (HCL), not a plan: "
            "run `terraform plan -out=tfplan && terraform show -json tfplan`",
        )
    document = _parse_json(text, label)
    del text
    validate_plan(document, label)
    plan: dict[str, Any] = document
    return plan


def _read_file(source: str, label: str, max_bytes: int) -> bytes:
    try:
        info = Path(source).stat()
    except FileNotFoundError:
        raise InputError(label, "no such file") from None
    except OSError as exc:
        raise InputError(label, f"cannot read: {_os_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(label, "is a directory, expected a plan JSON file")
    regular = stat.S_ISREG(info.st_mode)
    if regular and info.st_size > max_bytes:
        raise InputError(label, _too_big(info.st_size, max_bytes))
    # A regular file is read in one call of its size (+1 to see growth); pipes and devices by chunk.
    first = info.st_size + 1 if regular else _READ_CHUNK
    try:
        with Path(source).open("rb") as handle:
            return _read_bounded(handle, label, max_bytes, first=first)
    except OSError as exc:
        raise InputError(label, f"cannot read: {_os_reason(exc)}") from None


def _read_stdin(label: str, max_bytes: int) -> bytes:
    try:
        if sys.stdin.isatty():
            raise InputError(
                label,
                "is a terminal: pipe a plan in, e.g. `terraform show -json tfplan | tfgen check -`",
            )
        return _read_bounded(sys.stdin.buffer, label, max_bytes)
    except (OSError, AttributeError, ValueError) as exc:
        raise InputError(label, f"cannot read: {exc}") from None


def _read_bounded(handle: BinaryIO, label: str, max_bytes: int, first: int = _READ_CHUNK) -> bytes:
    """Read at most max_bytes; one byte more means the input is over the limit.

    `first` sizes the first read: a regular file's size plus one reads it in one call.
    """
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        chunk = handle.read(min(first if not chunks else _READ_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        if not chunks:
            _sniff(chunk, label)
        chunks.append(chunk)
        total += len(chunk)
    raise InputError(label, _too_big(None, max_bytes))


def _too_big(size: int | None, max_bytes: int) -> str:
    actual = f"is {_human(size)}, " if size is not None else "is "
    return f"{actual}over the {_human(max_bytes)} limit for a plan file"


def _human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _sniff(head: bytes, label: str) -> None:
    """Reject what the first bytes already show is no plan JSON (checked before reading on)."""
    if head.startswith(_ZIP_MAGIC):
        raise InputError(
            label,
            "is a binary Terraform plan file: convert it with `terraform show -json tfplan`",
        )
    if head.startswith(_UTF32_BOMS):
        raise InputError(label, "is UTF-32 encoded; save the plan as UTF-8 or UTF-16")
    if head.startswith(_UTF16_BOMS):
        return
    if _looks_utf16_without_bom(head):
        raise InputError(
            label,
            "looks like UTF-16 without a byte order mark; save it as UTF-8 or UTF-16 with BOM",
        )
    nul = head.find(b"\x00", 0, _SNIFF_BYTES)
    if nul >= 0:
        raise InputError(label, f"is binary data (a NUL byte at offset {nul}), not plan JSON")
    start = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
    try:
        head[start : start + _SNIFF_BYTES].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # not just a character cut at the end
            raise InputError(label, _not_utf8(head, start + exc.start)) from None


def _decode(data: bytes, label: str) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM; anything else is an error."""
    _sniff(data, label)
    try:
        if data.startswith(_UTF8_BOM):
            return data[len(_UTF8_BOM) :].decode("utf-8")
        if data.startswith(_UTF16_BOMS):
            return data.decode("utf-16")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.encoding.startswith("utf-16"):
            reason = f"invalid UTF-16 at byte {exc.start}"
        else:
            offset = exc.start + (len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0)
            reason = _not_utf8(data, offset)
        raise InputError(label, reason) from None


def _not_utf8(data: bytes, offset: int) -> str:
    return (
        f"not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}); "
        "expected the JSON of `terraform show -json`"
    )


def _looks_utf16_without_bom(data: bytes) -> bool:
    """JSON text has no raw NUL bytes; NULs in every other byte are ASCII in UTF-16."""
    head = data[:64]
    half = len(head) // 2
    if half < 2:
        return False
    return (head[0::2].count(0) == half) != (head[1::2].count(0) == half)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str, label: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} (line {exc.lineno} column {exc.colno})"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise InputError(label, f"truncated JSON, the input ends early: {where}") from None
        raise InputError(label, f"invalid JSON: {where}") from None
    except RecursionError:
        raise InputError(label, "JSON nested too deeply to be a Terraform plan") from None
    except ValueError as exc:
        reason = str(exc).split(";")[0]
        raise InputError(label, f"invalid JSON: {reason}") from None


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


def plan_info(source: str, plan: dict[str, Any]) -> PlanInfo:
    """What a report says about a plan: its name, format and Terraform versions, resource count."""
    return PlanInfo(
        path=source,
        format_version=str(plan["format_version"]),
        terraform_version=str(plan.get("terraform_version", "unknown")),
        resources=len(plan.get("resource_changes", [])),
    )
