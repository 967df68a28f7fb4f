"""The review policy applied to a report: enforcement overrides, waivers, threshold, fail-on."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from tfgen.baseline import apply as apply_baseline
from tfgen.config import Config, check_rule_ids
from tfgen.model import SEVERITIES, Finding, Report, Severity, Waiver
from tfgen.suppressions import InlineSuppressions


def address_matches(pattern: str, address: str) -> bool:
    """Glob match where `*` is any run of characters and `?` one; `[`, `]` and `"` are literal."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, address) is not None


def expired(waiver: Waiver, today: dt.date) -> bool:
    """A waiver waives up to the day before its expiry date (as Trivy's `exp:`)."""
    return dt.date.fromisoformat(waiver.expires) <= today


def apply_waivers(
    findings: Sequence[Finding], waivers: Sequence[Waiver], today: dt.date
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """Mark waived findings (kept, never hidden) and report expired and stale waivers."""
    used: set[int] = set()
    expired_hits: dict[int, int] = {}
    out: list[Finding] = []
    for finding in findings:
        waiver = None
        for index, candidate in enumerate(waivers):
            if candidate.rule_id != finding.rule_id or not address_matches(
                candidate.address, finding.address
            ):
                continue
            if expired(candidate, today):
                expired_hits[index] = expired_hits.get(index, 0) + 1
            elif waiver is None:
                waiver = candidate
                used.add(index)
        out.append(replace(finding, waiver=waiver) if waiver else finding)
    notices: list[str] = []
    for index, waiver in enumerate(waivers):
        what = f"waiver {waiver.rule_id} {waiver.address} (owner {waiver.owner})"
        if expired(waiver, today):
            hits = expired_hits.get(index, 0)
            effect = (
                f"{hits} finding(s) it matched are no longer waived"
                if hits
                else "it matches no finding either; remove it"
            )
            notices.append(f"expired {what} on {waiver.expires}: {effect}")
        elif index not in used:
            notices.append(f"stale {what} matches no finding; remove it")
    return tuple(out), tuple(notices)


def override_enforcement(findings: Iterable[Finding], config: Config) -> tuple[Finding, ...]:
    """Per-rule enforcement from the config replaces the rule's METADATA enforcement."""
    return tuple(
        replace(f, enforcement=config.enforcement[f.rule_id])
        if f.rule_id in config.enforcement
        else f
        for f in findings
    )


def at_or_above(severity: Severity, threshold: Severity) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def finalize(
    report: Report,
    config: Config,
    today: dt.date,
    inline: InlineSuppressions | None = None,
) -> Report:
    """The report as the gate sees it under this config and these inline suppressions on this day."""
    known = {rule.rule_id for rule in report.rules}
    if known:
        check_rule_ids(config, known)
    findings = override_enforcement(report.findings, config)
    findings, notices = apply_waivers(findings, config.waivers, today)
    if inline is not None:
        findings, inline_notices = inline.apply(findings, today)
        notices += inline_notices
    if config.baseline is not None:
        findings, baseline_notices = apply_baseline(findings, config.baseline)
        notices += baseline_notices
    skipped = config.skipped(known)
    if skipped:
        findings = tuple(f for f in findings if f.rule_id not in skipped)
        listed = ", ".join(f"{rule_id} ({why})" for rule_id, why in skipped.items())
        notices += (f"{len(skipped)} rule(s) skipped, their findings not reported: {listed}",)
    shown = tuple(f for f in findings if at_or_above(f.severity, config.severity_threshold))
    hidden = len(findings) - len(shown)
    if hidden:
        notices += (
            f"{hidden} finding(s) below severity threshold {config.severity_threshold} not shown",
        )
    return replace(
        report,
        findings=shown,
        notices=report.notices + notices,
        fail_on=config.fail_on,
        skipped_rules=tuple(skipped.items()),
        baseline=config.baseline.source if config.baseline is not None else "",
    )
