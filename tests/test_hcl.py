"""tfgen.module.hcl: string literals that never interpolate, `terraform fmt` layout, inline values."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import hcl2
import pytest
from helpers import decode_hcl_string, free_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.module.hcl import (
    Block,
    Expr,
    Template,
    Value,
    dumps,
    format_like_terraform,
    inline,
    key,
    quote,
)
from tfgen.terraform import Terraform


@settings(max_examples=500)
@given(st.text())
def test_quote_never_interpolates_and_decodes_back(text: str) -> None:
    assert decode_hcl_string(quote(text)) == text


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("${var.x}", '"$${var.x}"'),
        ("%{ if true }", '"%%{ if true }"'),
        ("$${x}", '"$$${x}"'),
        ('say "hi" \\o/', '"say \\"hi\\" \\\\o/"'),
        ('"${x}"', '"\\u0022$${x}\\""'),
        ("open ${ only", '"open \\u0024{ only"'),
        ("line\nbreak", '"line\\nbreak"'),
    ],
)
def test_quote_examples(text: str, literal: str) -> None:
    assert quote(text) == literal


@pytest.mark.parametrize(
    ("name", "written"),
    [("Sid", "Sid"), ("aws:SourceArn", '"aws:SourceArn"'), ("for", '"for"'), ("a-b", "a-b")],
)
def test_object_keys_are_bare_only_when_identifiers(name: str, written: str) -> None:
    assert key(name) == written


@settings(max_examples=300, deadline=None)
@given(st.one_of(free_text, st.text()))
def test_dumps_keeps_any_string_literal(text: str) -> None:
    # python-hcl2's dumps re-splits strings at `$${...}`: what it writes must still decode back.
    written = dumps([Block("locals", attributes={"x": text})])
    assert decode_hcl_string(hcl2.loads(written)["locals"][0]["x"]) == text


def test_dumps_aligns_equals_and_separates_blocks_like_terraform_fmt() -> None:
    run = Block("run", ("r",), {"command": Expr("plan")})
    run.block("variables", a=1, longer_name="x")
    text = dumps([Block("mock_provider", ("aws",)), run], header=("one", ""))
    assert text == (
        "# one\n"
        "#\n"
        "\n"
        'mock_provider "aws" {}\n'
        "\n"
        'run "r" {\n'
        "  command = plan\n"
        "\n"
        "  variables {\n"
        "    a           = 1\n"
        '    longer_name = "x"\n'
        "  }\n"
        "}\n"
    )


def test_format_like_terraform_spaces_single_line_braces() -> None:
    assert format_like_terraform('x = {a = 1}\ny = {}\nz = "{a}"\n') == (
        'x = { a = 1 }\ny = {}\nz = "{a}"\n'
    )


def test_inline_values() -> None:
    value: Value = {
        "a": [1, True, None],
        "b:c": Template("x-${var.y}"),
        "d": Expr("var.z"),
        "e": {},
    }
    assert inline(value) == '{ a = [1, true, null], "b:c" = "x-${var.y}", d = var.z, e = {} }'


@pytest.mark.terraform
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(free_text | st.text(), min_size=40, max_size=40))
def test_terraform_reads_every_quoted_string_literally(
    terraform: Terraform, texts: list[str]
) -> None:
    blocks = [Block("output", (f"s{i}",), {"value": t}) for i, t in enumerate(texts)]
    with tempfile.TemporaryDirectory(prefix="tfgen-quote-") as tmp:
        (Path(tmp) / "main.tf").write_text(dumps(blocks), encoding="utf-8")
        plan = terraform.plan_json(Path(tmp))
    outputs = plan["planned_values"]["outputs"]
    got = [outputs[f"s{i}"]["value"] for i in range(len(texts))]
    # HCL reads string literals in Unicode NFC.
    assert got == [unicodedata.normalize("NFC", t) for t in texts]
