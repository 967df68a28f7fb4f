"""The rule pack: where it is, its catalog from METADATA, and its digest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURE_PACK, copy_pack

from tfgen import __version__
from tfgen.errors import InputError
from tfgen.rulepack import RulePack, find_pack

PACK = FIXTURE_PACK


def test_catalog_is_read_from_metadata() -> None:
    rules = {r.rule_id: r for r in find_pack(PACK).rules}
    assert sorted(rules) == ["FIX-001", "FIX-002"]
    rotation = rules["FIX-001"]
    assert (rotation.severity, rotation.enforcement) == ("high", "mandatory")
    assert rotation.package == "tfgen.rules.kms.rotation"
    assert rotation.file == "tfgen/rules/kms/rotation/rotation.rego"
    assert rotation.resource_types == ("aws_kms_key",)
    assert rotation.frameworks == ("AWS Security Hub KMS.4",)
    assert rotation.related_resources[0].ref.startswith("https://docs.aws.amazon.com/kms/")
    assert rules["FIX-002"].frameworks == ()
    assert find_pack(PACK).version == __version__  # the pack carries tfgen's version


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda s: s.replace("# METADATA\n", ""), "no METADATA block"),
        (lambda s: s.replace("#   severity: high\n", ""), "lacks custom.severity"),
        (lambda s: s.replace("severity: high", "severity: urgent"), "custom.severity 'urgent'"),
        (lambda s: s.replace("enforcement: mandatory", "enforcement: maybe"), "mandatory|advisory"),
        (lambda s: s.replace("# title: Fixture", "# title: [Fixture"), "not valid YAML"),
        (lambda s: s.replace("id: FIX-001", "id: FIX-002"), "rule id FIX-002 also used"),
    ],
)
def test_bad_metadata_is_an_input_error(tmp_path: Path, edit: Any, reason: str) -> None:
    root = copy_pack(tmp_path)
    rule = root / "tfgen" / "rules" / "kms" / "rotation" / "rotation.rego"
    rule.write_text(edit(rule.read_text()))
    with pytest.raises(InputError, match=reason):
        _ = find_pack(root).rules


def test_find_pack_refuses_a_directory_without_main(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a rule pack"):
        find_pack(tmp_path)


def test_digest_follows_policy_files_not_tests(tmp_path: Path) -> None:
    root = copy_pack(tmp_path)
    before = RulePack(root).digest
    (root / "tfgen" / "rules" / "kms" / "rotation" / "rotation_test.rego").write_text(
        "package x_test\n"
    )
    assert RulePack(root).digest == before
    rule = root / "tfgen" / "rules" / "kms" / "rotation" / "rotation.rego"
    rule.write_text(rule.read_text() + "\n# changed\n")
    assert RulePack(root).digest != before
