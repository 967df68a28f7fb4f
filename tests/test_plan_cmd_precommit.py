""".pre-commit-hooks.yaml: a valid manifest whose hooks run `tfgen` the way pre-commit calls them."""

from __future__ import annotations

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

from tfgen.cli import main

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
