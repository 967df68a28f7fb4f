"""--extra-rules DIR: an organisation's rules beside the built-ins, on a real plan, on each engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REGO, ROOT, PlanFn, ServeFn, free_port, missing

from tfgen.cli import main
from tfgen.toolchain import pins

EXAMPLE = ROOT / "examples" / "extra-rules"
MODULE = FIXTURES / "suppressions" / "root"
KEYS = {
    "aws_kms_key.expired",
    "aws_kms_key.open",
    "aws_kms_key.waived",
    "module.child.aws_kms_key.k",
}

pytestmark = [pytest.mark.opa, pytest.mark.usefixtures("isolated")]


@pytest.fixture
def plan_file(tmp_path: Path, plan_module: PlanFn) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_module(MODULE)))
    return path


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["check", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def org_findings(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["address"], f["status"]) for f in report["findings"] if f["rule_id"] == "ORG-001"}


def copy_example(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "org-rules"))


def test_the_worked_example_passes_its_opa_test(opa_bin: Path) -> None:
    proc = subprocess.run(
        [str(opa_bin), "test", str(REGO / "tfgen" / "lib"), str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "key_owner_test.test_allow_owned_key: PASS"
        in subprocess.run(
            [str(opa_bin), "test", "-v", str(REGO / "tfgen" / "lib"), str(EXAMPLE)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )


@pytest.mark.terraform
def test_extra_rules_run_beside_the_built_ins(
    plan_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report, err = check(capsys, str(plan_file), "--extra-rules", str(EXAMPLE))
    assert code == 1, err  # KMS-001 still blocks; ORG-001 is advisory
    assert org_findings(report) == {(key, "advisory") for key in KEYS}
    assert "KMS-001" in {f["rule_id"] for f in report["findings"]}
    # Compiled once and cached by digest: the next run needs no OPA.
    monkeypatch.setenv("TFGEN_OPA_BIN", "/nonexistent/opa")
    code, again, _ = check(capsys, str(plan_file), "--extra-rules", str(EXAMPLE))
    assert code == 1 and again["findings"] == report["findings"]


@pytest.mark.terraform
def test_extra_rules_from_the_config_file(
    plan_file: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy_example(tmp_path)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / ".tfgen.toml").write_text('extra_rules = "../org-rules"\n')
    config = tmp_path / "conf" / ".tfgen.toml"
    code, report, err = check(capsys, str(plan_file), "--config", str(config))
    assert code == 1, err
    assert len(org_findings(report)) == len(KEYS)


@pytest.mark.terraform
def test_extra_rules_on_the_opa_server_engine(
    plan_file: Path, capsys: pytest.CaptureFixture[str], opa_serve: ServeFn
) -> None:
    url = opa_serve()
    base = [str(plan_file), "--extra-rules", str(EXAMPLE), "--engine", "opa", "--opa-url", url]
    code, report, err = check(capsys, *base, "--load-pack")
    assert code == 1, err
    assert org_findings(report) == {(key, "advisory") for key in KEYS}
    code, _, err = check(capsys, *base)
    assert code == 2
    assert "extra rules: an OPA server evaluates only the policies it serves" in err


def write_rule(root: Path, group: str, name: str, rule_id: str, package: str = "") -> Path:
    source = (EXAMPLE / "org" / "key_owner" / "key_owner.rego").read_text()
    text = source.replace("id: ORG-001", f"id: {rule_id}").replace(
        "package tfgen.rules.org.key_owner", f"package {package or f'tfgen.rules.{group}.{name}'}"
    )
    path = root / group / name / f"{name}.rego"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("group", "name", "rule_id", "package", "why"),
    [
        (
            "org",
            "rotation",
            "KMS-001",
            "",
            "rule id KMS-001 is also used by {rego}/tfgen/rules/kms/rotation/rotation.rego",
        ),
        (
            "kms",
            "rotation",
            "ORG-002",
            "",
            "package tfgen.rules.kms.rotation is also {rego}/tfgen/rules/kms/rotation",
        ),
        (
            "org",
            "named",
            "ORG-002",
            "tfgen.rules.org.other",
            "package must be tfgen.rules.org.named",
        ),
    ],
)
def test_bad_extra_rules_are_exit_2_naming_both_files(
    plan_file: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    group: str,
    name: str,
    rule_id: str,
    package: str,
    why: str,
) -> None:
    extra = tmp_path / "org-rules"
    write_rule(extra, group, name, rule_id, package)
    code, report, err = check(capsys, str(plan_file), "--extra-rules", str(extra))
    assert code == 2 and report == {}
    assert err.startswith(f"tfgen: error: org-rules/{group}/{name}/{name}.rego: ")
    assert why.format(rego=REGO) in err and err.count("\n") == 1


@pytest.mark.terraform
def test_extra_rule_without_metadata_or_directory_is_exit_2(
    plan_file: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    extra = copy_example(tmp_path)
    rule = extra / "org" / "key_owner" / "key_owner.rego"
    rule.write_text(rule.read_text().replace("#   remediation:", "#   fix:"))
    code, _, err = check(capsys, str(plan_file), "--extra-rules", str(extra))
    assert code == 2 and "METADATA lacks custom.remediation" in err
    code, _, err = check(capsys, str(plan_file), "--extra-rules", str(tmp_path / "none"))
    assert code == 2 and "extra rules: not a directory" in err


@pytest.mark.docker
@pytest.mark.terraform
def test_extra_rules_on_the_docker_engine(
    plan_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    docker_client: Any,
) -> None:
    image = os.environ.get("TFGEN_OPA_IMAGE") or pins()["opa_image"]
    if not docker_client.images.list(name=image):
        missing("OPA image", f"{image} is not present (run scripts/install-docker.sh)")
    name = f"tfgen-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TFGEN_OPA_IMAGE", image)
    monkeypatch.setenv("TFGEN_OPA_PORT", str(free_port()))
    monkeypatch.setenv("TFGEN_OPA_CONTAINER", name)
    monkeypatch.delenv("TFGEN_OPA_TOKEN", raising=False)
    argv = [str(plan_file), "--extra-rules", str(EXAMPLE), "--engine", "docker"]
    try:
        code, report, err = check(capsys, *argv, "--compose-file", str(ROOT / "docker-compose.yml"))
    finally:
        for container in docker_client.containers.list(all=True, filters={"name": name}):
            container.remove(force=True)
    assert code == 1, err
    assert org_findings(report) == {(key, "advisory") for key in KEYS}
