"""The vocabulary shared by engines, reports, waivers and the CLI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Severity = Literal["critical", "high", "medium", "low"]
Enforcement = Literal["mandatory", "advisory"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class SourceLocation:
    """Where in the Terraform sources a finding's resource is declared."""

    file: str
    line: int


@dataclass(frozen=True)
class Waiver:
    """An accepted finding: rule id and address pattern, with who, why and until when.

    An inline `tfgen:ignore` comment has its `location`, and `expires` "" when it never ends.
    """

    rule_id: str
    address: str
    reason: str
    owner: str
    expires: str
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Finding:
    """One rule result for one resource in one plan."""

    rule_id: str
    title: str
    severity: Severity
    enforcement: Enforcement
    address: str
    resource_type: str
    message: str
    plan: str
    location: SourceLocation | None = None
    waiver: Waiver | None = None
    details: dict[str, Any] = field(default_factory=dict)
    baselined: bool = False  # in the baseline given: reported, never blocking

    @property
    def accepted(self) -> bool:
        """Covered by a valid waiver or by the baseline."""
        return self.waiver is not None or self.baselined

    @property
    def blocking(self) -> bool:
        """A mandatory finding that no valid waiver and no baseline covers."""
        return self.enforcement == "mandatory" and not self.accepted


# What the gate's verdict and the counts need of a finding: enforcement, severity, waived, baselined.
Kind = tuple[Enforcement, Severity, bool, bool]


def kind(finding: Finding) -> Kind:
    return (finding.enforcement, finding.severity, finding.waiver is not None, finding.baselined)


@runtime_checkable
class Tallied(Protocol):
    """A findings collection that keeps its own counts (a spool does not hold its findings)."""

    def tally(self) -> dict[Kind, int]: ...


def tally(findings: Iterable[Finding]) -> dict[Kind, int]:
    """How many findings of each kind, the kinds in the order they first occur."""
    if isinstance(findings, Tallied):
        return findings.tally()
    counts: dict[Kind, int] = {}
    for finding in findings:
        key = kind(finding)
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class RelatedResource:
    ref: str
    description: str = ""


@dataclass(frozen=True)
class RuleMeta:
    """A rule's catalog entry, read from its METADATA block (the single source of rule text)."""

    rule_id: str
    title: str
    description: str
    severity: Severity
    enforcement: Enforcement
    remediation: str
    package: str
    file: str
    resource_types: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    related_resources: tuple[RelatedResource, ...] = ()


@dataclass(frozen=True)
class PlanInfo:
    """One plan that was read and evaluated."""

    path: str
    format_version: str
    terraform_version: str
    resources: int
    revision: str = ""  # the bundle revisions that judged it (OPA servers), '' if not known


@dataclass(frozen=True)
class Report:
    """Everything one `tfgen check`/`tfgen plan` run found; every output format renders this."""

    tool: dict[str, str]
    plans: tuple[PlanInfo, ...]
    findings: Sequence[Finding]  # a tuple, or a spool (tfgen.spool) for batches
    rules: tuple[RuleMeta, ...]
    errors: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    fail_on: Enforcement = "mandatory"
    skipped_rules: tuple[tuple[str, str], ...] = ()  # (rule id, why): findings not reported
    baseline: str = ""  # the baseline file the findings were compared with, if any

    def blocks(self, finding: Finding) -> bool:
        """Whether this finding fails the gate: unwaived, and mandatory unless fail_on is advisory."""
        return self.blocks_kind(kind(finding))

    def blocks_kind(self, key: Kind) -> bool:
        """Whether findings of this kind fail the gate."""
        enforcement, _, waived, baselined = key
        accepted = waived or baselined
        return not accepted and (enforcement == "mandatory" or self.fail_on == "advisory")

    @property
    def exit_code(self) -> int:
        """2 on any error, 1 on a blocking finding, else 0."""
        if self.errors:
            return 2
        return 1 if any(self.blocks_kind(key) for key in tally(self.findings)) else 0
