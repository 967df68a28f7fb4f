"""Shared fixtures: the real OPA, Terraform and Docker. In CI a missing component fails, never skips."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    REGO,
    ROOT,
    PlanFn,
    ServeFn,
    free_port,
    missing,
    served,
    tree_digest,
    wait_healthy,
)

from tfgen.cli import describe
from tfgen.cli import toolchain as toolchain_from_environment
from tfgen.errors import TfgenError
from tfgen.terraform import Terraform, offline, offline_workdir
from tfgen.toolchain import Toolchain

# A test that uses one of these fixtures, directly or through another fixture, gets the marker:
# `-m "not docker"` deselects exactly the tests that need Docker.
MARKERS = {"opa_bin": "opa", "terraform": "terraform", "docker_client": "docker"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in MARKERS.items():
            if fixture in used:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def opa_bin() -> Path:
    """The OPA binary the command line would use (TFGEN_OPA_BIN, the cache, or PATH)."""
    try:
        return toolchain_from_environment().opa()
    except TfgenError as exc:
        missing("OPA", describe(exc))
        raise


@pytest.fixture(scope="session")
def toolchain(opa_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    """The pinned OPA and a per-session cache: compiled packs and bundles never go to the user's."""
    return Toolchain(opa_bin=opa_bin, cache_dir=tmp_path_factory.getbasetemp() / "cache")


@pytest.fixture(scope="session")
def terraform() -> Terraform:
    try:
        return offline(Terraform.find(None, os.environ), toolchain=toolchain_from_environment())
    except TfgenError as exc:
        missing("Terraform", exc.message)
        raise


@pytest.fixture(scope="session")
def plan_module(terraform: Terraform, tmp_path_factory: pytest.TempPathFactory) -> PlanFn:
    """Plan a module directory offline with real Terraform; identical inputs are planned once."""
    cache: dict[str, dict[str, Any]] = {}

    def plan(
        module_dir: Path,
        files: dict[str, str] | None = None,
        variables: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        edited = module_dir / "plan.json"
        if edited.is_file() and not files and not variables:
            # A hand-edited real plan (its NOTE.md says why) for a shape Terraform cannot plan here.
            hand: dict[str, Any] = json.loads(edited.read_text(encoding="utf-8"))
            return hand
        key = hashlib.sha256(
            json.dumps([tree_digest(module_dir), files or {}, variables]).encode()
        ).hexdigest()
        if key not in cache:
            work = offline_workdir(module_dir, tmp_path_factory.mktemp("plan"), files)
            cache[key] = terraform.plan_json(work, variables=variables)
        copy: dict[str, Any] = json.loads(json.dumps(cache[key]))
        return copy

    return plan


@pytest.fixture(scope="session")
def docker_client() -> Any:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:  # any failure means the engine is unusable
        missing("Docker engine", str(exc))
        raise
    return client


@pytest.fixture(scope="session")
def opa_server(opa_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `opa run --server` on loopback serving the rule pack bundle; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(opa_bin),
            "run",
            "--server",
            f"--addr=127.0.0.1:{port}",
            "--log-level=error",
            *served(REGO, opa_bin, tmp_path_factory.mktemp("bundle")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def opa_serve(opa_bin: Path, tmp_path: Path) -> Iterator[ServeFn]:
    """Start real `opa run --server` processes on loopback with the given paths (rule packs as
    the bundles tfgen builds, unless `bundle=False`); yields a starter."""
    procs: list[subprocess.Popen[bytes]] = []

    def serve(*paths: Path, extra: tuple[str, ...] = (), bundle: bool = True) -> str:
        port = free_port()
        args = [str(opa_bin), "run", "--server", f"--addr=127.0.0.1:{port}", "--log-level=error"]
        loaded = [a for p in paths for a in (served(p, opa_bin, tmp_path) if bundle else [str(p)])]
        proc = subprocess.Popen(
            [*args, *extra, *loaded],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        return url

    yield serve
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def isolated(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, opa_bin: Path
) -> None:
    """Private cache, pinned OPA, no TFGEN_* engine settings, a cwd without a stray .tfgen.toml."""
    monkeypatch.setenv("TFGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("TFGEN_OPA_BIN", str(opa_bin))
    for name in ("TFGEN_OPA_URL", "TFGEN_OPA_TOKEN", "TFGEN_RULES_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


# What a clone holds that README commands read (tfgen itself runs from this checkout).
CLONED = ("examples", "modules", "rego")


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The root of a fresh clone (what README commands read), as the working directory."""
    (tmp_path / ".git").mkdir()
    for name in CLONED:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns(".terraform*"))
    monkeypatch.chdir(tmp_path)
    for name in ("TFGEN_OPA_URL", "TFGEN_OPA_TOKEN", "TFGEN_TERRAFORM", "TFGEN_RULES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
