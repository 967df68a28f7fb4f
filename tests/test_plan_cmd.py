"""`tfgen plan` (and the gate flags it shares with `tfgen check`) with real Terraform and real OPA."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import FIXTURES, ROOT, missing

from tfgen.cli import build_parser, main
from tfgen.terraform import OFFLINE_PROVIDER_BLOCK, offline_workdir

ROOT_MODULE = FIXTURES / "e2e" / "root"
PUBLIC_DECRYPT = """\
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PublicDecrypt"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "kms:Decrypt"
      Resource  = "*"
    }]
  })
"""

pytestmark = [pytest.mark.terraform, pytest.mark.opa]


def line_of(path: Path, prefix: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.startswith(prefix))


def copy_module(tmp_path: Path, broken: bool) -> Path:
    """The fixture root module under tmp_path/infra; `broken`: rotation off, public decrypt."""
    target = tmp_path / "infra"
    shutil.copytree(ROOT_MODULE, target)
    if broken:
        main_tf = target / "main.tf"
        text = main_tf.read_text()
        old = "  enable_key_rotation     = true\n"
        assert old in text
        main_tf.write_text(text.replace(old, old.replace("true", "false") + PUBLIC_DECRYPT))
    return target


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def engine(opa_server: str) -> list[str]:
    return ["--engine", "opa", "--opa-url", opa_server]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty repository checkout as the working directory (no config above it)."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TFGEN_OPA_URL", raising=False)
    return tmp_path


def test_clean_module_passes(
    project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    copy_module(project, broken=False)
    code, out, err = cli(["plan", "infra", "--offline", *engine], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("PASS: no findings in 1 plan: infra")
    assert not (project / "infra" / ".terraform").exists()  # --offline plans a copy


def test_broken_module_blocks_at_its_lines(
    project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    infra = copy_module(project, broken=True)
    code, out, _ = cli(["plan", "infra", "--offline", "--format", "json", *engine], capsys)
    assert code == 1
    doc = json.loads(out)
    line = line_of(infra / "main.tf", 'resource "aws_kms_key" "this"')
    found = {f["rule_id"]: f for f in doc["findings"]}
    for rule_id in ("KMS-001", "KMS-011"):
        assert found[rule_id]["address"] == "aws_kms_key.this"
        assert found[rule_id]["location"] == {"file": "infra/main.tf", "line": line}
        assert found[rule_id]["status"] == "blocking"
    assert doc["plans"][0]["path"] == "infra"


def test_save_plan_then_check_gives_the_same_report(
    project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    copy_module(project, broken=True)
    args = ["--format", "json", *engine]
    code, planned, _ = cli(["plan", "infra", "--offline", "--save-plan", "p.json", *args], capsys)
    assert code == 1
    code, checked, _ = cli(["check", "p.json", "--source-dir", "infra", *args], capsys)
    assert code == 1
    strip = [{k: v for k, v in f.items() if k != "plan"} for f in json.loads(planned)["findings"]]
    again = [{k: v for k, v in f.items() if k != "plan"} for f in json.loads(checked)["findings"]]
    assert strip == again
    # Without --source-dir there is no plan directory to map back to.
    code, bare, _ = cli(["check", "p.json", *args], capsys)
    assert {f["location"] is None for f in json.loads(bare)["findings"]} == {True}
    # Nothing the user wrote is overwritten without --force.
    code, _, err = cli(["plan", "infra", "--offline", "--save-plan", "p.json", *engine], capsys)
    assert code == 2
    assert err == "tfgen: error: p.json: exists; pass --force to overwrite it\n"


def test_gate_flags(project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    copy_module(project, broken=True)
    cli(["plan", "infra", "--offline", "--save-plan", "p.json", *engine], capsys)
    check = ["check", "p.json", "--format", "json", *engine]

    code, out, _ = cli([*check, "--severity-threshold", "critical"], capsys)
    doc = json.loads(out)
    assert {f["severity"] for f in doc["findings"]} == {"critical"}
    assert code == 1
    assert any("below severity threshold critical not shown" in n for n in doc["notices"])

    rule_ids = {f["rule_id"] for f in json.loads(cli(check, capsys)[1])["findings"]}
    lowered = "".join(f"[rules.{r}]\nenforcement = 'advisory'\n" for r in sorted(rule_ids))
    (project / ".tfgen.toml").write_text(lowered)
    code, out, _ = cli(check, capsys)
    assert code == 0
    assert {f["status"] for f in json.loads(out)["findings"]} == {"advisory"}
    code, _, _ = cli([*check, "--fail-on", "advisory"], capsys)
    assert code == 1
    (project / ".tfgen.toml").write_text('fail_on = "advisory"\n' + lowered)
    assert cli(check, capsys)[0] == 1
    assert cli([*check, "--fail-on", "mandatory"], capsys)[0] == 0


def test_terraform_error_is_one_line_exit_2(
    project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    infra = copy_module(project, broken=False)
    (infra / "broken.tf").write_text('resource "aws_kms_key" "x" {\n  no_such_argument = 1\n}\n')
    code, _, err = cli(["plan", "infra", "--offline", *engine], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(
        "tfgen: error: terraform plan failed in infra: Error: Unsupported argument"
    )
    assert "tfgen-offline-" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "absent"], "tfgen: error: absent: not a directory with Terraform files"),
        (["plan", "."], "tfgen: error: .: no .tf files in this directory"),
        (["plan", "infra", "--var-file", "x.tfvars"], "tfgen: error: x.tfvars: no such var file"),
        (
            ["check", "p.json", "--config", "nope.toml"],
            "tfgen: error: nope.toml: no such config file",
        ),
        (
            ["plan", "infra", "--fail-on", "always"],
            "tfgen plan: error: argument --fail-on: invalid",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(
    project: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_module(project, broken=False)
    (project / "p.json").write_text('{"format_version": "1.2"}')
    try:
        code, _, err = cli(argv, capsys)
    except SystemExit as exc:  # argparse usage errors
        code, err = int(exc.code or 0), capsys.readouterr().err
    assert code == 2
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


def test_config_error_stops_before_terraform_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_module(project, broken=False)
    (project / ".tfgen.toml").write_text(
        '[[waivers]]\nrule = "KMS-999"\naddress = "*"\nreason = "r"\nowner = "o"\n'
        "expires = 2099-01-01\n"
    )
    code, _, err = cli(["plan", "infra", "--terraform", "no-such-terraform-binary"], capsys)
    assert code == 2
    assert err.startswith("tfgen: error: ") and "unknown rule id 'KMS-999'" in err


def test_tf_files_stand_for_their_directory(
    project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit passes changed files; each directory is planned once."""
    copy_module(project, broken=False)
    argv = ["plan", "infra/main.tf", "infra/variables.tf", "infra", "--offline", "--format", "json"]
    code, out, _ = cli([*argv, *engine], capsys)
    assert code == 0
    assert [p["path"] for p in json.loads(out)["plans"]] == ["infra"]


