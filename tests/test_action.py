"""The GitHub Action (action.yml) and the CI examples: their scripts run as written."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ACTION, ROOT, run_step, step

WORKFLOW = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
GITLAB = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())
PLAN = ROOT / "tests" / "fixtures" / "bad" / "control_valid_plan.json"
EXAMPLE_ROOT = "modules/cloudtrail-kms-key/examples/basic"
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = ROOT / "schemas" / "report.schema.json"


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def gate_env(**inputs: str) -> dict[str, str]:
    """The Evaluate step's env, as the action maps its inputs (defaults from action.yml)."""
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update(inputs)
    mapping = step("Evaluate")["env"]
    env = {}
    for var, expression in mapping.items():
        name = expression.removeprefix("${{ inputs.").removesuffix(" }}")
        if name in values:
            env[var] = values[name]
    return env


def validate(document: Any, schema_path: Path) -> list[str]:
    import jsonschema

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [e.message for e in validator.iter_errors(document)]


# action.yml


def test_action_is_composite_with_the_gate_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {"directories", "command", "engine", "fail-on", "baseline", "config"} <= set(
        ACTION["inputs"]
    )
    assert {"exit-code", "sarif-file", "markdown-file", "json-file"} <= set(ACTION["outputs"])
    install = step("Install tfgen from its wheel")["run"]
    assert "pip wheel" in install and '"$ACTION_PATH"' in install
    # Dependencies and the build backend only through the lock's hashes; the wheel adds nothing.
    assert '--require-hashes -r "$ACTION_PATH/requirements.lock"' in install
    assert "--no-deps --no-build-isolation" in install and '--no-deps "$wheel"' in install
    for s in ACTION["runs"]["steps"]:
        # Inputs reach scripts through env only: an expression in a script is an injection.
        assert "${{" not in s.get("run", ""), s.get("name")
    assert step("Exit with tfgen's code")["env"] == {"CODE": "${{ steps.gate.outputs.exit-code }}"}


@pytest.mark.opa
def test_gate_step_writes_every_report_from_one_evaluation(tmp_path: Path) -> None:
    proc = run_step("Evaluate", gate_env(command="check", directories=f"{PLAN}\n"), tmp_path)
    assert proc.returncode == 0, proc.stderr  # the exit code is an output, not the step's
    out = outputs(tmp_path)
    assert out["exit-code"] == "1"
    sarif = json.loads(Path(out["sarif-file"]).read_text())
    assert validate(sarif, SARIF_SCHEMA) == []
    report = json.loads(Path(out["json-file"]).read_text())
    assert validate(report, REPORT_SCHEMA) == []
    assert report["summary"]["blocking"] == 2
    markdown = Path(out["markdown-file"]).read_text()
    assert (tmp_path / "summary").read_text() == markdown
    assert markdown.startswith("### tfgen: :x: **FAIL**")
    # Annotations in the log, the verdict on stderr.
    assert proc.stdout.count("::error ") == 2
    assert proc.stderr.startswith("FAIL: 2 findings")


