"""Supply chain: the offline mirror is checked against the root's dependency lock file as
terraform init checks it, the mirrored provider zip against its pinned sha256, (a hung OPA
server costing one --timeout is tests/test_faults.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

from tfgen.cli import main
from tfgen.toolchain import pins

ROOT_MODULE = FIXTURES / "security" / "public_key"
LOCK = """\
provider "registry.terraform.io/hashicorp/aws" {{
  version = "{version}"
  hashes = [
    "zh:{digest}",
  ]
}}
"""


def _root_with_lock(tmp_path: Path, digest: str) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOT_MODULE, root)
    lock = LOCK.format(version=pins()["aws_provider_mirror"], digest=digest)
    (root / ".terraform.lock.hcl").write_text(lock, encoding="utf-8")
    return root


@pytest.mark.terraform
@pytest.mark.opa
def test_offline_plan_honours_the_lock_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    wrong = _root_with_lock(tmp_path / "wrong", "0" * 64)
    assert main(["plan", "--offline", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert "checksum" in err.lower() or "lock file" in err.lower(), err
    right = _root_with_lock(tmp_path / "right", pins()["aws_provider_zip_sha256"])
    assert main(["plan", "--offline", str(right), "--format", "json"]) == 1
    assert [f["rule_id"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["KMS-011"]


@pytest.mark.terraform
def test_a_tampered_mirror_zip_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    from tfgen.toolchain import cache_dir

    version = pins()["aws_provider_mirror"]
    zip_path = (
        cache_dir()
        / "provider-mirror"
        / "registry.terraform.io"
        / "hashicorp"
        / "aws"
        / f"terraform-provider-aws_{version}_linux_amd64.zip"
    )
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    zip_path.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip, not the provider
    try:
        assert main(["plan", "--offline", str(ROOT_MODULE)]) == 2
        err = capsys.readouterr().err
        assert f"is not the pinned {pins()['aws_provider_zip_sha256']}" in err
    finally:
        zip_path.unlink()
