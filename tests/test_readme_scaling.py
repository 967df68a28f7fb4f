"""README `## Scaling out`: the shown commands run as shown (keys made by the shown openssl lines)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from helpers import FIXTURES, ROOT, blocks, commands, missing, section

from tfgen.bundle import read_manifest
from tfgen.cli import main
from tfgen.engines.fleet import DEFAULT_NAME
from tfgen.rulepack import find_pack


@pytest.mark.usefixtures("isolated")
def test_scaling_out_commands(capsys: pytest.CaptureFixture[str]) -> None:
    scripts = [s for s in blocks(section("Scaling out"), "sh") if "--fleet" not in s]
    if shutil.which("openssl") is None:
        missing("openssl", "not on PATH (Debian package openssl)")
    ran = 0
    for script in scripts:
        for line in script.splitlines():
            if line.startswith("openssl "):
                subprocess.run(shlex.split(line), check=True, capture_output=True)
        for argv, expected, _ in commands(script):
            code = main(argv)
            assert code == expected, capsys.readouterr().err
            ran += 1
    assert ran == 3
    with (Path.cwd() / "policy-set" / "policies.hcl").open(encoding="utf-8") as handle:
        names = [name.strip('"') for block in hcl2.load(handle)["policy"] for name in block]
    pack = find_pack()
    assert sorted(names) == sorted(rule.rule_id for rule in pack.rules)
    bundle = Path.cwd() / "tfgen-bundle.tar.gz"
    assert read_manifest(bundle)["revision"] == pack.digest
    with tarfile.open(bundle) as tar:
        assert "/.signatures.json" in tar.getnames()


@pytest.mark.usefixtures("isolated")
def test_scaling_out_fleet_commands(docker_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The fleet block, on the bundle and key the block before it makes, and a plan with blocking
    findings as plan.json."""
    import docker.errors

    for variable in ("TFGEN_OPA_IMAGE", "TFGEN_NGINX_IMAGE"):
        try:
            docker_client.images.get(os.environ.get(variable, ""))
        except (docker.errors.ImageNotFound, docker.errors.NullResource):
            missing(variable, "no such local image (scripts/setup-machine.sh builds it)")
    first, fleet = blocks(section("Scaling out"), "sh")[1:3]
    for line in first.splitlines():
        if line.startswith("openssl "):
            subprocess.run(shlex.split(line), check=True, capture_output=True)
    for argv, expected, _ in commands(first):
        if argv[:2] == ["bundle", "build"]:
            assert main(argv) == expected
    shutil.copyfile(FIXTURES / "golden" / "plans" / "mixed.json", Path.cwd() / "plan.json")
    steps = commands(fleet)
    assert [argv[:2] for argv, _, _ in steps] == [
        ["opa", "up"],
        ["opa", "status"],
        ["check", "plan.json"],
        ["opa", "down"],
    ]
    try:
        for argv, expected, _ in steps:
            code = main(argv)
            out, err = capsys.readouterr()
            assert code == expected, f"{argv}: {err}"
            if argv[:2] == ["opa", "status"]:
                assert out.count("\tready\t") == 3 and out.count("local-pack") == 3
    finally:
        main(["opa", "down"])
    left = docker_client.containers.list(
        all=True, filters={"label": f"org.tfgen.fleet={DEFAULT_NAME}"}
    )
    assert left == []


def test_kubernetes_sketch_carries_the_fleet_configuration() -> None:
    documents = list(yaml.safe_load_all(blocks(section("Scaling out"), "yaml")[0]))
    kinds = [d["kind"] for d in documents]
    assert kinds == ["ConfigMap", "Deployment", "Service"]
    shown = yaml.safe_load(documents[0]["data"]["opa.yaml"])
    fleet = yaml.safe_load((ROOT / "deploy" / "opa" / "fleet.yaml").read_text(encoding="utf-8"))
    fleet["services"]["bundles"]["url"] = shown["services"]["bundles"]["url"]
    assert shown == fleet
    (container,) = documents[1]["spec"]["template"]["spec"]["containers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    replica = compose["services"]["opa-fleet"]["command"]
    same = [a for a in replica if not a.startswith(("--config-file", "--set"))]
    assert [a for a in container["args"] if not a.startswith(("--config-file", "--set"))] == same


def test_kubernetes_sketch_validates_offline(tmp_path: Path) -> None:
    """scripts/k8s-validate: strict decoding into the k8s.io/api types."""
    default = Path(os.environ.get("TFGEN_CACHE_DIR", Path.home() / ".cache" / "tfgen"))
    validator = Path(os.environ.get("TFGEN_K8S_VALIDATE_BIN") or default / "bin" / "k8s-validate")
    if not validator.is_file():
        missing("k8s-validate", f"{validator} is not built (run scripts/install-k8s-validate.sh)")
    sketch = blocks(section("Scaling out"), "yaml")[0]

    def validate(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(validator)], input=text, capture_output=True, text=True, timeout=60, check=False
        )

    valid = validate(sketch)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.count(": valid") == 3
    for broken, reason in (
        (sketch.replace("readinessProbe", "readynessProbe"), 'unknown field "spec.template'),
        (sketch.replace("replicas: 3", 'replicas: "3"'), "cannot unmarshal string"),
        (sketch.replace("app: tfgen-opa\n  template", "app: other\n  template"), "selector"),
        (
            sketch.replace("name: keys\n          secret", "name: key\n          secret"),
            "undeclared",
        ),
    ):
        assert broken != sketch
        refused = validate(broken)
        assert refused.returncode == 1 and reason in refused.stderr, refused.stderr
