"""The review policy applied to a report: enforcement overrides, waivers, threshold, fail-on."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace

from tfgen.config import Config, check_rule_ids
from tfgen.model import SEVERITIES, Finding, Report, Severity, Waiver
from tfgen.spool import transform
from tfgen.suppressions import InlineSuppressions


def address_matches(pattern: str, address: str) -> bool:
    """Glob match where `*` is any run of characters and `?` one; `[`, `]` and `"` are literal."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, address) is not None


def expired(waiver: Waiver, today: dt.date) -> bool:
    """A waiver waives up to the day before its expiry date (as Trivy's `exp:`)."""
    return dt.date.fromisoformat(waiver.expires) <= today


class Waivers:
    """Marks waived findings one at a time (kept, never hidden); then notices of the expired and
    stale waivers."""

    def __init__(self, waivers: Sequence[Waiver], today: dt.date) -> None:
        self.waivers = tuple(waivers)
        self.today = today
        self._used: set[int] = set()
        self._expired_hits: dict[int, int] = {}

    def __call__(self, finding: Finding) -> Finding:
        waiver = None
        for index, candidate in enumerate(self.waivers):
            if candidate.rule_id != finding.rule_id or not address_matches(
                candidate.address, finding.address
            ):
                continue
            if expired(candidate, self.today):
                self._expired_hits[index] = self._expired_hits.get(index, 0) + 1
            elif waiver is None:
                waiver = candidate
                self._used.add(index)
        return replace(finding, waiver=waiver) if waiver else finding

    def notices(self) -> tuple[str, ...]:
        notices: list[str] = []
        for index, waiver in enumerate(self.waivers):
            what = f"waiver {waiver.rule_id} {waiver.address} (owner {waiver.owner})"
            if expired(waiver, self.today):
                hits = self._expired_hits.get(index, 0)
                effect = (
                    f"{hits} finding(s) it matched are no longer waived"
                    if hits
                    else "it matches no finding either; remove it"
                )
                notices.append(f"expired {what} on {waiver.expires}: {effect}")
            elif index not in self._used:
                notices.append(f"stale {what} matches no finding; remove it")
        return tuple(notices)


def at_or_above(severity: Severity, threshold: Severity) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def finalize(
    report: Report,
    config: Config,
    today: dt.date,
    inline: InlineSuppressions | None = None,
) -> Report:
    """The report as the gate sees it under this config and these inline suppressions on this day.

    One pass over the findings, chunk by chunk (a spool stays a spool).
    """
    known = {rule.rule_id for rule in report.rules}
    if known:
        check_rule_ids(config, known)
    waive = Waivers(config.waivers, today)
    suppress = inline.waiving(today) if inline is not None else None
    baselined = config.baseline.marking() if config.baseline is not None else None
    skipped = config.skipped(known)
    hidden = 0

    def judge(chunk: list[Finding]) -> list[Finding]:
        nonlocal hidden
        shown = []
        for finding in chunk:
            if finding.rule_id in config.enforcement:
                finding = replace(finding, enforcement=config.enforcement[finding.rule_id])
            finding = waive(finding)
            if suppress is not None:
                finding = suppress(finding)
            if baselined is not None:
                finding = baselined(finding)
            if finding.rule_id in skipped:
                continue
            if at_or_above(finding.severity, config.severity_threshold):
                shown.append(finding)
            else:
                hidden += 1
        return shown

    findings = transform(report.findings, judge)
    notices = waive.notices()
    if suppress is not None:
        notices += suppress.notices()
    if baselined is not None:
        notices += baselined.notices()
    if skipped:
        listed = ", ".join(f"{rule_id} ({why})" for rule_id, why in skipped.items())
        notices += (f"{len(skipped)} rule(s) skipped, their findings not reported: {listed}",)
    if hidden:
        notices += (
            f"{hidden} finding(s) below severity threshold {config.severity_threshold} not shown",
        )
    return replace(
        report,
        findings=findings,
        notices=report.notices + notices,
        fail_on=config.fail_on,
        skipped_rules=tuple(skipped.items()),
        baseline=config.baseline.source if config.baseline is not None else "",
    )
