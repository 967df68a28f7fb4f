"""README: every command it shows runs as shown from the root of a clone, with its stated exit code."""

from __future__ import annotations

import datetime as dt
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
from helpers import FIXTURES, README, ROOT, blocks, commands, missing, section

from tfgen.cli import main

WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
REPORT_SCHEMA = ROOT / "schemas" / "report.schema.json"
SARIF_SCHEMA = FIXTURES / "schemas" / "sarif-schema-2.1.0.json"
EXAMPLE = "modules/cloudtrail-kms-key/examples/basic"
# README's test command (the second of "Two commands"): what .ci/run runs.
TEST_COMMAND = "bash scripts/setup-machine.sh && bash scripts/test.sh"
# Commands shown but not run by these tests, and why.
NOT_RUN_HERE = {
    TEST_COMMAND: ".ci/run runs it on a clean clone (test_ci_runs_the_readme_test_command)",
    "pip install -e '.[terraform]'": "scripts/setup.sh installs the checkout hash-checked instead (requirements-dev.lock, then -e --no-deps)",
    "pip install tfgen-0.1.0-py3-none-any.whl": "tests/test_packaging.py builds the wheel and installs it into a fresh venv",
}
# Sections whose commands a dedicated test below runs.
DEDICATED = {"Two commands", "Install", "Generate the module", "Check plans", "CI gate"}


