"""The served rule pack is provably the one tfgen checked: a server with a rule deleted, a server
without the bundle, a server holding modules tfgen did not upload, all on real OPA and a real
Terraform plan of a public key (KMS-011 is its only finding)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REGO, ServeFn

from tfgen import __version__
from tfgen.bundle import build, read_manifest, upload_modules
from tfgen.cli import main
from tfgen.rulepack import RulePack, find_pack

PUBLIC_KEY = FIXTURES / "security" / "public_key"

pytestmark = [pytest.mark.opa, pytest.mark.terraform]


@pytest.fixture(scope="module")
def public_plan(plan_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pack") / "plan.json"
    path.write_text(json.dumps(plan_module(PUBLIC_KEY)), encoding="utf-8")
    return path


def without_kms_011(tmp_path: Path) -> Path:
    """The shipped pack with the public-principal rule deleted, as an attacker would serve it."""
    root = tmp_path / "rego"
    shutil.copytree(REGO, root)
    shutil.rmtree(root / "tfgen" / "rules" / "kms" / "public_principal")
    return root


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_the_bundle_revision_is_the_pack_digest(tmp_path: Path, opa_bin: Path) -> None:
    pack = find_pack(REGO)
    built = build(pack, tmp_path / "bundle.tar.gz", opa_bin)
    manifest = read_manifest(built)
    assert manifest["revision"] == pack.digest
    assert manifest["roots"] == ["main", "tfgen"]
    assert manifest["metadata"] == {"tfgen_version": __version__}
    assert pack.version == __version__
    assert '"version"' not in (REGO / "main" / "main.rego").read_text()


def test_the_genuine_bundle_passes_the_proof(
    public_plan: Path, opa_serve: ServeFn, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    url = opa_serve(REGO)
    code, report, _ = check(capsys, str(public_plan), "--engine", "opa", "--opa-url", url)
    assert code == 1
    assert [f["rule_id"] for f in report["findings"]] == ["KMS-011"]
    assert report["tool"]["opa"] == "1.22.4"  # from the provenance, no extra request
    # Each finding names the bundle revision that judged it: the local pack's digest.
    revisions = [f.pop("revision") for f in report["findings"]]
    assert revisions == [f"{report['plans'][0]['revision']}"]
    assert revisions[0].endswith("=" + find_pack(REGO).digest)
    # The embedded engine's Wasm build of the same pack decides the same.
    embedded = check(capsys, str(public_plan))[1]
    assert embedded["findings"] == report["findings"]


def test_opa_bundle_prints_the_bundle_compose_serves(
    capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    assert main(["opa", "bundle", "--rules", str(REGO)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert read_manifest(path)["revision"] == find_pack(REGO).digest


@pytest.mark.parametrize("bundle", [True, False], ids=["other-bundle", "no-bundle"])
def test_a_server_with_a_rule_deleted_is_exit_2_naming_both_digests(
    bundle: bool,
    public_plan: Path,
    opa_serve: ServeFn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    isolated: None,
) -> None:
    tampered = without_kms_011(tmp_path)
    url = opa_serve(tampered, extra=("--ignore=*_test.rego",), bundle=bundle)
    code, report, err = check(capsys, str(public_plan), "--engine", "opa", "--opa-url", url)
    assert code == 2
    assert report["findings"] == []
    served = RulePack(tampered).digest if bundle else "no bundle revision"
    assert f"serves rule pack {served}, not the local rule pack {find_pack(REGO).digest}" in err


def test_load_pack_fills_an_empty_server_in_dependency_order(
    public_plan: Path, opa_serve: ServeFn, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    url = opa_serve()
    args = (str(public_plan), "--engine", "opa", "--opa-url", url, "--load-pack")
    code, report, err = check(capsys, *args)
    assert (code, err) == (1, "")
    assert [f["rule_id"] for f in report["findings"]] == ["KMS-011"]
    order = [rel for rel, _ in upload_modules(find_pack(REGO))]
    policy = next(rel for rel in order if rel.startswith("tfgen/lib/policy/"))
    assert order.index(policy) < order.index("tfgen/lib/plan/plan.rego")
    assert order[-1] == "main/main.rego"
    # Again on the same server: the modules are replaced, the proof holds.
    assert check(capsys, *args)[0] == 1


def test_load_pack_refuses_a_server_holding_modules_it_did_not_upload(
    public_plan: Path,
    opa_serve: ServeFn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    isolated: None,
) -> None:
    evil = tmp_path / "evil.rego"
    evil.write_text("package tfgen.rules.kms.public_principal\n\nallowed := true\n")
    url = opa_serve(evil)
    args = (str(public_plan), "--engine", "opa", "--opa-url", url, "--load-pack")
    code, report, err = check(capsys, *args)
    assert code == 2
    assert report["findings"] == []
    assert f"holds other rule modules than the local rule pack {find_pack(REGO).digest}" in err
    assert "extra " in err
