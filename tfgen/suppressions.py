"""Inline suppressions: `# tfgen:ignore=ID[,ID] reason="..." [expires=YYYY-MM-DD]` in `.tf` files.

One comment (`#` or `//`) inside a resource, data or module block, or on the line directly above
it, waives those rules' findings for that block; on a module block, for every resource the call
creates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tfgen.errors import InputError
from tfgen.model import Finding, PlanInfo, SourceLocation, Waiver
from tfgen.sources import SourceMap, parse_address

MARKER = "tfgen:ignore"
_COMMENT = re.compile(r"(?:#|//)\s*tfgen:ignore\b(.*)$")
_OPTION = re.compile(r'\s+(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)')
_HEADER = re.compile(
    r'^[ \t]*(resource|data|module)[ \t]+"?([\w-]+)"?(?:[ \t]+"?([\w-]+)"?)?[ \t]*\{'
)
_KINDS = ("resource", "data", "module")

Block = tuple[str, ...]  # ("resource", type, name), ("data", type, name) or ("module", name)


@dataclass(frozen=True)
class Suppression:
    """One `tfgen:ignore` comment and the block it belongs to."""

    rule_ids: tuple[str, ...]
    reason: str
    expires: dt.date | None
    location: SourceLocation
    directory: Path
    block: Block

    def expired(self, today: dt.date) -> bool:
        """Waives up to the day before its expiry date, like the config's waivers."""
        return self.expires is not None and self.expires <= today


def block_spans(text: str) -> list[tuple[int, int, Block]]:
    """The top-level resource, data and module blocks: first line, last line, labels."""
    import hcl2  # imported with lark only by runs that read .tf files (~0.1 s)
    from lark.exceptions import LarkError

    try:
        tree = hcl2.parses_to_tree(text)
    except (LarkError, ValueError, RecursionError):  # python-hcl2 misses some valid HCL
        return _scan_spans(text)
    spans = []
    body = next(iter(tree.children), None)
    for node in getattr(body, "children", ()):
        if getattr(node, "data", None) != "block":
            continue
        labels = tuple(
            "".join(str(t) for t in c.scan_values(lambda _: True)).strip('"')
            for c in node.children
            if getattr(c, "data", None) in ("identifier", "string")
        )
        if labels and labels[0] in _KINDS:
            spans.append((node.meta.line, node.meta.end_line, labels))
    return spans


def _scan_spans(text: str) -> list[tuple[int, int, Block]]:
    """Brace counting from each block header, for files python-hcl2 cannot parse."""
    lines = text.splitlines()
    spans = []
    index = 0
    while index < len(lines):
        match = _HEADER.match(lines[index])
        if not match:
            index += 1
            continue
        depth, end = 0, index
        for end in range(index, len(lines)):
            code = re.sub(r'"(?:[^"\\]|\\.)*"', "", lines[end])
            depth += code.count("{") - code.count("}")
            if depth <= 0:
                break
        spans.append((index + 1, end + 1, tuple(g for g in match.groups() if g)))
        index = end + 1
    return spans


def attached_block(spans: Sequence[tuple[int, int, Block]], line: int) -> Block | None:
    """The block a comment on `line` belongs to: the one around it, or the one starting below it."""
    for first, last, labels in spans:
        if first <= line <= last or first == line + 1:
            return labels
    return None