def _sections_named_in_tests() -> set[str]:
    """Sections a README test reads by name (`section("TITLE")`): that test runs their commands."""
    named: set[str] = set()
    for path in Path(__file__).parent.glob("test_readme*.py"):
        named.update(re.findall(r'section\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    return named


# Sections a dedicated test runs with files they show (a config) or describe (a root in infra/,
# the `project` fixture).
DEDICATED_WITH_CONFIG = _sections_named_in_tests() - DEDICATED


def section_titles() -> list[str]:
    return re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)


def all_steps(script: str) -> list[tuple[str, list[str], int]]:
    """Every `# exit N` command of a block, in order: program, arguments, expected exit code."""
    steps = []
    for line in script.splitlines():
        if "  # exit " not in line:
            continue
        program = line.split()[0]
        ((argv, code, _),) = commands(line, program)
        steps.append((program, argv, code))
    return steps


def run_step(program: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """A README command: tfgen in-process, anything else as a process in the working directory."""
    if program == "tfgen":
        code = main(argv)
        captured = capsys.readouterr()
        return code, captured.out + captured.err
    if shutil.which(program) is None:
        missing(program, "not on PATH (scripts/test.sh puts the pinned builds there)")
    proc = subprocess.run(
        [program, *argv], capture_output=True, text=True, timeout=300, check=False
    )
    return proc.returncode, proc.stdout + proc.stderr


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


def validate(path: Path, schema: Path) -> dict[str, Any]:
    import jsonschema

    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    spec = json.loads(schema.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(spec)(spec)
    assert [e.message for e in validator.iter_errors(document)] == []
    return document


@pytest.mark.terraform
@pytest.mark.opa
def test_ci_gate_commands(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (script,) = blocks(section("CI gate"), "sh")
    steps = all_steps(script)
    assert len(steps) >= 3
    for attempt in range(2):  # a second run over the first run's reports must work as shown
        for index, (program, argv, expected) in enumerate(steps):
            code, out = run_step(program, argv, capsys)
            assert code == expected, f"run {attempt + 1}: {argv}: {out}"
            if index == 0:
                assert re.search(r"modules/cloudtrail-kms-key/main\.tf:\d+", out)
    validate(clone / "tfgen.sarif", SARIF_SCHEMA)
    assert "KMS-012" in re.sub(r"\\(.)", r"\1", (clone / "review.md").read_text())
    issues = json.loads((clone / "gl-code-quality-report.json").read_text())
    assert {i["check_name"] for i in issues} >= {"KMS-012"}
    assert all(i["location"]["path"] == "modules/cloudtrail-kms-key/main.tf" for i in issues)


@pytest.mark.terraform
@pytest.mark.opa
def test_waiver_example(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = section("Waivers and enforcement")
    (config,) = blocks(text, "toml")
    (clone / ".tfgen.toml").write_text(config)
    waiver = re.search(r'\[\[waivers\]\]\nrule = "([^"]+)"', config)
    assert waiver
    expires = dt.date.fromisoformat(re.search(r"expires = (\S+)", config).group(1))  # type: ignore[union-attr]
    (script,) = blocks(text, "sh")
    steps = commands(script)
    assert steps[0][2] == expires  # the comment names the waiver's date
    for argv, expected, until in steps:
        if until is not None and dt.date.today() >= until:
            expected = 1  # past the shown date the waiver has expired and the finding blocks
        code = main([*argv, "--format", "json"])
        doc = json.loads(capsys.readouterr().out)
        assert code == expected, doc
        waived = [f for f in doc["findings"] if f["rule_id"] == waiver.group(1)]
        assert [f["status"] for f in waived] == (
            ["waived"] if dt.date.today() < expires else ["blocking"]
        )
        assert [n for n in doc["notices"] if "stale" in n] == []


def test_workflow_excerpt_is_the_workflow() -> None:
    """The README's YAML is taken verbatim from examples/ci/github-actions.yml."""
    (excerpt,) = blocks(section("CI gate"), "yaml")
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["policy"]["steps"]
    for step in yaml.safe_load(excerpt):
        assert step in steps, step["name"]


def test_every_shown_command_is_run_or_says_why_not() -> None:
    """Each line of every sh block is a command some test runs (or listed in NOT_RUN_HERE)."""
    titles = section_titles()
    for title in titles:
        for script in blocks(section(title), "sh"):
            for line in script.splitlines():
                command = line.split("  #")[0].strip()
                if not command:
                    continue
                runs = (
                    title in DEDICATED | DEDICATED_WITH_CONFIG
                    or "  # exit " in line  # the generic test below runs it
                )
                assert runs, f"## {title}: {line}"
                if title in DEDICATED and not command.startswith(("tfgen ", "opa ", "conftest ")):
                    assert command in NOT_RUN_HERE or command in SCRIPTS_RUN, line


def test_ci_runs_the_readme_test_command() -> None:
    """The README's two commands: the demo, then the test command .ci/run runs on a clean clone."""
    (script,) = blocks(section("Two commands"), "sh")
    shown = [line.split("  #")[0].strip() for line in script.splitlines() if line.strip()]
    assert shown == ["bash scripts/demo.sh", TEST_COMMAND]
    ci = [
        line.removeprefix("exec ")
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.startswith(("bash ", "exec "))
    ]
    assert " && ".join(ci) == TEST_COMMAND


# Shell commands of "Two commands" and "Install" that test_shown_scripts_run runs.
SCRIPTS_RUN = {"bash scripts/demo.sh", "bash scripts/install-opa.sh"}


@pytest.mark.terraform
@pytest.mark.opa
def test_shown_scripts_run(tmp_path: Path) -> None:
    shown = {
        line.split("  #")[0].strip()
        for title in ("Two commands", "Install")
        for script in blocks(section(title), "sh")
        for line in script.splitlines()
        if line.strip()
    }
    assert shown <= SCRIPTS_RUN | set(NOT_RUN_HERE)
    env = {**os.environ, "TFGEN_DEMO_DIR": str(tmp_path / "demo")}
    for command in sorted(shown & SCRIPTS_RUN):
        proc = subprocess.run(
            shlex.split(command),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert proc.returncode == 0, f"{command}: {proc.stderr[-2000:]}"
    assert (tmp_path / "demo" / "plan.json").is_file()


def _generic_sections() -> list[str]:
    return [
        title
        for title in section_titles()
        if title not in DEDICATED | DEDICATED_WITH_CONFIG
        and any("  # exit " in s for s in blocks(section(title), "sh"))
    ]


@pytest.mark.terraform
@pytest.mark.opa
def test_other_sections_commands(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Sections without a dedicated test: their `# exit N` commands, in order, in a clone."""
    for title in _generic_sections():
        for script in blocks(section(title), "sh"):
            for program, argv, expected in all_steps(script):
                code, out = run_step(program, argv, capsys)
                assert code == expected, f"## {title}: {program} {shlex.join(argv)}: {out}"


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
@pytest.mark.opa
def test_check_commands(
    clone: Path, docker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = blocks(section("Check plans"), "sh")
    steps = [step for script in scripts for step in all_steps(script)]
    assert any("docker" in argv for _, argv, _ in steps)
    assert {program for program, _, _ in steps} == {"tfgen", "opa", "conftest"}
    outputs: dict[str, str] = {}
    for program, argv, expected in steps:
        code, out = run_step(program, argv, capsys)
        assert code == expected, f"{program} {argv}: {out}"
        outputs[" ".join([program, *argv])] = out
    sarif = validate(clone / "tfgen.sarif", SARIF_SCHEMA)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"KMS-012", "KMS-022"}
    report = validate(clone / "report.json", REPORT_SCHEMA)
    assert report["summary"]["exit_code"] == 0
    assert all(f["remediation"] and f["reference"] for f in report["findings"])
    assert (clone / "review.md").read_text().startswith("### tfgen: :white_check_mark: **PASS**")
    assert (clone / "junit.xml").read_text().startswith("<?xml")
    table = outputs["tfgen check plan.json"]
    assert re.search(r"^  fix: ", table, flags=re.MULTILINE)
    assert all(len(line) <= 120 for line in table.splitlines()[:-1])
    assert "KMS-001" in outputs["tfgen rules"]
