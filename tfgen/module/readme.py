"""The module's README: the packaged template filled with tables from the module's interface."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from importlib import resources

from tfgen import __version__
from tfgen.module import seed
from tfgen.module.hcl import inline
from tfgen.module.interface import (
    AWS_PROVIDER_MIN,
    OUTPUTS,
    TERRAFORM_MIN,
    TESTED_TERRAFORM,
    TESTS_TERRAFORM_MIN,
    variables,
)
from tfgen.module.options import ModuleOptions, default_administrators
from tfgen.module.write import MARKER
from tfgen.toolchain import pins

TEMPLATE = "README.md.tmpl"

# Which inputs change each seed statement, by Sid.
_CHANGES = {
    seed.SID_ADMINISTRATORS: "account_id, key_administrators",
    seed.SID_ENCRYPT: "account_id, trail_arns (adds aws:SourceArn)",
    seed.SID_DESCRIBE: "trail_arns (adds aws:SourceArn)",
    seed.SID_DECRYPT: "account_id",
    seed.SID_ALIAS: "account_id, region",
    seed.SID_CROSS_ACCOUNT: "account_id, cross_account_ids (kms:CallerAccount)",
}


def command_line(options: ModuleOptions, out: str = "DIR") -> str:
    """The `tfgen generate` command that reproduces these options."""
    default = ModuleOptions()
    args = ["tfgen", "generate", "--out", out]
    if options.account_id != default.account_id:
        args += ["--account-id", options.account_id]
    if options.region != default.region:
        args += ["--region", options.region]
    administrators = options.key_administrators
    if administrators is not None and administrators != default_administrators(options.account_id):
        args += [a for arn in administrators for a in ("--key-administrator", arn)]
        if not administrators:
            args.append("--no-key-administrators")
    args += [a for i in options.cross_account_ids for a in ("--cross-account-id", i)]
    args += [a for arn in options.trail_arns for a in ("--trail-arn", arn)]
    if options.alias is not None:
        args += ["--alias", options.alias]
    if options.deletion_window_in_days != default.deletion_window_in_days:
        args += ["--deletion-window", str(options.deletion_window_in_days)]
    if not options.enable_key_rotation:
        args.append("--no-rotation")
    if options.description != default.description:
        args += ["--description", options.description]
    args += [a for k, v in options.tags for a in ("--tag", f"{k}={v}")]
    return " ".join(_shell_word(a) for a in args)


def _shell_word(word: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:=@+-]+", word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def _cell(text: str) -> str:
    text = text.replace("|", "\\|")
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _table(head: tuple[str, ...], align: tuple[str, ...], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _inputs(options: ModuleOptions) -> str:
    rows = []
    for v in variables(options):
        description = v.description.replace("|", "\\|")
        rows.append((v.name, description, _cell(v.type), _cell(inline(v.default)), "no"))
    head = ("Name", "Description", "Type", "Default", "Required")
    return _table(head, ("------", "-------------", "------", "---------", ":--------:"), rows)


def template() -> string.Template:
    """The README template shipped in the package."""
    text = resources.files("tfgen.module").joinpath("templates", TEMPLATE).read_text("utf-8")
    return string.Template(text)


def render(options: ModuleOptions, example: str) -> str:
    """README.md for the module generated with `options`; `example` is examples/basic/main.tf."""
    code = "\n".join(line for line in example.split("\n") if not line.startswith("#")).strip()
    statements = [
        (str(number), s["Sid"], _CHANGES[s["Sid"]])
        for number, s in enumerate(seed.SEED_POLICY["Statement"], start=1)
    ]
    return template().substitute(
        marker=MARKER,
        version=__version__,
        command_line=command_line(options),
        default_window=ModuleOptions.deletion_window_in_days,
        usage=code.replace('"../.."', '"./modules/cloudtrail-kms-key"'),
        statements=_table(
            ("#", "Sid", "Inputs that change it"),
            ("---", "-----", "------------------------"),
            statements,
        ),
        requirements=_table(
            ("Name", "Version"),
            ("------", "---------"),
            [("terraform", f">= {TERRAFORM_MIN}"), ("aws", f">= {AWS_PROVIDER_MIN}")],
        ),
        inputs=_inputs(options),
        outputs=_table(
            ("Name", "Description"),
            ("------", "-------------"),
            [(o.name, o.description) for o in OUTPUTS],
        ),
        tests_terraform=TESTS_TERRAFORM_MIN,
        tested_terraform=TESTED_TERRAFORM,
        tested_provider=pins()["aws_provider_mirror"],
    )
