"""Baselines: the findings a team accepts today, so only new ones block.

An entry is the rule id, the resource address and a digest of what caused the finding (the
rule's structured details: the policy statement, the attribute and its value), never the message
text, so rewording a rule does not turn old findings into new ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tfgen.errors import InputError
from tfgen.model import Finding

FORMAT_VERSION = 1
_KEYS = {"rule_id", "address", "cause"}


@dataclass(frozen=True, order=True)
class Entry:
    """One accepted finding."""

    rule_id: str
    address: str
    cause: str  # sha256 of the finding's details, canonical JSON


@dataclass(frozen=True)
class Baseline:
    """The accepted findings, and the file they came from (for messages)."""

    entries: frozenset[Entry]
    source: str = ""

    def marking(self) -> Marking:
        """A fresh pass that marks this baseline's findings."""
        return Marking(self)


def cause_digest(details: Any) -> str:
    """A stable digest of a finding's structured details (key order and spacing do not matter)."""
    text = json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def entry(finding: Finding) -> Entry:
    return Entry(finding.rule_id, finding.address, cause_digest(finding.details))


def from_findings(findings: Iterable[Finding]) -> Baseline:
    """The baseline of these findings; waived ones are left to their waivers (they can expire)."""
    return Baseline(frozenset(entry(f) for f in findings if f.waiver is None))


def dumps(baseline: Baseline) -> str:
    """Sorted, indented JSON with one entry per finding: stable, so it diffs well in review."""
    data = {
        "version": FORMAT_VERSION,
        "findings": [
            {"rule_id": e.rule_id, "address": e.address, "cause": e.cause}
            for e in sorted(baseline.entries)
        ],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(path: Path) -> Baseline:
    """Read a baseline file written by `tfgen baseline`; anything else is an input error."""
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(name, f"cannot read baseline ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(name, f"baseline is not JSON ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise InputError(name, f"not a tfgen baseline (version {FORMAT_VERSION} expected)")
    items = data.get("findings")
    if not isinstance(items, list):
        raise InputError(name, "baseline has no findings list")
    entries = set()
    for number, item in enumerate(items, 1):
        if (
            not isinstance(item, dict)
            or set(item) != _KEYS
            or not all(isinstance(item[k], str) and item[k] for k in _KEYS)
        ):
            raise InputError(
                name, f"baseline entry #{number} needs exactly {', '.join(sorted(_KEYS))}"
            )
        entries.add(Entry(item["rule_id"], item["address"], item["cause"]))
    return Baseline(frozenset(entries), name)


class Marking:
    """Marks the findings the baseline holds (reported, not blocking), one at a time; then notices
    of the entries not found."""

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self._seen: set[Entry] = set()

    def __call__(self, finding: Finding) -> Finding:
        key = entry(finding)
        if key not in self.baseline.entries:
            return finding
        self._seen.add(key)
        return replace(finding, baselined=True) if finding.waiver is None else finding

    def notices(self) -> tuple[str, ...]:
        resolved = sorted(self.baseline.entries - self._seen)
        return tuple(
            f"resolved baseline entry {e.rule_id} {e.address} in {self.baseline.source}: "
            "not found in this run; rewrite the baseline (tfgen baseline --force) to drop it"
            for e in resolved
        )