def test_plan_shares_every_check_option() -> None:
    """Engine choice, formats, output and gate flags are check's own definitions, not copies."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))

    def options(name: str) -> dict[str, Any]:
        sub = subparsers.choices[name]
        return {s: (a.choices, a.default) for a in sub._actions for s in a.option_strings}

    check, plan = options("check"), options("plan")
    shared = set(check) - {"--source-dir"}
    assert shared <= set(plan)
    assert {k: plan[k] for k in shared} == {k: check[k] for k in shared}
    assert {"--fail-on", "--severity-threshold", "--config", "--engine", "--format"} <= shared


def test_offline_workdir_copies_outside_modules_and_never_writes_the_source(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "shared" / "kms").mkdir(parents=True)
    (repo / "shared" / "kms" / "main.tf").write_text('resource "aws_kms_key" "k" {}\n')
    (repo / "envs" / "prod").mkdir(parents=True)
    (repo / "envs" / "prod" / "main.tf").write_text(
        'module "kms" {\n  source = "../../shared/kms"\n}\n'
    )
    (repo / "envs" / "prod" / ".terraform").mkdir()
    (repo / "envs" / "dev").mkdir()
    (repo / "envs" / "dev" / "main.tf").write_text("# another root, not copied\n")
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    work = offline_workdir(repo / "envs" / "prod", tmp_path / "work")
    assert work == tmp_path / "work" / "src" / "envs" / "prod"
    assert (work / "tfgen_offline_provider.tf").read_text() == OFFLINE_PROVIDER_BLOCK
    assert (work / "../../shared/kms/main.tf").resolve().is_file()
    assert not (work / ".terraform").exists()
    assert not (tmp_path / "work" / "src" / "envs" / "dev").exists()
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before
    # A root with its own provider "aws" block keeps it and gets none added.
    (repo / "shared" / "kms" / "provider.tf").write_text('provider "aws" {\n  region = "x"\n}\n')
    own = offline_workdir(repo / "shared" / "kms", tmp_path / "work2")
    assert not (own / "tfgen_offline_provider.tf").exists()


def test_a_sensitive_policy_is_redacted_and_fails_closed(
    project: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A policy built from a sensitive value is sensitive as a whole: the rules see the marker."""
    infra = copy_module(project, broken=False)
    main_tf = infra / "main.tf"
    old = "  enable_key_rotation     = true\n"
    policy = PUBLIC_DECRYPT.replace('"PublicDecrypt"', "var.cost_center").replace(
        '{ AWS = "*" }', '{ AWS = "arn:aws:iam::111122223333:root" }'
    )
    main_tf.write_text(main_tf.read_text().replace(old, old + policy))
    code, out, err = cli(["plan", "infra", "--offline", "--format", "json", *engine], capsys)
    assert code == 1
    assert "cc-4471-hush" not in out + err  # every format is swept in test_e2e
    (finding,) = json.loads(out)["findings"]
    assert (finding["rule_id"], finding["address"]) == ("KMS-010", "aws_kms_key.this")


