"""Security properties checked on the real artefacts: the compose-started OPA container as the
kernel sees it, generated HCL as Terraform reads it, and output paths that must stay in --out."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, ROOT, free_port, missing, wait_healthy

from tfgen.bundle import build
from tfgen.cli import main
from tfgen.errors import InputError
from tfgen.module.write import write
from tfgen.rulepack import RulePack
from tfgen.terraform import OFFLINE_PROVIDER_BLOCK, Terraform
from tfgen.toolchain import pins


@pytest.fixture
def compose_project(docker_client: Any, opa_bin: Path) -> Iterator[tuple[str, int]]:
    """docker-compose up of the repository's compose file (fixture pack), as a user would run it."""
    import docker.errors

    if shutil.which("docker-compose") is None:
        missing("docker-compose", "not on PATH")
    image = os.environ.get("TFGEN_OPA_IMAGE") or pins()["opa_image"]
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        missing("OPA image", f"{image} is not present (run scripts/install-docker.sh)")
    root = Path(tempfile.mkdtemp(prefix="tfgen-sec-"))
    root.chmod(0o755)
    (root / "deploy" / "opa").mkdir(parents=True)
    shutil.copy(ROOT / "docker-compose.yml", root)
    for file in ("authz.rego", "authz.manifest"):
        shutil.copy(ROOT / "deploy" / "opa" / file, root / "deploy" / "opa")
    shutil.copytree(FIXTURES / "engines" / "pack", root / "rego")
    bundle = build(RulePack(root / "rego"), root / "bundle.tar.gz", opa_bin)
    name, port = f"tfgen-sec-{uuid.uuid4().hex[:8]}", free_port()
    env = {
        **os.environ,
        "TFGEN_OPA_IMAGE": image,
        "TFGEN_OPA_PORT": str(port),
        "TFGEN_OPA_CONTAINER": name,
        "TFGEN_OPA_BUNDLE": str(bundle),
    }

    def compose(*args: str) -> None:
        proc = subprocess.run(
            ["docker-compose", "-p", name, *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr

    compose("up", "-d")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        yield name, port
    finally:
        compose("down")
        shutil.rmtree(root, ignore_errors=True)


def _listeners(port: int) -> set[str]:
    """Local addresses in LISTEN state on `port`, from the host's /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.docker
@pytest.mark.opa
def test_compose_service_is_loopback_only_non_root_and_read_only(
    compose_project: tuple[str, int], docker_client: Any
) -> None:
    name, port = compose_project
    container = docker_client.containers.get(name)
    bindings = container.attrs["HostConfig"]["PortBindings"]
    assert {b["HostIp"] for spec in bindings.values() for b in spec} == {"127.0.0.1"}
    published = container.attrs["NetworkSettings"]["Ports"]
    assert {b["HostIp"] for spec in published.values() if spec for b in spec} == {"127.0.0.1"}
    # The kernel's view: the only listener on the published port is 127.0.0.1 (0100007F), not
    # 0.0.0.0 or [::].
    assert _listeners(port) == {"0100007F"}

    assert container.attrs["Config"]["User"] == "1000:1000"
    assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True
    pid = container.attrs["State"]["Pid"]
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    assert status["Uid"].split() == ["1000"] * 4
    assert status["Gid"].split() == ["1000"] * 4
    assert int(status["CapEff"], 16) == 0, "capabilities left in the OPA process"
    assert status["NoNewPrivs"].strip() == "1"
    mounts = {}
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        mounts[fields[4]] = fields[5].split(",")
    assert "ro" in mounts["/"], "root filesystem is writable"
    assert "ro" in mounts["/bundle/tfgen.tar.gz"]


# Generated HCL: template sequences stay literal for Terraform itself.
ADVERSARIAL = 'key ${aws_kms_key.this.arn} %{ if true }on%{ endif } $${x} %%{y} "q" \\ end'


@pytest.mark.terraform
def test_template_sequences_reach_terraform_as_literal_text(
    tmp_path: Path, terraform: Terraform
) -> None:
    out = tmp_path / "module"
    team = "${var.team}"
    note = "%{ for k in keys }${k}%{ endfor }"
    argv = ["generate", "--out", str(out), "--description", ADVERSARIAL]
    assert main([*argv, "--tag", f"Team={team}", "--tag", f"Note={note}"]) == 0
    example = out / "examples" / "basic"
    (example / "tfgen_offline_provider.tf").write_text(OFFLINE_PROVIDER_BLOCK, encoding="utf-8")
    plan = terraform.plan_json(example)
    keys = [rc for rc in plan["resource_changes"] if rc["type"] == "aws_kms_key"]
    assert len(keys) == 1
    after = keys[0]["change"]["after"]
    assert after["description"] == ADVERSARIAL
    assert after["tags"]["Team"] == team
    assert after["tags"]["Note"] == note


# Paths: nothing is written outside --out.
def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("force", [False, True])
def test_symlinked_folder_pointing_outside_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], force: bool
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.tf").write_text("# theirs\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "examples").symlink_to(outside, target_is_directory=True)
    code = main(["generate", "--out", str(out), *(["--force"] if force else [])])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "examples" in err and "outside" in err
    assert _tree(outside) == {"keep.tf": b"# theirs\n"}
    assert [p.name for p in out.iterdir()] == ["examples"], "wrote before refusing"


def test_symlinked_file_is_replaced_never_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.tf"
    victim.write_text("# someone else's file\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "main.tf").symlink_to(victim)
    assert main(["generate", "--out", str(out)]) == 2
    assert "main.tf" in capsys.readouterr().err
    assert main(["generate", "--out", str(out), "--force"]) == 0
    assert victim.read_text() == "# someone else's file\n"
    assert not (out / "main.tf").is_symlink()


@pytest.mark.parametrize("name", ["../escape.tf", "examples/../../escape.tf", "/etc/tfgen-abs.tf"])
def test_names_that_climb_out_are_refused(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match="outside"):
        write(out, {name: "# x\n"})
    assert not (tmp_path / "escape.tf").exists()
    assert not out.exists() or not any(out.iterdir())
