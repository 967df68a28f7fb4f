"""HCL text from typed Python values: python-hcl2 emits it, then `terraform fmt`'s layout is applied."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if", "endfor", "endif"})
_OPEN = "([{"
_CLOSE = ")]}"


@dataclass(frozen=True)
class Expr:
    """An HCL expression written as source text, e.g. `var.account_id`."""

    text: str


@dataclass(frozen=True)
class Template:
    """A quoted HCL template whose `${...}` interpolations are intended, e.g. `arn:${var.x}`."""

    text: str


Value = str | int | bool | None | Expr | Template | Sequence["Value"] | Mapping[str, "Value"]


@dataclass
class Block:
    """An HCL block: attributes first (in order), then nested blocks (in order)."""

    type: str
    labels: tuple[str, ...] = ()
    attributes: dict[str, Value] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def block(self, type_: str, *labels: str, **attributes: Value) -> Block:
        """Append a nested block and return it."""
        child = Block(type_, labels, dict(attributes))
        self.blocks.append(child)
        return child


def quote(text: str) -> str:
    """`text` as an HCL quoted string literal: escapes, and `${`/`%{` never interpolate.

    `${`/`%{` become HCL's `$${`/`%%{`, or `\\u0024{`/`\\u0025{` when no `}` follows: HCL reads
    both as the literal text, and python-hcl2 8.1.4 lexes `$${`/`%%{` only when a closing brace
    follows. A `"` right before `$${` is written `\\u0022`, because python-hcl2's dumps drops
    the quote of `\\"$${...}`.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in ("${", "%{"):
            if _closed(text, i):
                out.append(pair[0] + pair)
            else:
                out.append(("\\u0024" if pair[0] == "$" else "\\u0025") + "{")
            i += 2
            continue
        char = text[i]
        if char == '"':
            before_escape = text.startswith("${", i + 1) and _closed(text, i + 1)
            out.append("\\u0022" if before_escape else '\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
        i += 1
    return f'"{"".join(out)}"'


def _closed(text: str, start: int) -> bool:
    """Whether a `}` follows the `${`/`%{` at `start`."""
    return "}" in text[start + 2 :]


def key(name: str) -> str:
    """An object key: bare when it is a plain identifier, quoted otherwise."""
    if _IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return quote(name)


def inline(value: Value) -> str:
    """A value as one line of HCL source."""
    if isinstance(value, Template):
        return f'"{value.text}"'
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{key(k)} = {inline(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    return "[" + ", ".join(inline(v) for v in value) + "]"


def _to_hcl2(value: Value) -> Any:
    """The python-hcl2 representation: strings quoted, expressions wrapped in `${}`."""
    if isinstance(value, Expr):
        return "${" + value.text + "}"
    if isinstance(value, Template):
        return f'"{value.text}"'
    if isinstance(value, str):
        return quote(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Mapping):
        return {key(k): _to_hcl2(v) for k, v in value.items()}
    return [_to_hcl2(item) for item in value]


def _body(block: Block) -> dict[str, Any]:
    body: dict[str, Any] = {"__is_block__": True}
    for name, value in block.attributes.items():
        body[name] = _to_hcl2(value)
    for child in block.blocks:
        body.setdefault(child.type, []).append(_labelled(child))
    return body


def _labelled(block: Block) -> dict[str, Any]:
    node: dict[str, Any] = _body(block)
    for label in reversed(block.labels):
        node = {quote(label): node}
    return node


def dumps(blocks: Sequence[Block], header: Sequence[str] = ()) -> str:
    """The blocks as one file, byte-identical to `terraform fmt` output; header lines become comments."""
    import hcl2  # ~0.2 s to import with lark: only the generator pays it

    parts = []
    for block in blocks:
        if not block.attributes and not block.blocks:
            labels = "".join(f" {quote(label)}" for label in block.labels)
            parts.append(f"{block.type}{labels} {{}}\n")
            continue
        text = hcl2.dumps(
            {block.type: [_labelled(block)]},
            deserializer_options=hcl2.DeserializerOptions(object_elements_trailing_comma=False),
            formatter_options=hcl2.FormatterOptions(
                vertically_align_attributes=False, vertically_align_object_elements=False
            ),
        )
        parts.append(format_like_terraform(text))
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header)
    return comments + ("\n" if comments and parts else "") + "\n".join(parts)


def format_like_terraform(text: str) -> str:
    """Apply the layout rules of `terraform fmt` (hclwrite) that python-hcl2 does not follow."""
    # Only "\n" ends a line: str.splitlines() would also split at U+0085, U+2028 and others.
    lines = [_space_braces(line.rstrip(" \t\r")) for line in text.split("\n")]
    collapsed: list[str] = []
    for line in lines:
        if line == "" and (not collapsed or collapsed[-1] == ""):
            continue
        collapsed.append(line)
    while collapsed and collapsed[-1] == "":
        collapsed.pop()
    return "\n".join(_align(collapsed)) + "\n"


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Index ranges of `line` that are code, not the inside of a quoted string or a comment."""
    spans: list[tuple[int, int]] = []
    start = 0
    i = 0
    in_string = False
    while i < len(line):
        char = line[i]
        if in_string:
            if char == "\\":
                i += 2
                continue
            if line.startswith(("$${", "%%{"), i):
                i += 3
                continue
            if line.startswith("${", i):
                # Interpolations hold code but are emitted by tfgen only as plain references.
                end = line.index("}", i)
                i = end + 1
                continue
            if char == '"':
                in_string = False
                start = i + 1
        elif char == '"':
            spans.append((start, i))
            in_string = True
        elif char == "#" or line.startswith("//", i):
            spans.append((start, i))
            return spans
        i += 1
    if not in_string:
        spans.append((start, len(line)))
    return spans


def _space_braces(line: str) -> str:
    """One space inside single-line braces: `{a = 1}` becomes `{ a = 1 }`, `{}` stays."""
    code = [False] * len(line)
    for start, end in _code_spans(line):
        code[start:end] = [True] * (end - start)
    out: list[str] = []
    for i, char in enumerate(line):
        if code[i] and char == "}" and i > 0 and line[i - 1] not in " {":
            out.append(" ")
        out.append(char)
        if code[i] and char == "{" and i + 1 < len(line) and line[i + 1] not in " }":
            out.append(" ")
    return "".join(out)


def _assignment(line: str) -> int | None:
    """Where the `=` is if the line is a single-line `name = value` (hclwrite's "assign" cell)."""
    depth_after = 0
    equals = None
    for start, end in _code_spans(line):
        for i in range(start, end):
            char = line[i]
            if equals is None:
                if (
                    char == "="
                    and line[i + 1 : i + 2] not in ("=", ">")
                    and (i == 0 or line[i - 1] not in "=!<>")
                    and line[:i].strip()
                ):
                    equals = i
            elif char in _OPEN:
                depth_after += 1
            elif char in _CLOSE:
                depth_after -= 1
    if equals is None or depth_after != 0:
        return None
    return equals


def _align(lines: list[str]) -> list[str]:
    """Align the `=` of consecutive single-line assignments, as hclwrite's formatCells does.

    Widths count characters; hclwrite counts grapheme clusters, so keys tfgen emits are ASCII.
    """
    result = list(lines)
    chain: list[tuple[int, int]] = []

    def close() -> None:
        width = max(len(result[i][:eq].rstrip()) for i, eq in chain) if chain else 0
        for i, eq in chain:
            lead = result[i][:eq].rstrip()
            result[i] = lead + " " * (width - len(lead) + 1) + "= " + result[i][eq + 1 :].lstrip()
        chain.clear()

    for index, line in enumerate(lines):
        eq = _assignment(line)
        if eq is None:
            close()
        else:
            chain.append((index, eq))
    close()
    return result
