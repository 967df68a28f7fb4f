"""tfgen.sources: plan addresses to `.tf` file:line, through child modules, with fallbacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tfgen.model import Finding, SourceLocation
from tfgen.sources import (
    Address,
    SourceMap,
    block_lines,
    parse_address,
    source_location,
    with_locations,
)

E2E = Path(__file__).resolve().parent / "fixtures" / "e2e" / "root"


def line_of(path: Path, text: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.startswith(text))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("aws_kms_key.this", Address((), "managed", "aws_kms_key", "this")),
        ("aws_kms_key.this[0]", Address((), "managed", "aws_kms_key", "this")),
        ('aws_kms_key.this["a.b[c]"]', Address((), "managed", "aws_kms_key", "this")),
        ("data.aws_iam_policy_document.p", Address((), "data", "aws_iam_policy_document", "p")),
        (
            'module.a["x.y"].module.b[2].data.t.n["k"]',
            Address(("a", "b"), "data", "t", "n"),
        ),
        ('module.a["say \\"hi\\"."].t.n', Address(("a",), "managed", "t", "n")),
        ("aws_kms_key", None),
        ("module.a", None),
        ("", None),
    ],
)
def test_parse_address(address: str, expected: Address | None) -> None:
    assert parse_address(address) == expected


@pytest.mark.terraform
def test_real_plan_addresses_map_to_their_blocks(plan_module: Any) -> None:
    plan = plan_module(E2E)
    sources = SourceMap(plan, E2E)
    addresses = {r["address"] for r in plan["resource_changes"]}
    assert addresses == {
        "aws_kms_key.this",
        'module.logs.aws_kms_key.stream["app"]',
        'module.logs.aws_kms_key.stream["audit"]',
    }
    root_line = line_of(E2E / "main.tf", 'resource "aws_kms_key" "this"')
    child_line = line_of(E2E / "modules/logs/main.tf", 'resource "aws_kms_key" "stream"')
    assert sources.locate("aws_kms_key.this") == SourceLocation("main.tf", root_line)
    for key in ("app", "audit"):
        assert sources.locate(f'module.logs.aws_kms_key.stream["{key}"]') == SourceLocation(
            "modules/logs/main.tf", child_line
        )
    assert child_line != root_line
    # Relative to a base above the root (the repository checkout), as SARIF needs.
    above = SourceMap(plan, E2E, base=E2E.parent.parent)
    assert above.locate("aws_kms_key.this") == SourceLocation("e2e/root/main.tf", root_line)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _config(calls: dict[str, Any]) -> dict[str, Any]:
    return {"configuration": {"root_module": {"module_calls": calls}}}


def test_nested_modules_data_sources_and_remote_fallback(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "main.tf": '\n\nmodule "outer" {\n  source = "./outer"\n}\n\n'
            'module "remote" {\n  source = "terraform-aws-modules/kms/aws"\n}\n',
            "outer/a.tf": 'variable "x" {}\n',
            "outer/b.tf": 'module "inner" {\n  source = "../shared/inner"\n}\n'
            'data "aws_iam_policy_document" "p" {\n}\n',
            "shared/inner/main.tf": '# header\n\nresource "aws_kms_key" "k" {\n  count = 2\n}\n',
        },
    )
    plan = _config(
        {
            "outer": {
                "source": "./outer",
                "module": {"module_calls": {"inner": {"source": "../shared/inner"}}},
            },
            "remote": {"source": "terraform-aws-modules/kms/aws", "module": {}},
        }
    )
    sources = SourceMap(plan, tmp_path)
    assert sources.locate("module.outer.module.inner.aws_kms_key.k[1]") == SourceLocation(
        "shared/inner/main.tf", 3
    )
    assert sources.locate("module.outer.data.aws_iam_policy_document.p") == SourceLocation(
        "outer/b.tf", 4
    )
    # A registry module is not the user's code: point at the module call that brings it in.
    assert sources.locate("module.remote.aws_kms_key.this[0]") == SourceLocation("main.tf", 7)
    assert sources.locate("aws_s3_bucket.absent") is None
    assert source_location(
        plan, "module.outer.module.inner.aws_kms_key.k", tmp_path
    ) == SourceLocation("shared/inner/main.tf", 3)


def test_modules_json_wins_for_installed_local_modules(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "main.tf": 'module "m" {\n  source = "./elsewhere"\n}\n',
            "real/main.tf": '\nresource "aws_kms_key" "k" {}\n',
            ".terraform/modules/modules.json": json.dumps(
                {"Modules": [{"Key": "", "Dir": "."}, {"Key": "m", "Dir": "real"}]}
            ),
        },
    )
    sources = SourceMap(_config({"m": {"source": "./elsewhere"}}), tmp_path)
    assert sources.locate("module.m.aws_kms_key.k") == SourceLocation("real/main.tf", 2)


def test_unparsable_file_falls_back_to_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(
        'resource "aws_kms_key" "a" {\n  x = <<<broken\n}\nresource aws_kms_key b {\n}\n'
    )
    assert block_lines(path) == {
        ("resource", "aws_kms_key", "a"): 1,
        ("resource", "aws_kms_key", "b"): 4,
    }


def test_with_locations_fills_only_missing(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": 'resource "aws_kms_key" "k" {\n}\n'})
    base = Finding("KMS-001", "t", "high", "mandatory", "aws_kms_key.k", "aws_kms_key", "m", "p")
    given = SourceLocation("other.tf", 9)
    found = with_locations(
        [base, Finding(**{**base.__dict__, "location": given})], SourceMap({}, tmp_path)
    )
    assert [f.location for f in found] == [SourceLocation("main.tf", 1), given]