def parse_comment(
    rest: str, where: str, known: Collection[str]
) -> tuple[tuple[str, ...], str, dt.date | None]:
    """The rule ids, reason and expiry date of the text after `tfgen:ignore`."""
    if not rest.startswith("="):
        raise InputError(where, f'{MARKER} needs rule ids: {MARKER}=KMS-001 reason="..."')
    ids_text, _, options = rest[1:].partition(" ")
    ids = tuple(i.strip() for i in ids_text.split(","))
    if any("*" in i for i in ids):
        raise InputError(where, f"{MARKER} takes rule ids, not '*': name each rule it waives")
    if not all(ids):
        raise InputError(where, f"{MARKER}: empty rule id in {ids_text!r}")
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InputError(
            where, f"{MARKER}: unknown rule id {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    values: dict[str, str] = {}
    pos = 0
    text = " " + options
    while text[pos:].strip():
        match = _OPTION.match(text, pos)
        if not match:
            raise InputError(where, f"{MARKER}: cannot read {text[pos:].strip()!r}")
        key, value = match.groups()
        if key not in ("reason", "expires"):
            raise InputError(where, f"{MARKER}: unknown option {key} (allowed: reason, expires)")
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        values[key] = value
        pos = match.end()
    reason = values.get("reason", "").strip()
    if not reason:
        raise InputError(where, f'{MARKER} needs reason="why this finding is accepted"')
    expires = None
    if "expires" in values:
        try:
            expires = dt.date.fromisoformat(values["expires"])
        except ValueError:
            raise InputError(
                where,
                f"{MARKER}: expires must be a date like 2027-03-31, got {values['expires']!r}",
            ) from None
    return ids, " ".join(reason.split()), expires


def scan_file(path: Path, shown: str, known: Collection[str]) -> list[Suppression]:
    """The suppressions of one `.tf` file; `shown` is the file name reported in locations."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(shown, f"cannot read ({exc})") from exc
    if MARKER not in text:
        return []
    spans: list[tuple[int, int, Block]] | None = None
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _COMMENT.search(line)
        if not match:
            continue
        where = f"{shown}:{number}"
        ids, reason, expires = parse_comment(match.group(1).rstrip(), where, known)
        spans = block_spans(text) if spans is None else spans
        block = attached_block(spans, number)
        if block is None:
            raise InputError(
                where,
                f"{MARKER} must be inside a resource, data or module block or on the line "
                "directly above one",
            )
        found.append(
            Suppression(ids, reason, expires, SourceLocation(shown, number), path.parent, block)
        )
    return found


class InlineSuppressions:
    """The suppressions in the sources of a batch of plans, and which findings they cover."""

    def __init__(self, maps: Mapping[str, SourceMap], suppressions: Sequence[Suppression]) -> None:
        self._maps = maps
        self.suppressions = tuple(suppressions)
        self._index: dict[tuple[Path, Block], list[int]] = {}
        for number, item in enumerate(self.suppressions):
            self._index.setdefault((item.directory, item.block), []).append(number)

    def covering(self, finding: Finding) -> list[int]:
        """Indices of the suppressions naming this finding's rule on its block or a module call."""
        sources = self._maps.get(finding.plan)
        if sources is None or not self._index:
            return []
        address = parse_address(finding.address)
        if address is None:
            return []
        dirs = sources.module_dirs(address.modules)
        kind = "data" if address.mode == "data" else "resource"
        keys: list[tuple[Path | None, Block]] = [(dirs[-1], (kind, address.type, address.name))]
        keys += [(dirs[i], ("module", name)) for i, name in enumerate(address.modules)]
        return [
            number
            for directory, block in keys
            if directory is not None
            for number in self._index.get((directory, block), ())
            if finding.rule_id in self.suppressions[number].rule_ids
        ]

    def waiving(self, today: dt.date) -> Waiving:
        """A fresh pass that waives the findings these comments cover."""
        return Waiving(self, today)


class Waiving:
    """Waives covered findings one at a time (unless already waived); then notices of the expired
    and stale comments."""

    def __init__(self, inline: InlineSuppressions, today: dt.date) -> None:
        self.inline = inline
        self.today = today
        self._used: set[tuple[int, str]] = set()
        self._expired_hits: dict[int, int] = {}

    def __call__(self, finding: Finding) -> Finding:
        chosen = None
        for number in self.inline.covering(finding):
            item = self.inline.suppressions[number]
            self._used.add((number, finding.rule_id))
            if item.expired(self.today):
                self._expired_hits[number] = self._expired_hits.get(number, 0) + 1
            elif chosen is None:
                chosen = item
        if chosen is not None and finding.waiver is None:
            return replace(finding, waiver=_waiver(chosen, finding))
        return finding

    def notices(self) -> tuple[str, ...]:
        notices = []
        for number, item in enumerate(self.inline.suppressions):
            where = f"{item.location.file}:{item.location.line}"
            if item.expired(self.today):
                hits = self._expired_hits.get(number, 0)
                notices.append(
                    f"expired {MARKER}={','.join(item.rule_ids)} at {where} on {item.expires}: "
                    + (
                        f"{hits} finding(s) it matched are no longer waived"
                        if hits
                        else "remove it"
                    )
                )
                continue
            for rule_id in item.rule_ids:
                if (number, rule_id) not in self._used:
                    notices.append(
                        f"stale {MARKER}={rule_id} at {where} matches no finding; remove it"
                    )
        return tuple(notices)


def _waiver(item: Suppression, finding: Finding) -> Waiver:
    return Waiver(
        rule_id=finding.rule_id,
        address=finding.address,
        reason=item.reason,
        owner=f"{MARKER} at {item.location.file}:{item.location.line}",
        expires=item.expires.isoformat() if item.expires else "",
        location=item.location,
    )


def read_suppressions(
    plans: Sequence[tuple[PlanInfo, Mapping[str, Any]]],
    source_dirs: Mapping[str, Path],
    base: Path,
    known: Collection[str],
) -> InlineSuppressions:
    """Every `tfgen:ignore` in the user's own modules (root and local calls) of plans with sources."""
    maps = {
        info.path: SourceMap(plan, source_dirs[info.path], base)
        for info, plan in plans
        if info.path in source_dirs
    }
    return suppressions_in(maps, known)


def suppressions_in(maps: Mapping[str, SourceMap], known: Collection[str]) -> InlineSuppressions:
    """Every `tfgen:ignore` in the user's own modules (root and local calls) of these sources."""
    seen: dict[Path, list[Suppression]] = {}
    for sources in maps.values():
        for directory in sorted(sources.local_dirs()):
            for path in sorted(directory.glob("*.tf")):
                if path not in seen and path.is_file():
                    seen[path] = scan_file(path, sources.relative(path), known)
    return InlineSuppressions(maps, [s for found in seen.values() for s in found])
