"""The vocabulary shared by engines, reports, waivers and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    """An accepted finding: rule id and address pattern, with who, why and until when."""

    rule_id: str
    address: str
    reason: str
    owner: str
    expires: str


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

    @property
    def blocking(self) -> bool:
        """A mandatory finding that no valid waiver covers."""
        return self.enforcement == "mandatory" and self.waiver is None
