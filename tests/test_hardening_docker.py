"""Faults with the real dockerised OPA, through the `tfgen` command: restart mid-batch, a policy
slower than --timeout, connection refused, wrong bearer token. After each, nothing tfgen started
is left running. (Wrong URL, hanging socket, undefined decision, HTTP 500/503 and a container
stopped inside one engine run are covered by test_faults.py and test_docker.py.)"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import FIXTURES, ROOT, free_port, missing

from tfgen.bundle import build
from tfgen.engines.docker_opa import LABEL_OWNER
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain, pins

pytestmark = [pytest.mark.docker, pytest.mark.opa]

PACK = FIXTURES / "engines" / "pack"
SLOW = Path(__file__).resolve().parent / "fixtures" / "hardening" / "slow"
TOKEN = "hardening-t0ken"  # noqa: S105 - a throwaway token for a test container


@pytest.fixture(scope="module")
def image(docker_client: Any) -> str:
    import docker.errors

    name = os.environ.get("TFGEN_OPA_IMAGE") or pins()["opa_image"]
    try:
        docker_client.images.get(name)
    except docker.errors.ImageNotFound:
        missing("OPA image", f"{name} is not present (run scripts/install-docker.sh)")
    return name


class Project:
    """A compose project serving the fixture pack plus a slow rule, on its own port and name."""

    def __init__(self, root: Path, image: str) -> None:
        self.root = root
        self.name = f"tfgen-hard-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TFGEN_OPA_IMAGE": image,
            "TFGEN_OPA_PORT": str(self.port),
            "TFGEN_OPA_CONTAINER": self.name,
            "TFGEN_COMPOSE_FILE": str(root / "docker-compose.yml"),
            "TFGEN_RULES_DIR": str(root / "rego"),
            "TFGEN_OPA_BUNDLE": str(root / "bundle.tar.gz"),
        }
        self.env.pop("TFGEN_OPA_TOKEN", None)
        self.env.pop("TFGEN_OPA_URL", None)

    def tfgen(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tfgen", *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tfgen", *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def compose(self, *args: str, env: dict[str, str] | None = None) -> None:
        if shutil.which("docker-compose") is None:
            missing("docker-compose", "not on PATH")
        proc = subprocess.run(
            ["docker-compose", "-p", self.name, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr

    def plan(self, name: str, keys: int, window: int = 30) -> Path:
        """A plan with `keys` KMS keys without rotation (FIX-001 each) and the given window."""
        doc = {
            "format_version": "1.2",
            "planned_values": {"root_module": {}},
            "resource_changes": [
                {
                    "address": f"aws_kms_key.k{i}",
                    "mode": "managed",
                    "type": "aws_kms_key",
                    "name": f"k{i}",
                    "change": {
                        "actions": ["create"],
                        "before": None,
                        "after": {"enable_key_rotation": False, "deletion_window_in_days": window},
                    },
                }
                for i in range(keys)
            ],
        }
        path = self.root / "plans" / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path


@pytest.fixture
def project(image: str, docker_client: Any, opa_bin: Path) -> Iterator[Project]:
    # Not under pytest's 0700 tmp tree: the container runs as uid 1000 and reads the mounts.
    root = Path(tempfile.mkdtemp(prefix="tfgen-hard-"))
    root.chmod(0o755)
    (root / "deploy" / "opa").mkdir(parents=True)
    shutil.copy(ROOT / "docker-compose.yml", root)
    for name in ("authz.rego", "authz.manifest"):
        shutil.copy(ROOT / "deploy" / "opa" / name, root / "deploy" / "opa")
    shutil.copytree(PACK, root / "rego")
    shutil.copytree(SLOW, root / "rego" / "tfgen" / "rules" / "kms" / "slow")
    build(RulePack(root / "rego"), root / "bundle.tar.gz", opa_bin)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    proj = Project(root, image)
    try:
        yield proj
    finally:
        for container in docker_client.containers.list(all=True, filters={"name": proj.name}):
            container.remove(force=True)
        shutil.rmtree(root, ignore_errors=True)


def left_running(docker_client: Any, proj: Project) -> list[str]:
    """Containers of this test's name that tfgen labelled as started by itself."""
    return [
        c.name
        for c in docker_client.containers.list(
            all=True, filters={"label": f"{LABEL_OWNER}=tfgen", "name": proj.name}
        )
    ]


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("tfgen: error:")]
    assert lines, proc.stderr
    return lines[0]


XOFF, XON = b"\x13", b"\x11"


