"""The review configuration: `[tool.tfgen]` in pyproject.toml and/or `.tfgen.toml`, same schema."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, get_args

from tfgen.baseline import Baseline
from tfgen.errors import ConfigError, InputError
from tfgen.model import SEVERITIES, Enforcement, Severity, Waiver

CONFIG_FILE = ".tfgen.toml"
PYPROJECT = "pyproject.toml"
ENFORCEMENTS: tuple[Enforcement, ...] = get_args(Enforcement)
MIN_WINDOW, MAX_WINDOW = 7, 30  # the deletion windows AWS KMS accepts, in days

_TOP_KEYS = {
    "fail_on",
    "severity_threshold",
    "min_deletion_window_days",
    "rules",
    "waivers",
    "extra_rules",
}
_RULE_KEYS = {"enforcement", "reason"}
OFF = "off"  # enforcement that skips a rule; needs a reason
_WAIVER_KEYS = {"rule", "address", "reason", "owner", "expires"}
_T = TypeVar("_T", bound=str)


@dataclass(frozen=True)
class Config:
    """Enforcement overrides, gate thresholds, waivers and the data the rules read."""

    fail_on: Enforcement = "mandatory"
    severity_threshold: Severity = "low"
    min_deletion_window_days: int | None = None
    enforcement: Mapping[str, Enforcement] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    files: tuple[str, ...] = ()
    off: Mapping[str, str] = field(default_factory=dict)  # rule id -> why it is switched off
    only_rules: tuple[str, ...] = ()
    skip_rules: tuple[str, ...] = ()
    baseline: Baseline | None = None
    extra_rules: Path | None = None  # an organisation's rules, added to the pack

    def rule_data(self) -> dict[str, Any]:
        """What the rules see as `data.tfgen_config` (absent keys take the rules' defaults)."""
        data: dict[str, Any] = {}
        if self.min_deletion_window_days is not None:
            data["min_deletion_window_days"] = self.min_deletion_window_days
        return data

    def with_flags(
        self, fail_on: str | None = None, severity_threshold: str | None = None
    ) -> Config:
        """Overrides (the command line's) win over the file."""
        changes: dict[str, Any] = {}
        if fail_on is not None:
            changes["fail_on"] = _choice("fail_on", fail_on, ENFORCEMENTS)
        if severity_threshold is not None:
            changes["severity_threshold"] = _choice(
                "severity_threshold", severity_threshold, SEVERITIES
            )
        return replace(self, **changes)

    def with_selection(self, only: Sequence[str] = (), skip: Sequence[str] = ()) -> Config:
        """Command-line rule selection: evaluate only these rules, and/or skip these."""
        return replace(self, only_rules=tuple(only), skip_rules=tuple(skip))

    def with_baseline(self, baseline: Baseline | None) -> Config:
        """Compare findings with this baseline: the ones it holds do not block."""
        return replace(self, baseline=baseline)

    def skipped(self, known: Iterable[str]) -> dict[str, str]:
        """The rules of the pack this config switches off, each with why."""
        why: dict[str, str] = {}
        for rule_id in sorted(known):
            if self.only_rules and rule_id not in self.only_rules:
                why[rule_id] = "not an --only-rule"
            elif rule_id in self.skip_rules:
                why[rule_id] = "--skip-rule"
            elif rule_id in self.off:
                why[rule_id] = f"off: {self.off[rule_id]}"
        return why


def find_config_files(start: Path) -> list[Path]:
    """The config files of the nearest directory at or above `start` that has any (stops at .git)."""
    for directory in (start.resolve(), *start.resolve().parents):
        found = [p for p in (directory / PYPROJECT, directory / CONFIG_FILE) if p.is_file()]
        found = [p for p in found if p.name == CONFIG_FILE or "tfgen" in _read(p).get("tool", {})]
        if found or (directory / ".git").exists():
            return found
    return []


def load_config(explicit: Path | None = None, start: Path | None = None) -> Config:
    """`--config FILE` if given, else the files found from `start` (default: the current dir)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such config file")
        paths = [explicit]
    else:
        paths = find_config_files(start or Path.cwd())
    return merge([(str(p), _table(p)) for p in paths])


def loads_config(text: str, source: str = CONFIG_FILE) -> Config:
    """Parse one config document given as text (a `.tfgen.toml` or a pyproject.toml)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML ({exc})") from exc
    return merge([(source, _section(source, data))])


def merge(tables: Sequence[tuple[str, Mapping[str, Any]]]) -> Config:
    """One Config from several files; a key set in two files is an error, waivers add up."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    enforcement: dict[str, Enforcement] = {}
    off: dict[str, str] = {}
    waivers: list[Waiver] = []
    for source, table in tables:
        parsed = _parse(source, table)
        for key in ("fail_on", "severity_threshold", "min_deletion_window_days", "extra_rules"):
            if key in parsed:
                if key in values:
                    raise ConfigError(f"{source}: {key} is also set in {origin[key]}")
                values[key], origin[key] = parsed[key], source
        for rule_id, level in parsed["enforcement"].items():
            if rule_id in enforcement or rule_id in off:
                raise ConfigError(f"{source}: rules.{rule_id} is also set in another config file")
            if level == OFF:
                off[rule_id] = parsed["reasons"][rule_id]
            else:
                enforcement[rule_id] = level
        waivers.extend(parsed["waivers"])
    return Config(
        **values,
        enforcement=enforcement,
        waivers=tuple(waivers),
        files=tuple(source for source, _ in tables),
        off=off,
    )


def check_rule_ids(config: Config, known: set[str]) -> None:
    """Every rule id the config and the selection flags name must exist in the rule pack."""
    listing = ", ".join(sorted(known))
    for flag, ids in (("--only-rule", config.only_rules), ("--skip-rule", config.skip_rules)):
        for rule_id in ids:
            if rule_id not in known:
                raise InputError(flag, f"unknown rule id {rule_id!r} (known: {listing})")
    named = {*config.enforcement, *config.off, *(w.rule_id for w in config.waivers)}
    for rule_id in sorted(named):
        if rule_id not in known:
            where = ", ".join(config.files) or "config"
            raise ConfigError(f"{where}: unknown rule id {rule_id!r} (known: {listing})")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc


def _table(path: Path) -> Mapping[str, Any]:
    return _section(str(path), _read(path))


def _section(source: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """pyproject.toml keeps the settings under [tool.tfgen]; .tfgen.toml at the top level."""
    if Path(source).name != PYPROJECT:
        return data
    tool = data.get("tool", {})
    section = tool.get("tfgen", {}) if isinstance(tool, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: [tool.tfgen] must be a table")
    return section


def _parse(source: str, table: Mapping[str, Any]) -> dict[str, Any]:
    _no_unknown_keys(source, "", table, _TOP_KEYS)
    out: dict[str, Any] = {}
    if "fail_on" in table:
        out["fail_on"] = _choice(f"{source}: fail_on", table["fail_on"], ENFORCEMENTS)
    if "severity_threshold" in table:
        out["severity_threshold"] = _choice(
            f"{source}: severity_threshold", table["severity_threshold"], SEVERITIES
        )
    if "extra_rules" in table:
        extra = table["extra_rules"]
        if not isinstance(extra, str) or not extra.strip():
            raise ConfigError(f"{source}: extra_rules must be a directory path, got {extra!r}")
        out["extra_rules"] = Path(source).parent / extra  # relative to the config file
    if "min_deletion_window_days" in table:
        days = table["min_deletion_window_days"]
        if type(days) is not int or not MIN_WINDOW <= days <= MAX_WINDOW:
            raise ConfigError(
                f"{source}: min_deletion_window_days must be an integer from "
                f"{MIN_WINDOW} to {MAX_WINDOW}, got {days!r}"
            )
        out["min_deletion_window_days"] = days
    rules = table.get("rules", {})
    if not isinstance(rules, dict):
        raise ConfigError(f"{source}: rules must be a table of rule ids")
    enforcement: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for rule_id, settings in rules.items():
        if not isinstance(settings, dict):
            raise ConfigError(f"{source}: rules.{rule_id} must be a table")
        _no_unknown_keys(source, f"rules.{rule_id}.", settings, _RULE_KEYS)
        if "enforcement" not in settings:
            raise ConfigError(f"{source}: rules.{rule_id} needs enforcement")
        enforcement[rule_id] = _choice(
            f"{source}: rules.{rule_id}.enforcement", settings["enforcement"], (*ENFORCEMENTS, OFF)
        )
        reason = settings.get("reason", "")
        if not isinstance(reason, str) or (enforcement[rule_id] == OFF and not reason.strip()):
            raise ConfigError(
                f'{source}: rules.{rule_id}: enforcement = "off" needs reason = "why it is off"'
            )
        reasons[rule_id] = " ".join(reason.split())
    out["enforcement"] = enforcement
    out["reasons"] = reasons
    waivers = table.get("waivers", [])
    if not isinstance(waivers, list):
        raise ConfigError(f"{source}: waivers must be an array of tables ([[waivers]])")
    out["waivers"] = [_waiver(source, i, w) for i, w in enumerate(waivers, 1)]
    return out


def _waiver(source: str, index: int, entry: object) -> Waiver:
    where = f"{source}: waiver #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    _no_unknown_keys(source, f"waiver #{index}: ", entry, _WAIVER_KEYS)
    for key in sorted(_WAIVER_KEYS):
        if key not in entry:
            raise ConfigError(f"{where}: missing {key}")
    for key in ("rule", "address", "reason", "owner"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    return Waiver(
        rule_id=entry["rule"],
        address=entry["address"],
        reason=entry["reason"],
        owner=entry["owner"],
        expires=_date(where, entry["expires"]).isoformat(),
    )


def _date(where: str, value: object) -> dt.date:
    """A TOML date (expires = 2027-01-31) or the same as an ISO string; never a datetime."""
    if isinstance(value, dt.datetime):
        raise ConfigError(f"{where}: expires must be a date like 2027-01-31, not a date-time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: expires must be a date like 2027-01-31, got {value!r}")


def _choice(where: str, value: object, allowed: tuple[_T, ...]) -> _T:
    if value not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _no_unknown_keys(source: str, prefix: str, table: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(known))})"
        )