@pytest.mark.parametrize("engine_name", ["embedded", "opa"])
def test_min_deletion_window_reaches_the_rules(
    project: Path,
    engine_name: str,
    opa_server: str,
    plan_module: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`min_deletion_window_days` from the config is data.tfgen_config on every engine."""
    main_tf = (ROOT_MODULE / "main.tf").read_text()
    short = main_tf.replace("deletion_window_in_days = 30", "deletion_window_in_days = 14")
    assert short != main_tf
    (project / "plan.json").write_text(
        json.dumps(plan_module(ROOT_MODULE, files={"main.tf": short}))
    )
    argv = ["check", "plan.json", "--format", "json", "--engine", engine_name]
    if engine_name == "opa":
        argv += ["--opa-url", opa_server]

    def windows() -> list[dict[str, Any]]:
        assert main(argv) == 0  # KMS-002 is advisory
        doc = json.loads(capsys.readouterr().out)
        return [f["details"] for f in doc["findings"] if f["rule_id"] == "KMS-002"]

    assert windows() == [{"days": 14, "minimum": 30}]  # the rules' default
    (project / ".tfgen.toml").write_text("min_deletion_window_days = 14\n")
    assert windows() == []
    (project / ".tfgen.toml").write_text("min_deletion_window_days = 21\n")
    assert windows() == [{"days": 14, "minimum": 21}]


# .pre-commit-hooks.yaml: a valid manifest whose hooks run `tfgen` the way pre-commit calls them.


MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return {hook["id"]: hook for hook in data}


def test_manifest_is_valid_for_pre_commit() -> None:
    tool = shutil.which("pre-commit") or str(Path(ROOT / ".venv" / "bin" / "pre-commit"))
    if not Path(tool).is_file():
        missing("pre-commit", "pip install pre-commit (a dev dependency)")
    proc = subprocess.run(
        [tool, "validate-manifest", str(MANIFEST)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hooks_select_the_right_files() -> None:
    found = hooks()
    assert set(found) == {"tfgen-plan", "tfgen-check"}
    plan, check = found["tfgen-plan"], found["tfgen-check"]
    assert re.search(plan["files"], "infra/prod/main.tf")
    assert not re.search(plan["files"], "infra/prod/terraform.tfvars")
    assert re.search(check["files"], "plans/prod.plan.json")
    assert not re.search(check["files"], "package.json")
    for hook in found.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is True
        assert hook["require_serial"] is True  # one Terraform/engine run at a time


@pytest.mark.terraform
@pytest.mark.opa
def test_plan_hook_runs_on_changed_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    opa_server: str,
) -> None:
    """What pre-commit runs: the entry, then the changed file names (two in one module)."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(FIXTURES / "e2e" / "root", tmp_path / "infra")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TFGEN_OPA_URL", opa_server)
    entry = shlex.split(hooks()["tfgen-plan"]["entry"])
    assert entry[:2] == ["tfgen", "plan"]
    argv = [*entry[1:], "--engine", "opa", "infra/main.tf", "infra/modules/logs/main.tf"]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "in 2 plans" in out  # the root and the changed child module, each planned once


@pytest.mark.terraform
def test_hooks_install_and_run_on_a_machine_with_only_python(tmp_path: Path) -> None:
    """The real pre-commit installs tfgen from this repository with no OPA, Go or cache at hand."""
    tool = shutil.which("pre-commit") or str(ROOT / ".venv" / "bin" / "pre-commit")
    if not Path(tool).is_file():
        missing("pre-commit", "pip install pre-commit (a dev dependency)")
    home, project = tmp_path / "home", tmp_path / "project"
    (home / "cache").mkdir(parents=True)
    (project / "infra").mkdir(parents=True)
    (project / "infra" / "main.tf").write_text('resource "aws_kms_key" "this" {}\n')
    shutil.copy(FIXTURES / "bad" / "control_valid_plan.json", project / "prod.plan.json")
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join(p for p in ("/usr/bin", "/bin") if Path(p).is_dir()),
        "TFGEN_CACHE_DIR": str(home / "cache"),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "LANG": "C.UTF-8",
    }
    assert shutil.which("opa", path=env["PATH"]) is None
    assert shutil.which("go", path=env["PATH"]) is None
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=project, env=env, check=True)
    subprocess.run([*git, "add", "."], cwd=project, env=env, check=True)
    proc = subprocess.run(
        [tool, "try-repo", str(ROOT), "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    plan_hook = out[out.index("tfgen plan (offline policy gate)") :]
    check_hook = out[out.index("tfgen check (plan JSON)") :]
    assert "KMS-001" in plan_hook and "in 1 plan: infra (" in plan_hook, out
    assert "KMS-001" in check_hook and "in 1 plan: prod.plan.json (" in check_hook, out
    assert "error" not in out.lower(), out
