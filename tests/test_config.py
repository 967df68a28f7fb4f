"""tfgen.config: the [tool.tfgen] / .tfgen.toml schema, discovery, merging and every config error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfgen.config import Config, check_rule_ids, find_config_files, load_config, loads_config
from tfgen.errors import ConfigError, InputError
from tfgen.model import Waiver

FULL = """
fail_on = "advisory"
severity_threshold = "medium"
min_deletion_window_days = 14

[rules.KMS-012]
enforcement = "mandatory"

[[waivers]]
rule = "KMS-001"
address = "module.logs.aws_kms_key.*"
reason = "rotation handled by the HSM team"
owner = "team@example.com"
expires = 2027-01-31
"""


def test_full_document_parses() -> None:
    config = loads_config(FULL)
    assert config.fail_on == "advisory"
    assert config.severity_threshold == "medium"
    assert config.rule_data() == {"min_deletion_window_days": 14}
    assert config.enforcement == {"KMS-012": "mandatory"}
    assert config.waivers == (
        Waiver(
            rule_id="KMS-001",
            address="module.logs.aws_kms_key.*",
            reason="rotation handled by the HSM team",
            owner="team@example.com",
            expires="2027-01-31",
        ),
    )


def test_defaults() -> None:
    config = loads_config("")
    assert config == Config(files=(".tfgen.toml",))
    assert config.rule_data() == {}


def test_pyproject_reads_tool_tfgen_only() -> None:
    text = '[project]\nname = "x"\n[tool.tfgen]\nfail_on = "advisory"\n[tool.other]\nfoo = 1\n'
    assert loads_config(text, "pyproject.toml").fail_on == "advisory"


def test_flags_override_file() -> None:
    config = loads_config(FULL).with_flags(fail_on="mandatory", severity_threshold="high")
    assert (config.fail_on, config.severity_threshold) == ("mandatory", "high")
    with pytest.raises(ConfigError, match="fail_on must be one of"):
        config.with_flags(fail_on="sometimes")


WAIVER = 'rule = "KMS-001"\naddress = "a"\nreason = "r"\nowner = "o"\nexpires = 2027-01-31\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('fail_on = "never"', "fail_on must be one of mandatory, advisory, got 'never'"),
        ('severity_threshold = "urgent"', "severity_threshold must be one of critical"),
        ("min_deletion_window_days = 3", "min_deletion_window_days must be an integer from 7"),
        ('min_deletion_window_days = "30"', "min_deletion_window_days must be an integer"),
        ("min_deletion_window_days = true", "min_deletion_window_days must be an integer"),
        ("colour = 1", "unknown key colour"),
        ("[rules.KMS-001]\nseverity = 'low'", "unknown key rules.KMS-001.severity"),
        ("[rules.KMS-001]\n", "rules.KMS-001 needs enforcement"),
        ("[rules.KMS-001]\nenforcement = 'strict'", "rules.KMS-001.enforcement must be one of"),
        ("rules = 3", "rules must be a table"),
        ("waivers = 3", "waivers must be an array of tables"),
        ("[[waivers]]\n" + WAIVER.replace('owner = "o"\n', ""), "waiver #1: missing owner"),
        ("[[waivers]]\n" + WAIVER.replace('reason = "r"', 'reason = "  "'), "reason must be"),
        ("[[waivers]]\n" + WAIVER + "ticket = 'X-1'\n", "unknown key waiver #1: ticket"),
        ("[[waivers]]\n" + WAIVER.replace("2027-01-31", "2027-02-30"), "invalid TOML"),
        ("[[waivers]]\n" + WAIVER.replace("2027-01-31", '"31.01.2027"'), "expires must be a date"),
        ("[[waivers]]\n" + WAIVER.replace("2027-01-31", "2027-01-31T10:00:00"), "date-time"),
        ("[[waivers]]\n" + WAIVER.replace("2027-01-31", "20270131"), "expires must be a date"),
        ("fail_on = ", "invalid TOML"),
    ],
)
def test_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        loads_config(text)


def test_iso_string_date_is_accepted() -> None:
    config = loads_config("[[waivers]]\n" + WAIVER.replace("2027-01-31", '"2027-01-31"'))
    assert config.waivers[0].expires == "2027-01-31"


def test_unknown_rule_ids_are_rejected() -> None:
    config = loads_config(FULL)
    check_rule_ids(config, {"KMS-001", "KMS-012"})
    with pytest.raises(ConfigError, match="unknown rule id 'KMS-012'"):
        check_rule_ids(config, {"KMS-001"})


def test_discovery_nearest_directory_and_merge(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.tfgen]\nfail_on = "advisory"\n')
    (tmp_path / ".tfgen.toml").write_text("[[waivers]]\n" + WAIVER)
    sub = tmp_path / "infra" / "prod"
    sub.mkdir(parents=True)
    assert find_config_files(sub) == [tmp_path / "pyproject.toml", tmp_path / ".tfgen.toml"]
    config = load_config(start=sub)
    assert config.fail_on == "advisory"
    assert len(config.waivers) == 1
    # A pyproject.toml without [tool.tfgen] is not a tfgen config and does not stop the search.
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(start=sub).fail_on == "advisory"
    # The search stops at the repository root.
    assert find_config_files(tmp_path.parent) == []


def test_same_key_in_two_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tfgen]\nfail_on = "advisory"\n')
    (tmp_path / ".tfgen.toml").write_text('fail_on = "mandatory"\n')
    with pytest.raises(ConfigError, match=r"\.tfgen\.toml: fail_on is also set in .*pyproject"):
        load_config(start=tmp_path)


def test_explicit_config_file(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text('severity_threshold = "high"\n')
    assert load_config(path).severity_threshold == "high"
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")


def test_enforcement_off_needs_a_reason() -> None:
    config = loads_config(
        '[rules.KMS-002]\nenforcement = "off"\nreason = "deletion windows are set by the org SCP"\n'
    )
    assert config.off == {"KMS-002": "deletion windows are set by the org SCP"}
    assert "KMS-002" not in config.enforcement
    assert config.skipped({"KMS-001", "KMS-002"}) == {
        "KMS-002": "off: deletion windows are set by the org SCP"
    }
    with pytest.raises(ConfigError, match=r'rules.KMS-002: enforcement = "off" needs reason'):
        loads_config('[rules.KMS-002]\nenforcement = "off"\n')
    with pytest.raises(ConfigError, match=r"unknown rule id 'KMS-404'"):
        check_rule_ids(
            loads_config('[rules.KMS-404]\nenforcement = "off"\nreason = "x"\n'), {"KMS-001"}
        )


def test_selection_flags() -> None:
    known = {"KMS-001", "KMS-002", "CT-001"}
    only = Config().with_selection(only=["KMS-001"])
    assert only.skipped(known) == {"CT-001": "not an --only-rule", "KMS-002": "not an --only-rule"}
    skip = Config().with_selection(skip=["CT-001"])
    assert skip.skipped(known) == {"CT-001": "--skip-rule"}
    with pytest.raises(InputError, match=r"^--skip-rule: unknown rule id 'KMS-9'"):
        check_rule_ids(Config().with_selection(skip=["KMS-9"]), known)
    with pytest.raises(InputError, match=r"^--only-rule: unknown rule id 'kms-001'"):
        check_rule_ids(Config().with_selection(only=["kms-001"]), known)
