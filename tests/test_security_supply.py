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
    from tfgen.cli import toolchain

    version = pins()["aws_provider_mirror"]
    zip_path = (
        toolchain().cache_dir
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


def test_a_go_module_whose_sum_differs_from_the_pin_is_not_built(tmp_path: Path) -> None:
    """The OPA, conftest and actionlint builds check the module's go.sum hash first."""
    import shutil as sh
    import subprocess

    from helpers import ROOT, missing

    if sh.which("go") is None:
        missing("Go", "not on PATH")
    out = tmp_path / "conftest"
    script = (
        f'source "{ROOT}/scripts/lib.sh"; go_build github.com/open-policy-agent/conftest '
        f'"$(pin conftest)" "{out}" "" "h1:not-the-pinned-sum="'
    )
    proc = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode != 0
    assert "is not the pinned h1:not-the-pinned-sum=" in proc.stderr
    assert pins()["conftest_module_sum"] in proc.stderr  # the real sum matches the pin
    assert not out.exists()
