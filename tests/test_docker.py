"""docker-compose.yml and the Docker engine with the real Docker engine, image and OPA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from helpers import FIXTURES, REGO, ROOT, PlanFn, free_port, missing

from tfgen.bundle import build
from tfgen.cli import main
from tfgen.engines import EngineOptions, open_engine
from tfgen.engines.docker_opa import LABEL_OWNER, LABEL_ROLE, DockerEngine
from tfgen.engines.opa import OpaServerEngine
from tfgen.errors import EngineError
from tfgen.evaluate import evaluate_plans
from tfgen.model import Finding, PlanInfo
from tfgen.rulepack import RulePack, find_pack
from tfgen.toolchain import Toolchain, pins

pytestmark = [pytest.mark.docker, pytest.mark.opa]

PACK = FIXTURES / "engines" / "pack"
MODULES = FIXTURES / "engines" / "modules"
TOKEN = "t0ken-for-tests"  # noqa: S105 - a throwaway token for a test container
KEY_PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {
            "address": "aws_kms_key.k",
            "mode": "managed",
            "type": "aws_kms_key",
            "name": "k",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": ["create"], "before": None, "after": {}},
        }
    ],
}


@pytest.fixture(scope="session")
def opa_image(docker_client: Any) -> str:
    """The OPA image CI builds (TFGEN_OPA_IMAGE), else the pinned official one if present."""
    import docker.errors

    image = os.environ.get("TFGEN_OPA_IMAGE") or pins()["opa_image"]
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        missing("OPA image", f"{image} is not present (run scripts/install-docker.sh)")
    return image


@pytest.fixture
def project(opa_image: str, monkeypatch: pytest.MonkeyPatch, opa_bin: Path) -> Iterator[Path]:
    """A copy of the compose project serving the fixture pack, on its own port and name."""
    # Not under pytest's 0700 tmp tree: the container runs as uid 1000 and reads the mounts.
    root = Path(tempfile.mkdtemp(prefix="tfgen-compose-"))
    root.chmod(0o755)
    (root / "deploy" / "opa").mkdir(parents=True)
    shutil.copy(ROOT / "docker-compose.yml", root)
    for name in ("authz.rego", "authz.manifest"):
        shutil.copy(ROOT / "deploy" / "opa" / name, root / "deploy" / "opa")
    shutil.copytree(PACK, root / "rego")
    bundle = build(RulePack(root / "rego"), root / "bundle.tar.gz", opa_bin)
    monkeypatch.setenv("TFGEN_OPA_BUNDLE", str(bundle))
    monkeypatch.setenv("TFGEN_OPA_IMAGE", opa_image)
    monkeypatch.setenv("TFGEN_OPA_PORT", str(free_port()))
    monkeypatch.setenv("TFGEN_OPA_CONTAINER", f"tfgen-test-{uuid.uuid4().hex[:8]}")
    monkeypatch.delenv("TFGEN_OPA_TOKEN", raising=False)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cleanup(docker_client: Any) -> Iterator[None]:
    """Remove whatever container the test named, even when it fails midway."""
    yield
    name = os.environ.get("TFGEN_OPA_CONTAINER", "")
    if name.startswith("tfgen-test-"):
        for container in docker_client.containers.list(all=True, filters={"name": name}):
            container.remove(force=True)


def compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        missing("docker-compose", "not on PATH")
    return subprocess.run(
        ["docker-compose", "-p", os.environ["TFGEN_OPA_CONTAINER"], *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def rows(findings: Sequence[Finding]) -> list[tuple[Any, ...]]:
    return [
        (
            f.plan,
            f.rule_id,
            f.address,
            f.severity,
            f.enforcement,
            f.message,
            json.dumps(f.details, sort_keys=True),
        )
        for f in findings
    ]


def test_compose_file_is_valid_and_hardened(
    opa_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TFGEN_OPA_IMAGE", raising=False)
    monkeypatch.delenv("TFGEN_OPA_PORT", raising=False)
    monkeypatch.delenv("TFGEN_OPA_BUNDLE", raising=False)
    if shutil.which("docker-compose") is None:
        missing("docker-compose", "not on PATH")
    unset = subprocess.run(
        ["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert unset.returncode != 0
    assert "run `tfgen opa bundle` and set TFGEN_OPA_BUNDLE" in unset.stderr
    monkeypatch.setenv("TFGEN_OPA_BUNDLE", "/srv/tfgen-bundle.tar.gz")
    out = subprocess.run(
        ["docker-compose", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    service = yaml.safe_load(out)["services"]["opa"]
    assert service["image"] == pins()["opa_image"]
    assert service["ports"] == ["127.0.0.1:8181:8181/tcp"]
    assert service["user"] == "1000:1000"
    assert service["read_only"] is True
    assert service["security_opt"] == ["no-new-privileges:true"]
    assert service["cap_drop"] == ["ALL"]
    assert "/srv/tfgen-bundle.tar.gz:/bundle/tfgen.tar.gz:ro" in service["volumes"]
    assert service["command"][-3:] == ["--bundle", "/bundle/tfgen.tar.gz", "/authz"]
    assert "--authentication=token" in service["command"]
    assert "--authorization=basic" in service["command"]
    assert "--set=decision_logs.console=false" in service["command"]
    assert service["healthcheck"]["test"][:2] == ["CMD", "/opa"]


def test_compose_up_is_healthy_and_enforces_the_token(
    project: Path,
    cleanup: None,
    monkeypatch: pytest.MonkeyPatch,
    toolchain: Toolchain,
) -> None:
    monkeypatch.setenv("TFGEN_OPA_TOKEN", TOKEN)
    up = compose(project, "up", "-d")
    assert up.returncode == 0, up.stderr
    try:
        name = os.environ["TFGEN_OPA_CONTAINER"]
        url = f"http://127.0.0.1:{os.environ['TFGEN_OPA_PORT']}"
        _wait_docker_health(name)
        denied = requests.post(f"{url}/v1/data/main/report", json={"input": KEY_PLAN}, timeout=5)
        assert denied.status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        evil = "package main\n\nreport := {}\n"
        for method, path, body in (
            ("PUT", "/v1/policies/evil", evil),
            ("DELETE", "/v1/policies/policy/main/main.rego", None),
            ("PUT", "/v1/data/tfgen", "{}"),
            ("PATCH", "/v1/data/tfgen_config", "[]"),
        ):
            answer = requests.request(method, f"{url}{path}", data=body, headers=bearer, timeout=5)
            assert answer.status_code == 401, (method, path)
        config = requests.put(f"{url}/v1/data/tfgen_config", json={}, headers=bearer, timeout=5)
        assert config.status_code == 204
        pack = find_pack(project / "rego")
        engine = OpaServerEngine(url, pack, token=TOKEN)
        try:
            assert [r["rule_id"] for r in engine.evaluate(KEY_PLAN)["deny"]] == ["FIX-001"]
        finally:
            engine.close()
        wrong = OpaServerEngine(url, pack, token=TOKEN + "-wrong")
        try:
            with pytest.raises(EngineError, match=r"HTTP 401: unauthorized.*--opa-token"):
                wrong.evaluate(KEY_PLAN)
        finally:
            wrong.close()
        # A container docker-compose started is reused, and never stopped, by tfgen.
        docker_engine = DockerEngine(
            pack,
            compose_env=dict(os.environ),
            compose_file=project / "docker-compose.yml",
            token=TOKEN,
            toolchain=toolchain,
        )
        assert docker_engine.started is False
        docker_engine.close()
        assert (
            main(
                [
                    "opa",
                    "down",
                    "--rules",
                    str(project / "rego"),
                    "--compose-file",
                    str(project / "docker-compose.yml"),
                ]
            )
            == 0
        )
        assert _state(name) == "running"
    finally:
        down = compose(project, "down")
        assert down.returncode == 0, down.stderr


def _wait_docker_health(name: str, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Health.Status}}", name],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if status == "healthy":
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} health is {status!r} after {timeout}s")


def _state(name: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Status}}", name],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def test_docker_engine_runs_a_hardened_container_and_removes_it(
    project: Path,
    cleanup: None,
    docker_client: Any,
    toolchain: Toolchain,
) -> None:
    pack = find_pack(project / "rego")
    engine = DockerEngine(
        pack,
        compose_env=dict(os.environ),
        compose_file=project / "docker-compose.yml",
        toolchain=toolchain,
    )
    name = os.environ["TFGEN_OPA_CONTAINER"]
    try:
        assert engine.started is True
        container = docker_client.containers.get(name)
        host = container.attrs["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert host["SecurityOpt"] == ["no-new-privileges:true"]
        assert host["CapDrop"] == ["ALL"]
        assert container.attrs["Config"]["User"] == "1000:1000"
        assert host["PortBindings"]["8181/tcp"][0]["HostIp"] == "127.0.0.1"
        assert all(not m["RW"] for m in container.attrs["Mounts"])
        assert container.labels[LABEL_ROLE] == "opa"
        assert container.labels[LABEL_OWNER] == "tfgen"
        report = evaluate_plans([(_info("k"), KEY_PLAN)], engine, pack)
        assert [f.rule_id for f in report.findings] == ["FIX-001"]
        # Without a token the API is open on loopback, but the served pack cannot be replaced.
        evil = requests.put(f"{engine.service.url}/v1/policies/evil", data="package x\n", timeout=5)
        assert evil.status_code == 401
        assert report.tool["engine"] == "docker"
        assert report.tool["opa"] == pins()["opa"]
        assert report.tool["image"] == os.environ["TFGEN_OPA_IMAGE"]
    finally:
        engine.close()
    assert not docker_client.containers.list(all=True, filters={"name": name})


def test_keep_running_then_reuse_then_opa_down(
    project: Path,
    cleanup: None,
    capsys: pytest.CaptureFixture[str],
    toolchain: Toolchain,
) -> None:
    pack = find_pack(project / "rego")
    compose_file = project / "docker-compose.yml"
    name = os.environ["TFGEN_OPA_CONTAINER"]
    first = DockerEngine(
        pack,
        compose_env=dict(os.environ),
        compose_file=compose_file,
        keep_running=True,
        toolchain=toolchain,
    )
    first.close()
    assert first.started is True
    assert _state(name) == "running"
    second = DockerEngine(
        pack, compose_env=dict(os.environ), compose_file=compose_file, toolchain=toolchain
    )
    assert second.started is False
    assert second.notices() == (f"reused running container {name}",)
    second.close()
    assert _state(name) == "running"
    flags = ["--rules", str(project / "rego"), "--compose-file", str(compose_file)]
    assert main(["opa", "status", *flags]) == 0
    assert f"{name}\trunning" in capsys.readouterr().out
    assert main(["opa", "down", *flags]) == 0
    assert f"removed {name}" in capsys.readouterr().out
    assert _state(name) == ""
    assert main(["opa", "status", *flags]) == 3
    assert main(["opa", "up", *flags]) == 0
    assert f"started {name}" in capsys.readouterr().out
    assert _state(name) == "running"


def test_container_stopped_mid_run_is_an_error(
    project: Path,
    cleanup: None,
    docker_client: Any,
    toolchain: Toolchain,
) -> None:
    pack = find_pack(project / "rego")
    engine = DockerEngine(
        pack,
        compose_env=dict(os.environ),
        compose_file=project / "docker-compose.yml",
        toolchain=toolchain,
    )
    container = docker_client.containers.get(os.environ["TFGEN_OPA_CONTAINER"])

    class StopsBeforeSecondPlan(list[tuple[PlanInfo, dict[str, Any]]]):
        def __getitem__(self, index: Any) -> Any:
            return super().__getitem__(index)

        def __iter__(self) -> Iterator[tuple[PlanInfo, dict[str, Any]]]:
            for i, item in enumerate(list.__iter__(self)):
                if i == 1:
                    container.stop(timeout=1)
                yield item

    plans = StopsBeforeSecondPlan([(_info(n), KEY_PLAN) for n in ("one", "two", "three")])
    try:
        report = evaluate_plans(plans, engine, pack)
    finally:
        engine.close()
    assert [p.path for p in report.plans] == ["one"]
    assert report.errors[0].startswith("two: OPA at http://127.0.0.1:")
    assert "unreachable" in report.errors[0]
    assert report.exit_code == 2


def _info(name: str) -> PlanInfo:
    return PlanInfo(path=name, format_version="1.2", terraform_version="1.15.5", resources=1)


def _fixture_dirs() -> list[Path]:
    """Every Terraform fixture: the rule fixtures (tests/fixtures/rules/*/*) and the engine ones."""
    dirs = [p for p in sorted((FIXTURES / "rules").glob("*/*")) if list(p.glob("*.tf"))]
    dirs += [p for p in sorted(MODULES.iterdir()) if list(p.glob("*.tf"))]
    return dirs


@pytest.mark.terraform
def test_differential_embedded_vs_docker_on_every_fixture_plan(
    plan_module: PlanFn,
    opa_image: str,
    cleanup: None,
    monkeypatch: pytest.MonkeyPatch,
    toolchain: Toolchain,
) -> None:
    """The real rule pack through the embedded engine and a real OPA container: same findings."""
    monkeypatch.setenv("TFGEN_OPA_IMAGE", opa_image)
    monkeypatch.setenv("TFGEN_OPA_PORT", str(free_port()))
    monkeypatch.setenv("TFGEN_OPA_CONTAINER", f"tfgen-test-{uuid.uuid4().hex[:8]}")
    compose_file = ROOT / "docker-compose.yml"
    options = EngineOptions(
        compose_file=compose_file, compose_env=dict(os.environ), toolchain=toolchain
    )
    pack = find_pack(REGO)
    plans = [(_info(str(d.relative_to(FIXTURES))), plan_module(d)) for d in _fixture_dirs()]
    assert len(plans) >= 2
    reports = []
    for name in ("embedded", "docker"):
        engine = open_engine(name, pack, {}, options)
        try:
            reports.append(evaluate_plans(plans, engine, pack))
        finally:
            engine.close()
    embedded, docker = reports
    assert embedded.errors == docker.errors == ()
    assert rows(embedded.findings) == rows(docker.findings)
    assert embedded.findings, "the fixtures should trigger some rules"


def test_an_image_that_cannot_be_had_is_exit_2(
    project: Path,
    cleanup: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TFGEN_OPA_IMAGE", "127.0.0.1:1/tfgen/no-such-opa:0")
    plan = project / "plan.json"
    plan.write_text(
        json.dumps(
            {
                **KEY_PLAN,
                "planned_values": {"root_module": {}},
                "configuration": {"root_module": {}},
            }
        ),
        encoding="utf-8",
    )
    code = main(
        [
            "check",
            str(plan),
            "--engine",
            "docker",
            "--rules",
            str(project / "rego"),
            "--compose-file",
            str(project / "docker-compose.yml"),
        ]
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert len(err) == 1
    assert "OPA image 127.0.0.1:1/tfgen/no-such-opa:0 is not present and cannot be pulled" in err[0]
    assert "set TFGEN_OPA_IMAGE" in err[0]


def test_own_container_with_an_older_pack_is_recreated(
    project: Path, cleanup: None, toolchain: Toolchain
) -> None:
    compose_file = project / "docker-compose.yml"
    first = DockerEngine(
        find_pack(project / "rego"),
        compose_env=dict(os.environ),
        compose_file=compose_file,
        keep_running=True,
        toolchain=toolchain,
    )
    first.close()
    rule = project / "rego" / "tfgen" / "rules" / "kms" / "rotation" / "rotation.rego"
    rule.write_text(rule.read_text().replace("does not rotate", "does not rotate its key"))
    pack = find_pack(project / "rego")
    second = DockerEngine(
        pack, compose_env=dict(os.environ), compose_file=compose_file, toolchain=toolchain
    )
    try:
        assert second.started is True
        report = evaluate_plans([(_info("k"), KEY_PLAN)], second, pack)
        assert [f.message for f in report.findings] == ["aws_kms_key.k does not rotate its key"]
    finally:
        second.close()
    assert _state(os.environ["TFGEN_OPA_CONTAINER"]) == ""


def test_a_taken_port_is_an_error_and_leaves_no_container(
    project: Path,
    cleanup: None,
    docker_client: Any,
    toolchain: Toolchain,
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(os.environ["TFGEN_OPA_PORT"])))
        taken.listen(1)
        with pytest.raises(EngineError, match=r"cannot start container tfgen-test-\w+ from "):
            DockerEngine(
                find_pack(project / "rego"),
                compose_env=dict(os.environ),
                compose_file=project / "docker-compose.yml",
                toolchain=toolchain,
            )
    name = os.environ["TFGEN_OPA_CONTAINER"]
    assert not docker_client.containers.list(all=True, filters={"name": name})


def test_compose_dotenv_is_read_as_docker_compose_reads_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotes, an inline # inside quotes, `export`, a ${...} default and the shell overriding."""
    from tfgen.engines.compose import load_service

    (project / ".env").write_text(
        'TFGEN_OPA_TOKEN="t0k en # not a comment"\n'
        "# a comment line\n"
        "export TFGEN_OPA_CONTAINER=tfgen-test-dotenv\n"
        "TFGEN_OPA_PORT=${UNSET_IN_TEST:-18999}\n",
        encoding="utf-8",
    )
    for name in ("TFGEN_OPA_TOKEN", "TFGEN_OPA_CONTAINER", "TFGEN_OPA_PORT", "UNSET_IN_TEST"):
        monkeypatch.delenv(name, raising=False)
    for shell in ({}, {"TFGEN_OPA_PORT": "18777"}):
        env = {**os.environ, **shell}
        resolved = subprocess.run(
            ["docker-compose", "config"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        expected = yaml.safe_load(resolved)["services"]["opa"]
        service = load_service(
            project / "docker-compose.yml", Path(os.environ["TFGEN_OPA_BUNDLE"]), env
        )
        assert service.environment == expected["environment"]
        assert service.environment["TFGEN_OPA_TOKEN"] == "t0k en # not a comment"  # noqa: S105
        assert service.name == expected["container_name"] == "tfgen-test-dotenv"
        assert f"127.0.0.1:{service.host_port}:8181/tcp" in expected["ports"]
        assert service.host_port == int(shell.get("TFGEN_OPA_PORT", "18999"))


def test_a_container_tfgen_starts_is_never_open(
    project: Path,
    cleanup: None,
    docker_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No token anywhere: tfgen generates one, keeps it 0600, and uses it for later runs."""
    monkeypatch.setenv("TFGEN_CACHE_DIR", str(tmp_path / "cache"))
    name, port = os.environ["TFGEN_OPA_CONTAINER"], os.environ["TFGEN_OPA_PORT"]
    url = f"http://127.0.0.1:{port}"
    where = [
        "--rules",
        str(project / "rego"),
        "--compose-file",
        str(project / "docker-compose.yml"),
    ]
    assert main(["opa", "up", *where]) == 0
    out = capsys.readouterr().out
    token_path = Path(out.rsplit(": ", 1)[1].strip())
    assert token_path.stat().st_mode & 0o777 == 0o600
    token = token_path.read_text(encoding="utf-8").strip()
    env = docker_client.containers.get(name).attrs["Config"]["Env"]
    assert f"TFGEN_OPA_TOKEN={token}" in env and len(token) >= 32
    assert "GOGC=400" in env  # docker-compose.yml's garbage collector setting reaches OPA
    # Anyone else who reaches the port is refused, reads and writes alike.
    for method, path in (("POST", "/v1/data/main/report"), ("GET", "/v1/data")):
        assert requests.request(method, f"{url}{path}", json={}, timeout=5).status_code == 401
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({**KEY_PLAN, "planned_values": {"root_module": {}}}), "utf-8")
    rules = ["--rules", str(project / "rego")]
    assert main(["check", str(plan), *rules, "--engine", "opa", "--opa-url", url]) == 1
    assert main(["check", str(plan), *rules, "--engine", "docker", *where[2:]]) == 1
    assert _state(name) == "running"  # reused, not started, by those runs: left running
    assert main(["opa", "status", *where]) == 0
    assert f"token={token_path}" in capsys.readouterr().out
    assert main(["opa", "down", *where]) == 0
    assert not token_path.exists()


def test_a_run_never_removes_a_container_another_run_uses(
    project: Path,
    cleanup: None,
    docker_client: Any,
    tmp_path: Path,
    toolchain: Toolchain,
) -> None:
    own = replace(toolchain, cache_dir=tmp_path / "cache")
    pack = find_pack(project / "rego")
    compose_file = project / "docker-compose.yml"
    first = DockerEngine(
        pack, compose_env=dict(os.environ), compose_file=compose_file, toolchain=own
    )
    second = DockerEngine(
        pack, compose_env=dict(os.environ), compose_file=compose_file, toolchain=own
    )
    name = os.environ["TFGEN_OPA_CONTAINER"]
    try:
        assert (first.started, second.started) == (True, False)
        first.close()  # the run that started it ends while the other still evaluates
        assert _state(name) == "running"
        report = evaluate_plans([(_info("k"), KEY_PLAN)], second, pack)
        assert [f.rule_id for f in report.findings] == ["FIX-001"] and not report.errors
    finally:
        second.close()
    assert _state(name) == "running"  # the second run did not start it, so it never stops it
