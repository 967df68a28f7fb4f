"""The container lifecycle: create, find, wait for, share and remove the OPA container."""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests

from tfgen.engines.base import HEALTH_TIMEOUT
from tfgen.engines.compose import SERVICE, OpaService
from tfgen.errors import EngineError, ToolchainError
from tfgen.fileio import write_text_atomic
from tfgen.rulepack import RulePack

LABEL_ROLE = "org.tfgen.role"
LABEL_OWNER = "org.tfgen.started-by"
LABEL_DIGEST = "org.tfgen.pack-digest"
# Containers of a fleet (tfgen.engines.fleet) carry its name; the single-container commands skip them.
LABEL_FLEET = "org.tfgen.fleet"
OWNER = "tfgen"
TOKEN_VARIABLE = "TFGEN_OPA_TOKEN"  # noqa: S105 - the variable name, not a token


def token_file(cache: Path, url: str) -> Path:
    """Where the token tfgen generated for the container serving `url` is kept (mode 0600)."""
    key = url.split("://", 1)[-1].replace(":", "_").replace("/", "_")
    return cache / "tokens" / f"{key}.token"


def read_token(cache: Path, url: str) -> str | None:
    """The token tfgen generated for the container at `url`, if it started one there."""
    try:
        return token_file(cache, url).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class ContainerState:
    """What `tfgen opa status` reports for one container."""

    name: str
    status: str
    health: str
    image: str
    started_by_tfgen: bool
    url: str


