"""The rule catalog is a public contract: ids, enforcement, layout and entry points per rule."""

from __future__ import annotations

import re

import pytest
import yaml
from helpers import REGO

from tfgen import __version__
from tfgen.model import RuleMeta
from tfgen.rulepack import find_pack, is_test_only

# The rule catalog: reports, waivers and docs use these ids.
CATALOG = {
    "KMS-001": "mandatory",
    "KMS-002": "advisory",
    "KMS-003": "mandatory",
    "KMS-004": "mandatory",
    "KMS-005": "mandatory",
    "KMS-010": "mandatory",
    "KMS-011": "mandatory",
    "KMS-012": "advisory",
    "KMS-013": "mandatory",
    "KMS-020": "mandatory",
    "KMS-021": "mandatory",
    "KMS-022": "advisory",
    "KMS-023": "mandatory",
    "CT-001": "mandatory",
    "CT-002": "mandatory",
}

RULES = find_pack(REGO).rules


def test_pack_version_is_the_tool_version() -> None:
    assert find_pack(REGO).version == __version__


def test_catalog_ids_and_enforcement() -> None:
    assert {r.rule_id: r.enforcement for r in RULES} == CATALOG


@pytest.mark.parametrize("rule", RULES, ids=[r.rule_id for r in RULES])
def test_rule_layout_and_entry_point(rule: RuleMeta) -> None:
    """tfgen/rules/<group>/<name>/<name>.rego, package tfgen.rules.<group>.<name>, test beside it,
    `deny` for mandatory and `warn` for advisory, results built by the one constructor."""
    path = REGO / rule.file
    group, name = path.parent.parent.name, path.parent.name
    assert path.name == f"{name}.rego"
    assert rule.package == f"tfgen.rules.{group}.{name}"
    assert group == ("cloudtrail" if rule.rule_id.startswith("CT-") else "kms")
    test = path.with_name(f"{name}_test.rego")
    assert f"package tfgen.rules.{group}.{name}_test" in test.read_text(encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    wanted = "deny" if rule.enforcement == "mandatory" else "warn"
    heads = re.findall(r"^(deny|warn) contains (\S+)\(rego\.metadata\.chain\(\)", text, re.M)
    assert heads, "no deny/warn rule built with rego.metadata.chain()"
    assert {kind for kind, _ in heads} == {wanted}
    assert {ctor for _, ctor in heads} <= {"result.fail", "result.fail_with"}
    assert rule.related_resources and rule.remediation and rule.resource_types
    assert all(ref.ref.startswith("https://") for ref in rule.related_resources)


def test_test_builders_are_a_library_left_out_of_the_pack() -> None:
    """tfgen/lib/testing is an ordinary package only tests import; the pack's sources (what is
    built, bundled, served and digested) leave it and the test files out."""
    builders = REGO / "tfgen" / "lib" / "testing" / "testing.rego"
    assert builders.read_text(encoding="utf-8").count("package tfgen.lib.testing\n") == 1
    sources = {p.relative_to(REGO).as_posix() for p in find_pack(REGO).sources}
    assert "tfgen/lib/policy/policy.rego" in sources
    assert not [
        s for s in sources if s.endswith("_test.rego") or s.startswith("tfgen/lib/testing/")
    ]
    policies = [p for p in REGO.rglob("*.rego") if not is_test_only(p.relative_to(REGO))]
    assert not [p for p in policies if "data.tfgen.lib.testing" in p.read_text(encoding="utf-8")]


def test_regal_config_gives_a_reason_for_every_exception() -> None:
    """.regal/config.yaml: each ignored file exists and has a comment saying why just above it."""
    config = REGO.parent / ".regal" / "config.yaml"
    lines = config.read_text(encoding="utf-8").splitlines()
    parsed = yaml.safe_load("\n".join(lines))
    ignored = [
        path
        for category in parsed["rules"].values()
        for rule in category.values()
        for path in rule.get("ignore", {}).get("files", [])
    ]
    assert ignored
    assert all((REGO.parent / path).is_file() for path in ignored), ignored
    rules = lines.index("rules:")
    entries = [at for at, line in enumerate(lines) if at > rules and line.strip().startswith("- ")]
    assert len(entries) == len(ignored)
    assert all(lines[at - 1].strip().startswith("#") for at in entries)
