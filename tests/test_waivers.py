"""tfgen.waivers: enforcement overrides, waivers (waived/expired/stale), threshold and fail-on."""

from __future__ import annotations

import datetime as dt

import pytest

from tfgen.config import Config, loads_config
from tfgen.errors import ConfigError
from tfgen.model import Finding, Report, RuleMeta, Severity, Waiver
from tfgen.waivers import Waivers, address_matches, finalize

TODAY = dt.date(2026, 11, 28)


def finding(
    rule_id: str = "KMS-001",
    address: str = "aws_kms_key.this",
    severity: Severity = "high",
    enforcement: str = "mandatory",
) -> Finding:
    return Finding(
        rule_id=rule_id,
        title="t",
        severity=severity,
        enforcement="advisory" if enforcement == "advisory" else "mandatory",
        address=address,
        resource_type="aws_kms_key",
        message="m",
        plan="plan.json",
    )


def rule(rule_id: str) -> RuleMeta:
    return RuleMeta(rule_id, "t", "d", "high", "mandatory", "r", "p", "f")


def report(*findings: Finding) -> Report:
    return Report(
        tool={"name": "tfgen"},
        plans=(),
        findings=findings,
        rules=(rule("KMS-001"), rule("KMS-002"), rule("KMS-012")),
    )


def waiver(
    rule_id: str = "KMS-001", address: str = "aws_kms_key.*", expires: str = "2026-11-29"
) -> Waiver:
    return Waiver(rule_id, address, "accepted", "team@example.com", expires)


@pytest.mark.parametrize(
    ("pattern", "address", "matches"),
    [
        ("aws_kms_key.this", "aws_kms_key.this", True),
        ("aws_kms_key.*", "aws_kms_key.this", True),
        ("*", 'module.a.aws_kms_key.this["x"]', True),
        ('aws_kms_key.this["x"]', 'aws_kms_key.this["x"]', True),
        ('aws_kms_key.this["x"]', "aws_kms_key.thisx", False),
        ("module.logs.*", "module.logs.module.inner.aws_kms_key.this[0]", True),
        ("module.logs.*", "module.logsx.aws_kms_key.this", False),
        ("aws_kms_key.this[?]", "aws_kms_key.this[3]", True),
        ("aws_kms_key.this", "aws_kms_key.this[0]", False),
        ("aws_kms_key.t.is", "aws_kms_key.this", False),
    ],
)
def test_address_patterns(pattern: str, address: str, matches: bool) -> None:
    assert address_matches(pattern, address) is matches


def test_valid_waiver_marks_finding_and_gate_passes() -> None:
    out = finalize(report(finding()), Config(waivers=(waiver(),)), TODAY)
    assert out.findings[0].waiver == waiver()
    assert out.notices == ()
    assert out.exit_code == 0


def test_waiver_expires_on_its_date() -> None:
    """Valid through the day before `expires`; from that day on the finding blocks again."""
    for expires, code in (("2026-11-29", 0), ("2026-11-28", 1), ("2026-11-27", 1)):
        out = finalize(report(finding()), Config(waivers=(waiver(expires=expires),)), TODAY)
        assert out.exit_code == code, expires
        if code:
            assert out.findings[0].waiver is None
            assert out.notices == (
                f"expired waiver KMS-001 aws_kms_key.* (owner team@example.com) on {expires}: "
                "1 finding(s) it matched are no longer waived",
            )


def test_stale_and_expired_unmatched_waivers_are_reported() -> None:
    config = Config(
        waivers=(waiver("KMS-002"), waiver("KMS-012", expires="2020-01-01"), waiver()),
    )
    out = finalize(report(finding()), config, TODAY)
    assert out.exit_code == 0
    assert out.notices == (
        "stale waiver KMS-002 aws_kms_key.* (owner team@example.com) matches no finding; remove it",
        "expired waiver KMS-012 aws_kms_key.* (owner team@example.com) on 2020-01-01: "
        "it matches no finding either; remove it",
    )


def test_first_valid_waiver_wins_and_second_is_not_stale_if_it_matches_elsewhere() -> None:
    w1, w2 = waiver(address="aws_kms_key.a"), waiver(address="aws_kms_key.*")
    waive = Waivers([w1, w2], TODAY)
    findings = [waive(finding(address="aws_kms_key.a")), waive(finding(address="aws_kms_key.b"))]
    assert [f.waiver for f in findings] == [w1, w2]
    assert waive.notices() == ()


def test_enforcement_override_both_ways() -> None:
    findings = (finding("KMS-001"), finding("KMS-002", enforcement="advisory"))
    config = loads_config(
        "[rules.KMS-001]\nenforcement = 'advisory'\n[rules.KMS-002]\nenforcement = 'mandatory'\n"
    )
    out = finalize(report(*findings), config, TODAY)
    assert [f.enforcement for f in out.findings] == ["advisory", "mandatory"]
    assert out.exit_code == 1
    lowered = finalize(report(findings[0]), config, TODAY)
    assert lowered.exit_code == 0


def test_fail_on_advisory() -> None:
    advisory = finding(enforcement="advisory")
    assert finalize(report(advisory), Config(), TODAY).exit_code == 0
    strict = finalize(report(advisory), Config(fail_on="advisory"), TODAY)
    assert strict.exit_code == 1
    assert strict.blocks(strict.findings[0])
    waived = finalize(report(advisory), Config(fail_on="advisory", waivers=(waiver(),)), TODAY)
    assert waived.exit_code == 0


def test_severity_threshold_hides_lower_findings_after_waivers() -> None:
    low = finding("KMS-002", severity="low")
    high = finding("KMS-001", severity="high", address="aws_kms_key.other")
    config = Config(severity_threshold="high", waivers=(waiver("KMS-002"),))
    out = finalize(report(low, high), config, TODAY)
    assert out.findings == (high,)
    # The waiver matched the hidden finding, so it is not stale.
    assert out.notices == ("1 finding(s) below severity threshold high not shown",)
    assert finalize(report(low), Config(severity_threshold="medium"), TODAY).exit_code == 0
    assert finalize(report(low), Config(), TODAY).exit_code == 1


def test_unknown_rule_id_in_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown rule id 'KMS-999'"):
        finalize(report(finding()), Config(waivers=(waiver("KMS-999"),)), TODAY)


def test_errors_still_exit_2_whatever_waives() -> None:
    broken = Report({}, (), (finding(),), (rule("KMS-001"),), errors=("engine failed",))
    assert finalize(broken, Config(waivers=(waiver(),)), TODAY).exit_code == 2