class DockerOpa:
    """Create, find, wait for and remove the OPA container; stops only what this run started,
    and only when no other run holds a lease on it.

    A container tfgen starts is never open: without a token from the user, it gets a random one,
    kept 0600 under `cache` for the runs and commands that reuse the container.
    """

    def __init__(self, service: OpaService, pack: RulePack, cache: Path) -> None:
        self.service = service
        self._pack = pack
        self._cache = cache
        self._docker = docker_client()
        self._lease: Path | None = None
        self.token: str | None = service.environment.get(TOKEN_VARIABLE) or None

    def up(self, timeout: float = HEALTH_TIMEOUT) -> bool:
        """Make the container run and answer /health; True if this call started it."""
        import docker.errors

        self._take_lease()
        container = self.find()
        if container is not None:
            ours = container.labels.get(LABEL_OWNER) == OWNER
            current = container.labels.get(LABEL_DIGEST) == self._pack.digest
            if container.status == "running" and (current or not ours):
                if ours and not self.token:
                    self.token = read_token(self._cache, self.service.url)
                self._wait(container, timeout)
                return False
            if not ours:
                raise EngineError(
                    f"container {self.service.name} exists ({container.status}) and was not "
                    "started by tfgen: remove it or set TFGEN_OPA_CONTAINER to another name"
                )
            with self._leases() as others:
                if others:
                    raise EngineError(
                        f"container {self.service.name} serves another rule pack and is in use "
                        "by another tfgen run: try again when it ends"
                    )
                self._remove(container)
        self._ensure_image()
        if not self.token:
            self.token = secrets.token_urlsafe(32)
            path = token_file(self._cache, self.service.url)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_text_atomic(path, self.token + "\n", mode=0o600, force=True)
        svc = replace(
            self.service, environment={**self.service.environment, TOKEN_VARIABLE: self.token}
        )
        try:
            container = self._docker.containers.run(
                svc.image,
                command=list(svc.command),
                name=svc.name,
                detach=True,
                ports={f"{svc.container_port}/tcp": (svc.host_ip, svc.host_port)},
                volumes=svc.volumes,
                environment=svc.environment,
                user=svc.user,
                read_only=svc.read_only,
                cap_drop=list(svc.cap_drop),
                security_opt=list(svc.security_opt),
                labels={
                    **svc.labels,
                    LABEL_ROLE: SERVICE,
                    LABEL_OWNER: OWNER,
                    LABEL_DIGEST: self._pack.digest,
                },
                healthcheck=svc.healthcheck,
            )
        except docker.errors.APIError as exc:
            existing = self.find()
            if existing is not None and existing.status == "running":
                self._wait(existing, timeout)  # a parallel run created it first: use, not own, it
                return False
            if existing is not None and existing.status == "created":
                self._remove(existing)  # created but never started, e.g. the port was taken
            raise EngineError(
                f"cannot start container {svc.name} from {svc.image}: {api_reason(exc)}"
            ) from exc
        try:
            self._wait(container, timeout)
        except BaseException:
            self._remove(container)
            raise
        return True

    def down(self) -> list[str]:
        """Stop and remove the tfgen-started OPA containers; their names."""
        removed = []
        for container in self._containers():
            if container.labels.get(LABEL_OWNER) == OWNER:
                self._remove(container)
                removed.append(container.name)
        return removed

    def release(self, *, stop: bool) -> None:
        """End this run's use; with `stop` (this run started it), remove the container unless
        another run still holds a lease on it."""
        with self._leases() as others:
            if self._lease is not None:
                self._lease.unlink(missing_ok=True)
                self._lease = None
            if not stop or others:
                return
            container = self.find()
            if container is not None and container.labels.get(LABEL_OWNER) == OWNER:
                self._remove(container)

    def _take_lease(self) -> None:
        with self._leases():
            lease = self._lease_dir() / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            lease.write_text(str(os.getpid()), encoding="utf-8")
            self._lease = lease

    def _lease_dir(self) -> Path:
        path = self._cache / "leases" / self.service.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def _leases(self) -> Iterator[list[Path]]:
        """Under an exclusive lock: the live leases of other runs (stale ones are removed)."""
        directory = self._lease_dir()
        with (directory / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            others = []
            for lease in directory.glob("[0-9]*"):
                if lease == self._lease:
                    continue
                if _alive(lease):
                    others.append(lease)
                else:
                    lease.unlink(missing_ok=True)
            yield others

    def status(self) -> list[ContainerState]:
        """Every OPA container tfgen knows: by label or by this service's name."""
        states = []
        for container in self._containers():
            health = container.attrs.get("State", {}).get("Health", {}).get("Status", "none")
            url = bound_url(container)
            states.append(
                ContainerState(
                    name=container.name,
                    status=container.status,
                    health=health,
                    image=str(container.attrs.get("Config", {}).get("Image", "")),
                    started_by_tfgen=container.labels.get(LABEL_OWNER) == OWNER,
                    url=url,
                )
            )
        return states

    def find(self) -> Any:
        """This service's container, running or not, or None."""
        matches = self._docker.containers.list(all=True, filters={"name": self.service.name})
        return next((c for c in matches if c.name == self.service.name), None)

    def _containers(self) -> list[Any]:
        labelled = [
            c
            for c in self._docker.containers.list(all=True, filters={"label": LABEL_ROLE})
            if LABEL_FLEET not in c.labels
        ]
        named = self.find()
        found = {c.id: c for c in labelled}
        if named is not None:
            found[named.id] = named
        return sorted(found.values(), key=lambda c: c.name)

    def _ensure_image(self) -> None:
        import docker.errors

        try:
            self._docker.images.get(self.service.image)
        except docker.errors.ImageNotFound:
            try:
                self._docker.images.pull(self.service.image)
            except docker.errors.DockerException as exc:
                raise ToolchainError(
                    f"OPA image {self.service.image} is not present and cannot be pulled "
                    f"({api_reason(exc)}): set TFGEN_OPA_IMAGE to a local image"
                ) from exc

    def _wait(self, container: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.service.url}/health"
        while True:
            container.reload()
            if container.status in ("exited", "dead"):
                logs = container.logs(tail=5).decode("utf-8", "replace").strip().splitlines()
                last = logs[-1] if logs else "no output"
                raise EngineError(
                    f"OPA container {container.name} exited ({container.status}): {last[:300]}"
                )
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() >= deadline:
                raise EngineError(
                    f"OPA container {container.name} not healthy at {url} after {timeout:g}s"
                )
            time.sleep(0.2)

    def _remove(self, container: Any) -> None:
        remove_container(container, self._cache, bound_url(container))


def remove_container(container: Any, cache: Path, url: str) -> None:
    """Remove a container tfgen started, and the token it kept for the URL it served."""
    import docker.errors

    if url:
        token_file(cache, url).unlink(missing_ok=True)
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        raise EngineError(f"cannot remove container {container.name}: {api_reason(exc)}") from exc


def docker_client() -> Any:
    try:
        # By name: the docker package ships no type information for mypy --strict.
        client = importlib.import_module("docker").from_env()
        client.ping()
    except Exception as exc:  # any failure means no usable Docker engine
        raise ToolchainError(f"Docker engine unreachable ({api_reason(exc)})") from exc
    return client


def api_reason(exc: BaseException) -> str:
    """A Docker API error in one short line."""
    explanation = getattr(exc, "explanation", None)
    text = explanation if isinstance(explanation, str) and explanation else str(exc)
    return " ".join(text.split())[:300]


def bound_url(container: Any) -> str:
    """The loopback URL a container publishes (its first bound port), or ''."""
    ports = container.attrs.get("NetworkSettings", {}).get("Ports") or {}
    for bound in ports.values():
        if bound:
            return f"http://{bound[0].get('HostIp', '')}:{bound[0].get('HostPort', '')}"
    return ""


def _alive(lease: Path) -> bool:
    try:
        pid = int(lease.read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True
