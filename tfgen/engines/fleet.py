"""The OPA fleet of docker-compose.yml's `fleet` profile, run through the Docker SDK: an nginx
bundle server, N OPA replicas that pull and verify the signed pack bundle, an nginx load balancer.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tfgen.bundle_sign import Verified, check_key, verify
from tfgen.engines.base import FLEET_NAME, FLEET_REPLICAS, HEALTH_TIMEOUT
from tfgen.engines.compose import BALANCER, BUNDLES, REPLICAS, Service, load_fleet
from tfgen.engines.container import (
    LABEL_FLEET,
    LABEL_OWNER,
    LABEL_ROLE,
    OWNER,
    TOKEN_VARIABLE,
    api_reason,
    bound_url,
    docker_client,
    remove_container,
    token_file,
)
from tfgen.errors import EngineError, InputError
from tfgen.fileio import write_bytes_atomic, write_text_atomic
from tfgen.toolchain import Toolchain

BUNDLE_FILE = "tfgen-bundle.tar.gz"
DEFAULT_NAME = FLEET_NAME
DEFAULT_REPLICAS = FLEET_REPLICAS
# Replica log lines that mean the bundle was refused for good (waiting will not help).
_REFUSALS = ("failed to verify", "signature", "digest mismatch")


@dataclass(frozen=True)
class ReplicaState:
    """What `tfgen opa status --fleet` reports for one replica."""

    name: str
    status: str
    url: str
    ready: bool  # GET /health?bundles=true answered 200
    revision: str  # the tfgen bundle revision it serves, '' if none
    problem: str  # the bundle error its status reports, '' if none


class Fleet:
    """Start, inspect and remove one fleet; the bundle it serves lives under `state`.

    Containers are named `<name>-<service>[-<n>]` and joined on a network of their own, where
    each answers to its service name (the replicas all to `opa-fleet`, which the balancer resolves).
    """

    def __init__(
        self,
        compose_file: Path,
        env: Mapping[str, str],
        state: Path,
        *,
        name: str = DEFAULT_NAME,
        token: str | None = None,
    ) -> None:
        self.name = name
        self.state = state
        self._compose_file = compose_file
        self._env = dict(env)
        self._docker = docker_client()
        self.token = token

    @property
    def bundle_dir(self) -> Path:
        return self.state / "bundles"

    @property
    def public_key(self) -> Path:
        return self.state / "bundle.pub"

    def services(self) -> dict[str, Service]:
        try:
            alg = (self.state / "signing-alg").read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(str(self.state), "no bundle published for the fleet yet") from exc
        env = {
            **self._env,
            "TFGEN_FLEET_BUNDLE_DIR": str(self.bundle_dir),
            "TFGEN_FLEET_PUBLIC_KEY": str(self.public_key),
            "TFGEN_FLEET_SIGNING_ALG": alg,
        }
        return load_fleet(self._compose_file, env)

    def publish(
        self, bundle: Path, key: Path, algorithm: str, toolchain: Toolchain | None = None
    ) -> Verified:
        """Serve `bundle` (checked with `key` first) from now on; running replicas pick it up at
        their next poll. The bundle directory holds nothing else."""
        check_key(key, algorithm, private=False)
        verified = verify(bundle, key, algorithm, toolchain)
        self.bundle_dir.mkdir(parents=True, exist_ok=True)
        self.bundle_dir.chmod(0o755)
        try:
            data, public = bundle.read_bytes(), key.read_bytes()
        except OSError as exc:
            raise InputError(str(bundle), f"cannot read ({exc.strerror or exc})") from exc
        write_bytes_atomic(self.public_key, public, mode=0o644, force=True)
        write_text_atomic(self.state / "signing-alg", algorithm + "\n", mode=0o644, force=True)
        write_bytes_atomic(self.bundle_dir / BUNDLE_FILE, data, mode=0o644, force=True)
        return verified

    @property
    def published(self) -> bool:
        return (self.bundle_dir / BUNDLE_FILE).is_file() and self.public_key.is_file()

    def up(self, replicas: int = DEFAULT_REPLICAS, timeout: float = HEALTH_TIMEOUT) -> str:
        """Run the fleet with `replicas` OPA replicas serving the published bundle, and wait until
        each has activated it and the balancer answers; the balancer's URL."""
        if replicas < 1:
            raise InputError("replicas", "must be at least 1")
        if not self.published:
            raise InputError(str(self.state), "no bundle published for the fleet yet")
        services = self.services()
        if not self.token:
            self.token = self._env.get(TOKEN_VARIABLE) or self.kept_token() or new_token()
        network = self._network()
        self._ensure(services[BUNDLES], self._container_name(BUNDLES), network)
        wanted = {self._container_name(REPLICAS, i) for i in range(1, replicas + 1)}
        for container in self._containers(REPLICAS):
            if container.name not in wanted:
                self._remove(container)
        for index in range(1, replicas + 1):
            self._ensure(services[REPLICAS], self._container_name(REPLICAS, index), network)
        balancer = self._ensure(services[BALANCER], self._container_name(BALANCER), network)
        lb_url = bound_url(balancer)
        # Kept before the wait, so status and check reach a replica that never got ready.
        self._keep_token([lb_url, *(bound_url(c) for c in self._containers(REPLICAS))])
        deadline = time.monotonic() + timeout
        for container in self._containers(REPLICAS):
            self._wait_replica(container, deadline)
        self._wait_url(balancer, f"{lb_url}/health?bundles=true", deadline)
        return lb_url

    def down(self) -> list[str]:
        """Remove the fleet's containers and network; their names."""
        import docker.errors

        removed = []
        for container in self._containers():
            self._remove(container)
            removed.append(container.name)
        try:
            self._docker.networks.get(self.name).remove()
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"cannot remove network {self.name}: {api_reason(exc)}") from exc
        return removed

    def balancer_url(self) -> str:
        found = self._containers(BALANCER)
        return bound_url(found[0]) if found else ""

    def replica_urls(self) -> list[str]:
        return [url for url in (bound_url(c) for c in self._containers(REPLICAS)) if url]

    def status(self) -> list[ReplicaState]:
        """Each replica: container state, readiness, the revision it serves, its bundle error."""
        states = []
        for container in self._containers(REPLICAS):
            url = bound_url(container)
            ready, revision = False, ""
            if container.status == "running" and url:
                ready = _get(f"{url}/health?bundles=true", None) is not None
                body = _get(f"{url}/v1/data/tfgen_revision?provenance=true", self.kept_token())
                revision = _tfgen_revision(body)
            states.append(
                ReplicaState(
                    name=container.name,
                    status=container.status,
                    url=url,
                    ready=ready,
                    revision=revision,
                    problem=_bundle_problem(container),
                )
            )
        return states

    def _container_name(self, service: str, index: int | None = None) -> str:
        return f"{self.name}-{service}" + (f"-{index}" if index is not None else "")

    def _containers(self, service: str | None = None) -> list[Any]:
        label = f"{LABEL_FLEET}={self.name}"
        found = self._docker.containers.list(all=True, filters={"label": label})
        if service is not None:
            found = [c for c in found if c.labels.get(LABEL_ROLE) == service]
        return sorted(found, key=lambda c: (len(c.name), c.name))

    def _network(self) -> str:
        import docker.errors

        try:
            self._docker.networks.get(self.name)
        except docker.errors.NotFound:
            self._docker.networks.create(
                self.name, driver="bridge", labels={LABEL_FLEET: self.name, LABEL_OWNER: OWNER}
            )
        return self.name

    def _ensure(self, service: Service, name: str, network: str) -> Any:
        """The running container `name` of `service`; created when absent or stopped."""
        import docker.errors

        existing = [c for c in self._containers() if c.name == name]
        if existing and existing[0].status == "running":
            return existing[0]
        for container in existing:
            self._remove(container)
        environment = dict(service.environment)
        if TOKEN_VARIABLE in environment:
            environment[TOKEN_VARIABLE] = self.token or ""
        try:
            self._docker.images.get(service.image)
        except docker.errors.ImageNotFound as exc:
            variable = "TFGEN_OPA_IMAGE" if service.name == REPLICAS else "TFGEN_NGINX_IMAGE"
            raise EngineError(
                f"image {service.image} is not present (no registry is pulled from for the "
                f"fleet): set {variable} to a local image"
            ) from exc
        try:
            container = self._docker.containers.run(
                service.image,
                command=list(service.command),
                name=name,
                detach=True,
                ports={f"{p.container_port}/tcp": (p.host_ip, p.host_port) for p in service.ports},
                volumes=service.volumes,
                environment=environment,
                user=service.user,
                read_only=service.read_only,
                cap_drop=list(service.cap_drop),
                security_opt=list(service.security_opt),
                tmpfs={path: "" for path in service.tmpfs},
                stop_signal=service.stop_signal,
                labels={
                    **service.labels,
                    LABEL_ROLE: service.name,
                    LABEL_OWNER: OWNER,
                    LABEL_FLEET: self.name,
                },
                healthcheck=service.healthcheck,
                network=network,
                networking_config={
                    network: self._docker.api.create_endpoint_config(aliases=[service.name])
                },
            )
        except docker.errors.APIError as exc:
            raise EngineError(
                f"cannot start container {name} from {service.image}: {api_reason(exc)}"
            ) from exc
        container.reload()
        return container

    def _wait_replica(self, container: Any, deadline: float) -> None:
        url = bound_url(container)
        while True:
            container.reload()
            if container.status in ("exited", "dead"):
                raise EngineError(f"fleet replica {container.name} exited: {_last_log(container)}")
            if url and _get(f"{url}/health?bundles=true", None) is not None:
                return
            problem = _bundle_problem(container)
            if any(marker in problem for marker in _REFUSALS):
                raise EngineError(f"fleet replica {container.name} refused the bundle: {problem}")
            if time.monotonic() >= deadline:
                raise EngineError(
                    f"fleet replica {container.name} did not activate the bundle "
                    f"({problem or 'no bundle error reported'})"
                )
            time.sleep(0.2)

    def _wait_url(self, container: Any, url: str, deadline: float) -> None:
        while _get(url, None) is None:
            container.reload()
            if container.status in ("exited", "dead"):
                raise EngineError(f"{container.name} exited: {_last_log(container)}")
            if time.monotonic() >= deadline:
                raise EngineError(f"{container.name} does not answer at {url}")
            time.sleep(0.2)

    def kept_token(self) -> str | None:
        """The token the fleet was started with, as kept under its state directory."""
        path = self.state / "token"
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _keep_token(self, urls: list[str]) -> None:
        """The fleet's token, generated if none was given, kept 0600 for every URL it serves."""
        if not self.token:
            return
        self.state.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.state / "token", self.token + "\n", mode=0o600, force=True)
        cache = self.state.parent.parent
        for url in urls:
            path = token_file(cache, url)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_text_atomic(path, self.token + "\n", mode=0o600, force=True)

    def _remove(self, container: Any) -> None:
        remove_container(container, self.state.parent.parent, bound_url(container))


