"""The one engine interface, and the check every engine's answer passes before it is trusted."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any, NotRequired, Protocol, TypedDict, get_args

import orjson

from tfgen.errors import EngineError
from tfgen.model import Enforcement, Severity

# Seconds to wait for one evaluation, and tries for transient server errors.
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
# Seconds to wait for a started OPA container to answer /health.
HEALTH_TIMEOUT = 60.0
# The fleet of docker-compose.yml's fleet profile: its default name and number of OPA replicas.
FLEET_NAME = "tfgen-fleet"
FLEET_REPLICAS = 3

RESULT_KEYS = (
    "rule_id",
    "title",
    "severity",
    "enforcement",
    "address",
    "resource_type",
    "message",
    "details",
)
_SEVERITIES = frozenset(get_args(Severity))
_ENFORCEMENTS = frozenset(get_args(Enforcement))
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class PackInfo(TypedDict):
    name: str


class RuleResult(TypedDict):
    """One entry of `deny`/`warn`, as `tfgen.lib.result.fail` builds it."""

    rule_id: str
    title: str
    severity: Severity
    enforcement: Enforcement
    address: str
    resource_type: str
    message: str
    msg: str
    details: dict[str, Any]


class Decision(TypedDict):
    """The value of `data.main.report` for one plan."""

    pack: PackInfo
    deny: list[RuleResult]
    warn: list[RuleResult]
    # The revisions of the bundles that judged the plan, as a server's provenance gives them.
    revision: NotRequired[str]


class Engine(Protocol):
    """Evaluates `data.main.report` for one plan at a time; never prints, never exits."""

    name: str

    def evaluate(self, plan: Mapping[str, Any]) -> Decision:
        """The decision for one plan document; EngineError when there is none."""
        ...

    def versions(self) -> dict[str, str]:
        """Versions worth recording in a report (engine, OPA, ...)."""
        ...

    def notices(self) -> tuple[str, ...]:
        """Things the user should know about this run (e.g. configuration the server refused)."""
        ...

    def close(self) -> None:
        """Release what the engine holds (instances, sessions, containers it started)."""
        ...


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def encode_input(document: Mapping[str, Any]) -> bytes:
    """The JSON an engine is given for one plan document, UTF-8.

    orjson writes it 4x faster than json. What orjson refuses goes through json: integers beyond
    64 bits, and strings holding half a surrogate pair, which UTF-8 cannot hold: it becomes
    U+FFFD, as OPA's own JSON decoding makes it. orjson would write a non-finite float as null,
    so a document must hold none: the plan reader refuses them (`planfile.parse_json`).
    """
    try:
        return orjson.dumps(document)
    except TypeError:
        text = json.dumps(document, allow_nan=False, ensure_ascii=False)
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")


def decision(
    value: object,
    source: str,
    expected_config: Mapping[str, Any] | None = None,
) -> Decision:
    """Check the shape of a `data.main.report` value; EngineError names `source` otherwise.

    With `expected_config`, the configuration the report echoes must be exactly that one.
    """
    if not isinstance(value, dict):
        raise EngineError(f"{source}: data.main.report is {type(value).__name__}, not an object")
    if expected_config is not None and value.get("config") != dict(expected_config):
        raise EngineError(
            f"{source}: evaluated with data.tfgen_config {value.get('config')!r}, "
            f"not the configured {dict(expected_config)!r}"
        )
    pack = value.get("pack")
    if not isinstance(pack, dict) or pack.get("name") != "tfgen":
        raise EngineError(f"{source}: data.main.report is not the tfgen rule pack's report")
    for key in ("deny", "warn"):
        entries = value.get(key)
        if not isinstance(entries, list):
            raise EngineError(f"{source}: data.main.report.{key} is not a set")
        for entry in entries:
            _check_result(entry, f"{source}: data.main.report.{key}")
    checked: Decision = {"pack": pack, "deny": value["deny"], "warn": value["warn"]}  # type: ignore[typeddict-item]
    return checked


def _check_result(entry: object, where: str) -> None:
    if not isinstance(entry, dict):
        raise EngineError(f"{where} holds a {type(entry).__name__}, not a result object")
    missing = [k for k in RESULT_KEYS if k not in entry]
    if missing:
        raise EngineError(f"{where} holds a result without {', '.join(missing)}")
    if entry["severity"] not in _SEVERITIES:
        raise EngineError(f"{where}: {entry['rule_id']} has severity {entry['severity']!r}")
    if entry["enforcement"] not in _ENFORCEMENTS:
        raise EngineError(f"{where}: {entry['rule_id']} has enforcement {entry['enforcement']!r}")
    if not isinstance(entry["details"], dict):
        raise EngineError(f"{where}: {entry['rule_id']} has details that are not an object")
