"""The compose fleet (nginx bundle server, OPA replicas, nginx balancer) with the real Docker
engine, images and OPA, and the OPA engine over several servers."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import FIXTURES, REGO, ROOT, ServeFn, free_port, missing

from tfgen import gate
from tfgen.cli import main
from tfgen.engines import EngineOptions
from tfgen.engines.fleet import BUNDLE_FILE, Fleet, ReplicaState, fleet_state
from tfgen.model import Finding, Report
from tfgen.rulepack import RulePack
from tfgen.toolchain import pins

PLAN = FIXTURES / "golden" / "plans" / "mixed.json"
BATCH = 300
WAIT = 60.0


@dataclass
class FleetProject:
    root: Path
    pack: RulePack
    key: Path
    public: Path
    other_key: Path
    bundle: Path
    changed: RulePack
    plans: list[Path]
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fleet(self) -> Fleet:
        state = fleet_state(Path(os.environ["TFGEN_CACHE_DIR"]), self.name)
        return Fleet(self.root / "docker-compose.yml", dict(os.environ), state, name=self.name)

    def tfgen(self, *args: str) -> int:
        return main([*args, "--rules", str(self.root / "rego")])


@pytest.fixture(scope="module")
def nginx_image(docker_client: Any) -> str:
    import docker.errors

    image = os.environ.get("TFGEN_NGINX_IMAGE") or pins()["nginx_image"]
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        missing("nginx image", f"{image} is not present (run scripts/install-nginx-image.sh)")
    return image


@pytest.fixture(scope="module")
def project(docker_client: Any, nginx_image: str, opa_bin: Path) -> Iterator[FleetProject]:
    """A compose project beside a copy of the pack, an ES256 key pair, the signed bundle, a
    changed pack, and a batch of plans; the fleet is removed at the end."""
    import docker.errors

    opa_image = os.environ.get("TFGEN_OPA_IMAGE", "")
    try:
        docker_client.images.get(opa_image)
    except (docker.errors.ImageNotFound, docker.errors.NullResource):
        missing("OPA image", f"{opa_image!r} is not present (run scripts/install-docker.sh)")
    # Not under pytest's 0700 tmp tree: the containers run as uid 1000 and read the mounts.
    root = Path(tempfile.mkdtemp(prefix="tfgen-fleet-"))
    root.chmod(0o755)
    shutil.copy(ROOT / "docker-compose.yml", root)
    shutil.copytree(ROOT / "deploy", root / "deploy")
    shutil.copytree(REGO, root / "rego", ignore=shutil.ignore_patterns("*_test.rego"))
    changed_root = root / "changed"
    shutil.copytree(root / "rego", changed_root)
    main_rego = changed_root / "main" / "main.rego"
    main_rego.write_text(main_rego.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    keys = root / "keys"
    keys.mkdir()
    for name in ("ec", "other"):
        _openssl(
            "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keys / f"{name}.pem"
        )
    _openssl("ec", "-in", keys / "ec.pem", "-pubout", "-out", keys / "ec.pub")
    plans = _plans(root / "plans")
    name = f"tfgen-test-fleet-{uuid.uuid4().hex[:8]}"
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TFGEN_CACHE_DIR", str(root / "cache"))
        env.setenv("TFGEN_OPA_BIN", str(opa_bin))
        env.setenv("TFGEN_NGINX_IMAGE", nginx_image)
        env.setenv("TFGEN_FLEET_NAME", name)
        env.setenv("TFGEN_FLEET_PORT", str(port))
        for variable in ("TFGEN_OPA_TOKEN", "TFGEN_OPA_URL", "TFGEN_RULES_DIR"):
            env.delenv(variable, raising=False)
        bundle = root / "tfgen-bundle.tar.gz"
        assert _build(root / "rego", bundle, keys / "ec.pem") == 0
        made = FleetProject(
            root=root,
            pack=RulePack(root / "rego"),
            key=keys / "ec.pem",
            public=keys / "ec.pub",
            other_key=keys / "other.pem",
            bundle=bundle,
            changed=RulePack(changed_root),
            plans=plans,
            name=name,
            port=port,
        )
        try:
            yield made
        finally:
            with contextlib.suppress(Exception):
                made.fleet().down()
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def running(project: FleetProject) -> FleetProject:
    """The fleet up with three replicas serving the signed bundle of the local pack."""
    code = project.tfgen(
        "opa",
        "up",
        "--fleet",
        "--bundle",
        str(project.bundle),
        "--verification-key",
        str(project.public),
        "--signing-alg",
        "ES256",
    )
    assert code == 0
    _wait(project.fleet(), lambda s: s.ready and s.revision == project.pack.digest, "serve")
    return project


def test_compose_fleet_profile_is_valid_and_hardened(project: FleetProject) -> None:
    defaults = ("TFGEN_OPA_IMAGE", "TFGEN_NGINX_IMAGE")
    env = {
        **{k: v for k, v in os.environ.items() if k not in defaults},
        "TFGEN_OPA_BUNDLE": str(project.bundle),
        "TFGEN_FLEET_BUNDLE_DIR": str(project.root),
        "TFGEN_FLEET_PUBLIC_KEY": str(project.public),
    }
    out = subprocess.run(
        ["docker-compose", "--profile", "fleet", "config"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    services = yaml.safe_load(out)["services"]
    for name in ("fleet-bundles", "opa-fleet", "fleet-lb"):
        spec = services[name]
        assert spec["profiles"] == ["fleet"]
        assert spec["user"] == "1000:1000" and spec["read_only"] is True
        assert spec["cap_drop"] == ["ALL"] and spec["security_opt"] == ["no-new-privileges:true"]
    for name in ("fleet-lb", "opa-fleet"):
        ports = services[name]["ports"]
        assert len(ports) == 1 and str(ports[0]).startswith("127.0.0.1:")
    assert "ports" not in services["fleet-bundles"]
    images = {name: services[name]["image"] for name in ("fleet-bundles", "opa-fleet", "fleet-lb")}
    assert images == {
        "fleet-bundles": pins()["nginx_image"],
        "opa-fleet": pins()["opa_image"],
        "fleet-lb": pins()["nginx_image"],
    }
    command = services["opa-fleet"]["command"]
    assert "--authentication=token" in command and "--authorization=basic" in command
    config = yaml.safe_load((ROOT / "deploy" / "opa" / "fleet.yaml").read_text(encoding="utf-8"))
    assert config["bundles"]["tfgen"]["signing"]["keyid"] == "tfgen"
    assert config["decision_logs"]["mask_decision"] == "/system/log/mask"


def test_fleet_bad_input_is_one_line_exit_2(
    project: FleetProject, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = project.root / "other-key.tar.gz"
    assert _build(project.root / "rego", forged, project.other_key) == 0
    key = ["--verification-key", str(project.public), "--signing-alg", "ES256"]
    cases = [
        (["--bundle", str(project.bundle)], "--verification-key"),
        (["--bundle", str(forged), *key], "signature does not verify"),
        (["--bundle", str(project.root / "absent.tar.gz"), *key], "absent.tar.gz"),
        (["--replicas", "0", "--bundle", str(project.bundle), *key], "at least 1"),
    ]
    capsys.readouterr()
    for args, reason in cases:
        assert project.tfgen("opa", "up", "--fleet", *args) == 2, args
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1 and "Traceback" not in err, err
    monkeypatch.setenv("TFGEN_FLEET_NAME", f"{project.name}-unpublished")
    assert project.tfgen("opa", "up", "--fleet") == 2
    assert "no bundle published yet" in capsys.readouterr().err


def test_fleet_serves_the_signed_bundle(
    running: FleetProject,
    docker_client: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capsys.readouterr()
    assert running.tfgen("opa", "status", "--fleet") == 0
    out = capsys.readouterr().out
    rows = [line.split("\t") for line in out.splitlines() if "-opa-fleet-" in line]
    assert len(rows) == 3
    for row in rows:
        assert row[1:3] == ["running", "ready"]
        assert row[4] == f"revision={running.pack.digest}" and row[5] == "local-pack"
    assert f"balancer\t{running.url}" in out
    monkeypatch.setenv("TFGEN_OPA_CONTAINER", f"{running.name}-no-such-container")
    assert running.tfgen("opa", "status") == 3
    assert f"fleet {running.name} runs: see tfgen opa status --fleet" in capsys.readouterr().out
    token = (Path(os.environ["TFGEN_CACHE_DIR"]) / "fleet" / running.name / "token").read_text()
    assert token.strip() not in out
    for container in docker_client.containers.list(
        filters={"label": f"org.tfgen.fleet={running.name}"}
    ):
        host = container.attrs["HostConfig"]
        assert host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"]
        assert container.attrs["Config"]["User"] == "1000:1000"
        for bound in (container.attrs["NetworkSettings"]["Ports"] or {}).values():
            assert all(b["HostIp"] == "127.0.0.1" for b in bound or [])


def test_batch_through_the_balancer_matches_embedded(
    running: FleetProject, docker_client: Any
) -> None:
    embedded = _run(running, "embedded")
    since = int(time.time()) - 1
    fleet = _run(running, "opa", running.url)
    assert fleet.errors == () and embedded.errors == ()
    assert _rows(fleet.findings) == _rows(embedded.findings)
    assert len(fleet.plans) == BATCH == len({p.path for p in fleet.plans})
    assert {p.revision for p in fleet.plans} == {f"tfgen={running.pack.digest}"}
    assert fleet.exit_code == embedded.exit_code == 1
    # Every replica took a share, and the decision logs hold no plan input.
    decisions = 0
    for container in _replicas(docker_client, running.name):
        logs = container.logs(since=since).decode("utf-8", "replace")
        events = [json.loads(line) for line in logs.splitlines() if '"Decision Log"' in line]
        reports = [e for e in events if e.get("path") == "main/report"]
        assert reports, f"{container.name} judged no plan"
        decisions += len(reports)
        for event in reports:
            assert "input" not in event and event["erased"] == ["/input"]
            assert set(event["result"]) == {"deny", "warn"}
            assert event["bundles"]["tfgen"]["revision"] == running.pack.digest
            assert event["decision_id"] and event["metrics"]
        assert "aws_kms_key" not in logs and "resource_changes" not in logs
    assert decisions == BATCH


@pytest.mark.parametrize("through", ["replicas", "balancer"])
def test_replica_killed_mid_batch(running: FleetProject, docker_client: Any, through: str) -> None:
    fleet = running.fleet()
    urls = ",".join(fleet.replica_urls()) if through == "replicas" else running.url
    victim = _replicas(docker_client, running.name)[1]

    def kill(done: int, total: int) -> None:
        if done == BATCH // 3:
            victim.kill()  # returns once the replica is gone: later requests meet a dead server

    embedded = _run(running, "embedded")
    report = _run(running, "opa", urls, progress=kill)
    victim.reload()
    assert victim.status == "exited"
    assert report.errors == ()
    assert len(report.plans) == BATCH == len({p.path for p in report.plans})
    assert _rows(report.findings) == _rows(embedded.findings)
    assert report.exit_code == 1
    if through == "replicas":
        assert any("its requests went to the other servers" in n for n in report.notices)


def test_bad_signature_is_refused_by_the_replicas(
    running: FleetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = running.fleet()
    # A bundle server that serves a bundle signed with another key (and of another pack).
    forged = running.root / "forged.tar.gz"
    assert _build(running.changed.root, forged, running.other_key) == 0
    shutil.copyfile(forged, fleet.bundle_dir / BUNDLE_FILE)
    states = _wait(fleet, lambda s: "failed to verify" in s.problem, "refuse the bundle")
    assert all(s.revision == running.pack.digest for s in states)  # the verified one stays
    capsys.readouterr()
    assert running.tfgen("opa", "status", "--fleet") == 2
    out = capsys.readouterr().out
    assert out.count("bundle-error=failed to verify JWT signature") == 3
    # A replica that starts now has nothing it may serve.
    assert running.tfgen("opa", "up", "--fleet", "--replicas", "4", "--timeout", "30") == 2
    err = capsys.readouterr().err
    assert "opa-fleet-4 refused the bundle: failed to verify JWT signature" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (
        running.tfgen(
            "check", str(running.plans[0]), "--engine", "opa", "--opa-url", _url_of(fleet, 4)
        )
        == 2
    )
    assert "the tfgen rule pack is not loaded on that server" in capsys.readouterr().err


def test_new_revision_mid_run_is_detected(running: FleetProject) -> None:
    fleet = running.fleet()
    update = running.root / "update.tar.gz"
    assert _build(running.changed.root, update, running.key) == 0

    def publish(done: int, total: int) -> None:
        if done == BATCH // 3:
            fleet.publish(update, running.public, "ES256")
            _wait(fleet, lambda s: s.revision == running.changed.digest, "serve the update")

    for allow in (False, True):
        if allow:
            fleet.publish(running.bundle, running.public, "ES256")
            _wait(fleet, lambda s: s.revision == running.pack.digest, "serve the pack again")
        report = _run(running, "opa", running.url, progress=publish, allow=allow)
        assert report.exit_code == 2
        assert BATCH // 3 <= len(report.plans) < BATCH
        assert {p.revision for p in report.plans} == {f"tfgen={running.pack.digest}"}
        error = report.errors[0]
        assert running.changed.digest in error and running.pack.digest in error


def test_plans_judged_by_two_revisions(opa_serve: ServeFn, tmp_path: Path) -> None:
    """Two servers of the pack beside another bundle whose revision differs between them."""
    urls = []
    for revision in ("team-1", "team-2"):
        team = tmp_path / revision
        (team / "team").mkdir(parents=True)
        (team / "team" / "team.rego").write_text("package team\n\nallow := true\n")
        (team / ".manifest").write_text(json.dumps({"revision": revision, "roots": ["team"]}))
        urls.append(opa_serve(REGO, team))
    plans = _plans(tmp_path / "plans", 10)
    pack = RulePack(REGO)
    base = ["check", *map(str, plans), "--engine", "opa", "--opa-url", urls[0], "--opa-url"]
    out = tmp_path / "report.json"
    assert main([*base, urls[1], "--output", f"json={out}", "--rules", str(REGO)]) == 2
    errors = json.loads(out.read_text())["errors"]
    assert len(errors) == 1 and "2 different bundle revisions" in errors[0]
    assert "=team-1" in errors[0] and "=team-2" in errors[0]
    allowed = [*base, urls[1], "--allow-revision-change", "--output", f"json={out}", "--force"]
    assert main([*allowed, "--rules", str(REGO)]) == 1
    document = json.loads(out.read_text())
    assert document["errors"] == []
    revisions = {p["revision"] for p in document["plans"]}
    assert len(revisions) == 2 and all(pack.digest in r for r in revisions)
    assert {("=team-1" in r, "=team-2" in r) for r in revisions} == {(True, False), (False, True)}
    judged = {p["path"]: p["revision"] for p in document["plans"]}
    assert {f["plan"] for f in document["findings"]} <= set(judged)
    assert all(f["revision"] == judged[f["plan"]] for f in document["findings"])


def test_fleet_benchmark_smoke_run(project: FleetProject, tmp_path: Path) -> None:
    """bench/fleet.py end to end at a small size (no timing is asserted)."""
    out = tmp_path / "fleet.json"
    args = ["--replicas", "1", "2", "--runs", "1", "--limit", "8", "--jobs", "2"]
    args += ["--plans", str(project.plans[0].parent), "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fleet.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    setups = json.loads(out.read_text())["setups"]
    assert set(setups) == {"embedded"} | {
        f"{n} {how}" for n in (1, 2) for how in ("via balancer", "client-side")
    }
    assert len({s["findings"] for s in setups.values()}) == 1


def test_down_removes_the_fleet(running: FleetProject, docker_client: Any) -> None:
    assert running.tfgen("opa", "down") == 0
    assert (
        docker_client.containers.list(
            all=True, filters={"label": f"org.tfgen.fleet={running.name}"}
        )
        == []
    )
    assert docker_client.networks.list(names=[running.name]) == []
    assert running.tfgen("opa", "status", "--fleet") == 3


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


def _build(rules: Path, target: Path, key: Path) -> int:
    return main(
        [
            "bundle",
            "build",
            "--output",
            str(target),
            "--signing-key",
            str(key),
            "--signing-alg",
            "ES256",
            "--rules",
            str(rules),
            "--force",
        ]
    )


def _plans(directory: Path, count: int = BATCH) -> list[Path]:
    """`count` real plans: the golden plan with each subset of its resource changes in turn."""
    directory.mkdir(parents=True)
    plan = json.loads(PLAN.read_text(encoding="utf-8"))
    changes = plan["resource_changes"]
    paths = []
    for index in range(count):
        variant = copy.deepcopy(plan)
        variant["resource_changes"] = [
            c for bit, c in enumerate(changes) if index % (1 << len(changes)) & (1 << bit)
        ]
        path = directory / f"plan-{index:03d}.json"
        path.write_text(json.dumps(variant), encoding="utf-8")
        paths.append(path)
    return paths


def _run(
    project: FleetProject,
    engine: str,
    url: str | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    allow: bool = False,
) -> Report:
    pack, config = gate.load_policy(project.root / "rego")
    token = project.fleet().kept_token()
    options = EngineOptions(opa_url=url, token=token, jobs=4, allow_revision_change=allow)
    batch = gate.Batch.read([str(p) for p in project.plans])
    return gate.run(batch, pack, config, engine=engine, options=options, progress=progress)


def _rows(findings: Sequence[Finding]) -> list[tuple[str, ...]]:
    return sorted(
        (
            f.plan,
            f.rule_id,
            f.address,
            f.enforcement,
            f.message,
            json.dumps(f.details, sort_keys=True),
        )
        for f in findings
    )


def _replicas(docker_client: Any, name: str) -> list[Any]:
    found = docker_client.containers.list(
        filters={"label": [f"org.tfgen.fleet={name}", "org.tfgen.role=opa-fleet"]}
    )
    return sorted(found, key=lambda c: c.name)


def _url_of(fleet: Fleet, index: int) -> str:
    return next(s.url for s in fleet.status() if s.name.endswith(f"-opa-fleet-{index}"))


def _wait(fleet: Fleet, condition: Callable[[ReplicaState], bool], what: str) -> list[ReplicaState]:
    """Poll the replicas' status until every running one meets `condition`."""
    deadline = time.monotonic() + WAIT
    while True:
        states = [s for s in fleet.status() if s.status == "running"]
        if states and all(condition(s) for s in states):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"replicas did not {what} within {WAIT:g}s: {states}")
        time.sleep(0.5)