def new_token() -> str:
    """A bearer token for a fleet started without one."""
    return secrets.token_urlsafe(32)


def fleet_state(cache: Path, name: str = DEFAULT_NAME) -> Path:
    """Where a fleet's served bundle, key and token live (the cache's `fleet/<name>`)."""
    return cache / "fleet" / name


def _get(url: str, token: str | None) -> Any:
    """The JSON body of a 200 answer to GET `url`, or None."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(url, headers=headers, timeout=2)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _tfgen_revision(body: Any) -> str:
    provenance = body.get("provenance") if isinstance(body, dict) else None
    bundles = provenance.get("bundles") if isinstance(provenance, dict) else None
    tfgen = bundles.get("tfgen") if isinstance(bundles, dict) else None
    return str(tfgen.get("revision", "")) if isinstance(tfgen, dict) else ""


def _bundle_problem(container: Any) -> str:
    """The pack bundle's error in the replica's latest status report (OPA's status plugin on the
    console), or its latest `Bundle load failed` line; '' if none."""
    import docker.errors

    try:
        lines = container.logs(tail=40).decode("utf-8", "replace").splitlines()
    except docker.errors.DockerException:  # a container being removed has no logs to read
        return ""
    for line in reversed(lines):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("msg") == "Status Log":
            bundle = (event.get("bundles") or {}).get("tfgen") or {}
            return str(bundle.get("message") or "") if isinstance(bundle, dict) else ""
        message = str(event.get("msg", ""))
        if message.startswith("Bundle load failed"):
            return message.split(": ", 1)[-1]
    return ""


def _last_log(container: Any) -> str:
    logs = container.logs(tail=5).decode("utf-8", "replace").strip().splitlines()
    return logs[-1][:300] if logs else "no output"
