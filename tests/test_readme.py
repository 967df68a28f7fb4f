"""README `## CI gate` and `## Waivers and enforcement`: the shown commands, config and workflow run."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import FIXTURES, ROOT, missing

from tfgen.cli import main

README = ROOT / "README.md"
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
SARIF_SCHEMA = FIXTURES / "schemas" / "sarif-schema-2.1.0.json"
SHELL_OPERATORS = {">>", ">", "||", "&&", "|", ";"}


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.DOTALL)


def commands(script: str) -> list[tuple[list[str], int, dt.date | None]]:
    """Each `tfgen ...  # exit N[ until DATE]` line: argv, expected exit code, optional end date."""
    found = []
    for line in script.splitlines():
        if not line.startswith("tfgen "):
            continue
        command, _, comment = line.partition("  # ")
        match = re.match(r"exit (\d)(?: until (\d{4}-\d\d-\d\d))?", comment)
        assert match, f"README command without '# exit N': {line}"
        until = dt.date.fromisoformat(match.group(2)) if match.group(2) else None
        found.append((shlex.split(command)[1:], int(match.group(1)), until))
    return found


def shell_argv(line: str, env: dict[str, str]) -> list[str]:
    """A `tfgen ...` line of a workflow `run:` script as argv, up to the first shell operator."""
    argv = []
    for token in shlex.split(line):
        if token in SHELL_OPERATORS:
            break
        argv.append(re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], token))
    return argv[1:]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout whose infra/ root module has a KMS key with rotation off."""
    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    shutil.copytree(FIXTURES / "e2e" / "root", infra)
    main_tf = infra / "main.tf"
    text = main_tf.read_text()
    assert "enable_key_rotation     = true" in text
    main_tf.write_text(
        text.replace("enable_key_rotation     = true", "enable_key_rotation     = false")
    )
    monkeypatch.chdir(tmp_path)
    for name in ("TFGEN_OPA_URL", "TFGEN_OPA_TOKEN", "TFGEN_TERRAFORM"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.terraform
def test_ci_gate_commands(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (script,) = blocks(section("CI gate"), "sh")
    steps = commands(script)
    assert len(steps) >= 3
    for index, (argv, expected, _) in enumerate(steps):
        code = main(argv)
        out = capsys.readouterr().out
        assert code == expected, f"{argv}: {out}"
        if index == 0:
            assert re.search(r"infra/main\.tf:\d+", out)
    assert json.loads((project / "tfgen.sarif").read_text())["version"] == "2.1.0"
    assert "KMS-001" in re.sub(r"\\(.)", r"\1", (project / "review.md").read_text())


@pytest.mark.terraform
def test_waiver_example(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = section("Waivers and enforcement")
    (config,) = blocks(text, "toml")
    (project / ".tfgen.toml").write_text(config)
    expires = dt.date.fromisoformat(re.search(r"expires = (\S+)", config).group(1))  # type: ignore[union-attr]
    (script,) = blocks(text, "sh")
    steps = commands(script)
    assert steps[0][2] == expires  # the comment names the waiver's date
    for argv, expected, _ in steps:
        if dt.date.today() >= expires:
            expected = 1  # past the shown date the waiver has expired and KMS-001 blocks again
        code = main([*argv, "--format", "json"])
        doc = json.loads(capsys.readouterr().out)
        assert code == expected, doc
        rotation = [f for f in doc["findings"] if f["rule_id"] == "KMS-001"]
        assert [f["status"] for f in rotation] == ["waived" if expected == 0 else "blocking"]
        assert [n for n in doc["notices"] if "stale" in n] == []


def test_workflow_excerpt_is_the_workflow() -> None:
    """The README's YAML is taken verbatim from examples/ci/github-actions.yml."""
    (excerpt,) = blocks(section("CI gate"), "yaml")
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["policy"]["steps"]
    for step in yaml.safe_load(excerpt):
        assert step in steps, step["name"]


def test_workflow_structure() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["policy"]
    assert workflow["permissions"]["security-events"] == "write"
    steps = {step.get("name") or step["uses"]: step for step in job["steps"]}
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "opa" in compose["services"]
    assert (
        "docker compose up -d --wait opa"
        in steps["Start OPA with the rule pack (docker compose)"]["run"]
    )
    upload = steps["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"] == "always()"
    gate = steps["Plan and gate"]["run"]
    assert f"--output {upload['with']['sarif_file']}" in gate
    assert steps["Fail on blocking findings or errors"]["run"] == (
        'exit "${{ steps.gate.outputs.exit_code }}"'
    )


def _sarif_valid(document: dict[str, Any]) -> None:
    import jsonschema

    if not SARIF_SCHEMA.is_file():
        missing("SARIF 2.1.0 schema", f"{SARIF_SCHEMA} not found")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(document)]
    assert errors == []


@pytest.mark.terraform
@pytest.mark.opa
def test_workflow_tfgen_steps_run(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    opa_server: str,
) -> None:
    """The workflow's own tfgen lines, against a real OPA server (compose is tested with the engines)."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    env = {**workflow["jobs"]["policy"]["env"], "TFGEN_OPA_URL": opa_server}
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    lines = [
        line.strip()
        for step in workflow["jobs"]["policy"]["steps"]
        for line in step.get("run", "").splitlines()
        if line.strip().startswith("tfgen ")
    ]
    assert [shell_argv(line, env)[0] for line in lines] == ["plan", "check"]
    codes = []
    for line in lines:
        codes.append(main(shell_argv(line, env)))
        capsys.readouterr()
    assert codes == [1, 1]  # rotation off blocks; the job's last step exits with it
    sarif = json.loads((project / "tfgen.sarif").read_text())
    _sarif_valid(sarif)
    locations = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    ]
    assert locations == ["infra/main.tf"]
    assert "KMS-001" in re.sub(r"\\(.)", r"\1", (project / "tfgen.md").read_text())


# README `## Generate the module` and `## Check plans`: every shown command runs as shown.


def test_generate_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (script,) = blocks(section("Generate the module"), "sh")
    steps = commands(script)
    assert [expected for _, expected, _ in steps] == [0, 0, 2]
    for argv, expected, _ in steps:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        code = main(argv)
        err = capsys.readouterr().err
        assert code == expected, err
        if expected == 2:
            assert err.count("\n") == 1 and "account" in err
            assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    policy = (tmp_path / "kms" / "examples" / "basic" / "main.tf").read_text()
    assert "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org" in policy
    assert (tmp_path / "kms-default" / "main.tf").is_file()


@pytest.mark.terraform
@pytest.mark.docker
def test_check_commands(
    project: Path, docker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (script,) = blocks(section("Check plans"), "sh")
    steps = commands(script)
    assert any("docker" in argv for argv, _, _ in steps)
    for argv, expected, _ in steps:
        code = main(argv)
        captured = capsys.readouterr()
        assert code == expected, captured.out + captured.err
    sarif = json.loads((project / "tfgen.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"KMS-001"}
    report = json.loads((project / "report.json").read_text())
    assert report["summary"]["exit_code"] == 1