def _drain(fd: int, into: list[bytes]) -> None:
    """Read a terminal until its other side closes."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)


def _blocked_writing_stderr(proc: subprocess.Popen[str]) -> bool:
    """Whether the process sits in write(2) on fd 2 (Linux: /proc/<pid>/syscall)."""
    try:
        fields = Path(f"/proc/{proc.pid}/syscall").read_text(encoding="ascii").split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] in _WRITE_SYSCALLS and fields[1] == "0x2"


_WRITE_SYSCALLS = {"1", "64"}  # write(2) on x86_64 and on arm64


def test_restart_mid_batch_never_passes_with_missing_or_misconfigured_plans(
    project: Project, docker_client: Any
) -> None:
    # Config makes the fixture window rule (FIX-002, default minimum 30) accept 10-day windows:
    # a server that lost data.tfgen_config in the restart would report FIX-002 for later plans.
    (project.root / ".tfgen.toml").write_text("min_deletion_window_days = 7\n", encoding="utf-8")
    plans = [project.plan(f"p{i:02d}", keys=5, window=10) for i in range(24)]
    # stderr is a terminal, so tfgen reports each evaluated plan ("1/24 plans"). The terminal is
    # stopped (XOFF) before tfgen starts: its first progress write blocks, so the batch is held
    # right after plan 1 until the test lets it go (XON). No sleep decides the interleaving.
    primary, secondary = pty.openpty()
    os.write(primary, XOFF)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfgen", "check", "--engine", "docker", "--format", "json"]
        + [str(p) for p in plans],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    progress: list[bytes] = []
    drain = threading.Thread(target=_drain, args=(primary, progress), daemon=True)
    try:
        deadline = time.monotonic() + 300
        while not _blocked_writing_stderr(proc):
            assert proc.poll() is None, "tfgen ended before its first progress line"
            assert time.monotonic() < deadline, "tfgen never reported its first plan"
            time.sleep(0.05)
        docker_client.containers.get(project.name).restart(timeout=0)
        os.write(primary, XON)
        drain.start()
        stdout, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        drain.join(timeout=10)
        os.close(primary)
    stderr = b"".join(progress).decode("utf-8", "replace").replace("\r\n", "\n")
    assert "1/24 plans" in stderr
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert done.returncode in (1, 2), (done.returncode, stderr[-500:])
    doc = report(done)
    evaluated = doc["summary"]["plans"]
    rule_ids = {f["rule_id"] for f in doc["findings"]}
    if done.returncode == 1:
        # Retried to success: every plan is in the report, each judged with the configuration.
        assert evaluated == len(plans)
        assert doc["errors"] == []
        assert len([f for f in doc["findings"] if f["rule_id"] == "FIX-001"]) == 5 * len(plans)
        assert "FIX-002" not in rule_ids, "plans after the restart lost data.tfgen_config"
    else:
        assert doc["errors"], "exit 2 must say which plan failed"
        assert evaluated < len(plans) or doc["errors"]
        one_line_error(done)
    assert left_running(docker_client, project) == []


def test_policy_slower_than_timeout_is_exit_2_without_retry(
    project: Project, docker_client: Any
) -> None:
    plan = project.plan("big", keys=60)  # ~1.2M-element burn in the slow rule: seconds of CPU
    start = time.monotonic()
    done = project.tfgen("check", "--engine", "docker", "--timeout", "1", str(plan))
    elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    error = one_line_error(done)
    assert "did not answer within 1s" in error and str(plan) in error
    assert done.stdout.count("FIX-001") == 0, "no partial findings for a plan that was not judged"
    # Read timeouts are not retried: start-up plus one timeout, not several.
    assert elapsed < 90, elapsed
    assert left_running(docker_client, project) == []


def test_connection_refused_is_retried_boundedly_then_exit_2_and_next_run_recovers(
    project: Project, docker_client: Any
) -> None:
    up = project.tfgen("opa", "up")
    assert up.returncode == 0, up.stderr
    plan = project.plan("one", keys=2)
    docker_client.containers.get(project.name).kill()
    start = time.monotonic()
    refused = project.tfgen("check", "--engine", "opa", "--opa-url", project.url, str(plan))
    elapsed = time.monotonic() - start
    assert refused.returncode == 2
    assert "unreachable" in one_line_error(refused)
    assert refused.stdout.count("FIX-001") == 0
    # urllib3 backs off 0 s, 1 s, 2 s over three retries: at least ~3 s, and bounded.
    assert 2.5 <= elapsed < 30, elapsed

    # The killed container is tfgen's: the next docker run replaces it, and removes it after.
    again = project.tfgen("check", "--engine", "docker", "--format", "json", str(plan))
    assert again.returncode == 1, again.stderr
    assert [f["rule_id"] for f in report(again)["findings"]] == ["FIX-001", "FIX-001"]
    assert left_running(docker_client, project) == []


def test_wrong_token_with_compose_token_mode_is_exit_2_and_never_echoed(
    project: Project, docker_client: Any
) -> None:
    project.compose("up", "-d", env={"TFGEN_OPA_TOKEN": TOKEN})
    try:
        plan = project.plan("one", keys=1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{project.url}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        wrong = "wr0ng-" + TOKEN
        for engine in (["--engine", "docker"], ["--engine", "opa", "--opa-url", project.url]):
            denied = project.tfgen("check", *engine, "--opa-token", wrong, str(plan))
            assert denied.returncode == 2, denied.stderr
            error = one_line_error(denied)
            assert "401" in error and "--opa-token" in error
            assert wrong not in denied.stderr + denied.stdout
            assert TOKEN not in denied.stderr + denied.stdout
            missing_token = project.tfgen("check", *engine, str(plan))
            assert missing_token.returncode == 2
            assert "401" in one_line_error(missing_token)
            # The token option end to end: the right one from the flag, then from the environment.
            ok = project.tfgen(
                "check", *engine, "--opa-token", TOKEN, "--format", "json", str(plan)
            )
            assert ok.returncode == 1, ok.stderr
            assert [f["rule_id"] for f in report(ok)["findings"]] == ["FIX-001"]
            assert TOKEN not in ok.stdout
            via_env = project.tfgen(
                "check", *engine, "--format", "json", str(plan), env={"TFGEN_OPA_TOKEN": TOKEN}
            )
            assert via_env.returncode == 1, via_env.stderr
        # docker-compose started it: tfgen reused it and left it running, labelled as not its own.
        container = docker_client.containers.get(project.name)
        assert container.status == "running"
        assert container.labels.get(LABEL_OWNER) is None
    finally:
        project.compose("down")
    assert left_running(docker_client, project) == []


def test_token_from_the_environment_protects_a_tfgen_started_container(
    project: Project, docker_client: Any
) -> None:
    plan = project.plan("one", keys=1)
    done = project.tfgen(
        "check",
        "--engine",
        "docker",
        "--keep-running",
        "--format",
        "json",
        str(plan),
        env={"TFGEN_OPA_TOKEN": TOKEN},
    )
    assert done.returncode == 1, done.stderr
    try:
        body = {"input": {"format_version": "1.2", "resource_changes": []}}
        anonymous = requests.post(f"{project.url}/v1/data/main/report", json=body, timeout=10)
        assert anonymous.status_code == 401
        authorised = requests.post(
            f"{project.url}/v1/data/main/report",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert authorised.status_code == 200
        assert authorised.json()["result"]["deny"] == []
        assert requests.get(f"{project.url}/health", timeout=5).status_code == 200
    finally:
        down = project.tfgen("opa", "down")
    assert down.returncode == 0, down.stderr
    assert left_running(docker_client, project) == []


def test_configuration_survives_an_opa_restart_between_plans(
    project: Project,
    docker_client: Any,
    toolchain: Toolchain,
) -> None:
    from tfgen.engines.docker_opa import DockerEngine
    from tfgen.errors import EngineError
    from tfgen.rulepack import find_pack

    doc = json.loads(project.plan("one", keys=1, window=10).read_text(encoding="utf-8"))
    engine = DockerEngine(
        find_pack(project.root / "rego"),
        {"min_deletion_window_days": 7},
        compose_env=project.env,
        compose_file=project.root / "docker-compose.yml",
        toolchain=toolchain,
    )
    try:
        before = sorted(r["rule_id"] for r in [*engine.evaluate(doc)["deny"]])
        before_warn = [r["rule_id"] for r in engine.evaluate(doc)["warn"]]
        assert before == ["FIX-001"] and before_warn == []
        docker_client.containers.get(project.name).restart(timeout=0)
        # Retry by hand until the restarted server answers (the engine itself need not).
        deadline = time.monotonic() + 60
        while True:
            try:
                after = engine.evaluate(doc)
                break
            except EngineError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert [r["rule_id"] for r in after["warn"]] == [], "data.tfgen_config was lost"
    finally:
        engine.close()
    assert left_running(docker_client, project) == []