@pytest.mark.opa
def test_gate_step_passes_fail_on_config_and_args(tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('severity_threshold = "critical"\n')
    env = gate_env(
        command="check",
        directories=str(PLAN),
        config=str(config),
        args="--severity-threshold critical",
    )
    proc = run_step("Evaluate", env, tmp_path)
    assert outputs(tmp_path)["exit-code"] == "0", proc.stderr
    assert proc.stderr.startswith("PASS: ")
    proc = run_step("Evaluate", gate_env(command="apply", directories="x"), tmp_path)
    assert proc.returncode == 2
    assert "::error title=tfgen::command must be plan or check" in proc.stdout


@pytest.mark.terraform
@pytest.mark.opa
def test_gate_step_plans_the_example_root(tmp_path: Path) -> None:
    proc = run_step(
        "Evaluate", gate_env(directories=EXAMPLE_ROOT, **{"fail-on": "advisory"}), tmp_path
    )
    assert outputs(tmp_path)["exit-code"] == "1", proc.stderr
    sarif = json.loads(Path(outputs(tmp_path)["sarif-file"]).read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {"modules/cloudtrail-kms-key/main.tf"}


@pytest.mark.parametrize("code, expected", [("0", 0), ("1", 1), ("2", 2), ("", 2), ("x", 2)])
def test_exit_step_exits_with_tfgens_code(tmp_path: Path, code: str, expected: int) -> None:
    assert run_step("Exit with tfgen's code", {"CODE": code}, tmp_path).returncode == expected


# The PR comment: a fake `gh` that keeps comments in a file and filters with the real jq.

FAKE_GH = r"""#!/usr/bin/env python3
import json, subprocess, sys
from pathlib import Path
state = Path(__file__).with_name("comments.json")
log = Path(__file__).with_name("calls.log")
args = sys.argv[1:]
with log.open("a") as handle:
    handle.write(json.dumps(args) + "\n")
comments = json.loads(state.read_text())
if "--jq" in args:
    query = args[args.index("--jq") + 1]
    proc = subprocess.run(["jq", "-r", query], input=json.dumps(comments), capture_output=True, text=True, check=True)
    sys.stdout.write(proc.stdout)
    sys.exit(0)
if Path(__file__).with_name("readonly").exists():
    sys.stderr.write("HTTP 403: Resource not accessible by integration\n")
    sys.exit(1)
body = Path(args[args.index("-F") + 1].removeprefix("body=@")).read_text()
method = args[args.index("--method") + 1]
if method == "PATCH":
    cid = int(args[args.index("--method") + 2].rsplit("/", 1)[1])
    for comment in comments:
        if comment["id"] == cid:
            comment["body"] = body
else:
    comments.append({"id": 100 + len(comments), "body": body})
state.write_text(json.dumps(comments))
"""


@pytest.fixture
def gh(tmp_path: Path) -> Path:
    if shutil.which("jq") is None:
        from helpers import missing

        missing("jq", "not on PATH (scripts/install-actionlint.sh installs it)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gh"
    fake.write_text(FAKE_GH)
    fake.chmod(0o755)
    (bin_dir / "comments.json").write_text("[]")
    return bin_dir


def comment_env(tmp_path: Path, head: str = "acme/infra") -> dict[str, str]:
    report = tmp_path / "tfgen.md"
    if not report.exists():
        report.write_text("### tfgen: :x: **FAIL**\n")
    return {
        "GH_TOKEN": "t",
        "REPORT": str(report),
        "PR_NUMBER": "7",
        "HEAD_REPO": head,
        "KEY": "tfgen policy gate/policy/plan/infra",
    }


def comment(gh: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{gh}{os.pathsep}{os.environ['PATH']}"
    return run_step("Comment on the pull request", {**comment_env(tmp_path), **env}, tmp_path, path)


def test_comment_is_created_then_updated_in_place(gh: Path, tmp_path: Path) -> None:
    other = {"id": 1, "body": "<!-- tfgen-report: 0000000000000000 -->\nanother workflow's report"}
    human = {"id": 2, "body": "LGTM <!-- tfgen-report: in a quote -->"}
    (gh / "comments.json").write_text(json.dumps([other, human]))
    assert comment(gh, tmp_path).returncode == 0
    comments = json.loads((gh / "comments.json").read_text())
    assert comments[:2] == [other, human]  # never another workflow's comment
    (ours,) = comments[2:]
    assert ours["body"].startswith("<!-- tfgen-report: ")
    assert ours["body"].endswith("### tfgen: :x: **FAIL**\n")
    (tmp_path / "tfgen.md").write_text("### tfgen: :white_check_mark: **PASS**\n")
    proc = comment(gh, tmp_path)
    assert proc.returncode == 0, proc.stderr
    comments = json.loads((gh / "comments.json").read_text())
    assert len(comments) == 3 and comments[2]["id"] == ours["id"]
    assert comments[2]["body"].endswith("**PASS**\n")
    # Another key (another job or directory) gets its own comment.
    assert comment(gh, tmp_path, KEY="tfgen policy gate/policy/plan/other").returncode == 0
    assert len(json.loads((gh / "comments.json").read_text())) == 4


def test_fork_pull_request_skips_the_comment_with_a_notice(gh: Path, tmp_path: Path) -> None:
    proc = comment(gh, tmp_path, HEAD_REPO="someone/fork")
    assert proc.returncode == 0
    assert proc.stdout.startswith("::notice title=tfgen::pull request from a fork")
    assert not (gh / "calls.log").exists()


def test_read_only_token_is_a_notice_not_a_failure(gh: Path, tmp_path: Path) -> None:
    (gh / "readonly").touch()
    proc = comment(gh, tmp_path)
    assert proc.returncode == 0
    assert "::notice title=tfgen::could not write the PR comment" in proc.stdout


# The example workflows


def test_example_workflow_uses_the_action_and_filters_every_input() -> None:
    on = WORKFLOW[True] if True in WORKFLOW else WORKFLOW["on"]  # YAML 1.1 reads `on` as true
    paths = on["pull_request"]["paths"]
    assert {"**.tf", "**.tfvars", "**/.terraform.lock.hcl", ".github/workflows/tfgen.yml"} <= set(
        paths
    )
    steps = WORKFLOW["jobs"]["policy"]["steps"]
    gate = next(s for s in steps if s.get("id") == "tfgen")
    assert gate["uses"] == "./"
    assert set(gate["with"]) <= set(ACTION["inputs"])
    assert (ROOT / gate["with"]["directories"]).is_dir()
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "${{ steps.tfgen.outputs.sarif-file }}"
    assert "head.repo.full_name == github.repository" in upload["if"]  # not on fork PRs
    text = (ROOT / "examples" / "ci" / "github-actions.yml").read_text()
    assert 'exit "${{' not in text


@pytest.mark.terraform
@pytest.mark.opa
def test_gitlab_example_writes_code_quality(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfgen.cli import main

    job = GITLAB["tfgen"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    (line,) = [s for s in job["script"] if s.startswith("tfgen ")]
    variables = job["variables"]
    argv = [
        arg.replace('"$ROOT_MODULE"', variables["ROOT_MODULE"]).replace(
            "$ROOT_MODULE", str(ROOT / variables["ROOT_MODULE"])
        )
        for arg in shlex.split(line)[1:]
    ]
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # --force: re-running over the previous reports works
        assert main(argv) == 0
    issues = json.loads((tmp_path / "gl-code-quality-report.json").read_text())
    assert issues and all(i["location"]["path"].endswith("main.tf") for i in issues)
    assert {i["severity"] for i in issues} <= {"info", "minor", "major", "critical", "blocker"}
    assert (tmp_path / "tfgen-junit.xml").is_file() and (tmp_path / "tfgen.md").is_file()
