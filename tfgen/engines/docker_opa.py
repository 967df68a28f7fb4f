"""The Docker engine: the OPA container of docker-compose.yml, run through the docker SDK."""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from tfgen.bundle import cached
from tfgen.engines.base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, HEALTH_TIMEOUT, Decision
from tfgen.engines.opa import OpaServerEngine
from tfgen.errors import EngineError, InputError, ToolchainError
from tfgen.rulepack import RulePack

SERVICE = "opa"
LABEL_ROLE = "org.tfgen.role"
LABEL_OWNER = "org.tfgen.started-by"
LABEL_DIGEST = "org.tfgen.pack-digest"
OWNER = "tfgen"
BUNDLE_VARIABLE = "TFGEN_OPA_BUNDLE"
_VAR = re.compile(r"\$(?:\$|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|s|m|h)")
_UNITS = {"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}


@dataclass(frozen=True)
class OpaService:
    """The `opa` service of docker-compose.yml, interpolated and with absolute mount sources."""

    compose_file: Path
    image: str
    name: str
    command: tuple[str, ...]
    host_ip: str
    host_port: int
    container_port: int
    volumes: dict[str, dict[str, str]]
    environment: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    read_only: bool = False
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    healthcheck: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host_ip}:{self.host_port}"


def default_compose_file(pack: RulePack) -> Path:
    """The docker-compose.yml beside the rule pack directory."""
    return (pack.extends or pack.root).parent / "docker-compose.yml"


def load_service(compose_file: Path, bundle: Path, env: Mapping[str, str]) -> OpaService:
    """Read the `opa` service, `${...}` taken from `env` with TFGEN_OPA_BUNDLE set to `bundle`,
    which the service must mount read-only."""
    source = str(compose_file)
    try:
        document = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(source, f"cannot read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InputError(source, f"not valid YAML ({exc.__class__.__name__})") from exc
    services = document.get("services") if isinstance(document, dict) else None
    spec = services.get(SERVICE) if isinstance(services, dict) else None
    if not isinstance(spec, dict):
        raise InputError(source, f"no services.{SERVICE} entry")
    spec = _interpolate(spec, {**env, BUNDLE_VARIABLE: str(bundle)}, source)
    base = compose_file.resolve().parent
    image = spec.get("image")
    if not isinstance(image, str) or not image:
        raise InputError(source, f"services.{SERVICE}.image is missing")
    host_ip, host_port, container_port = _port(spec.get("ports"), source)
    volumes = _volumes(spec.get("volumes"), base, source)
    if not any(Path(host) == bundle and v["mode"] == "ro" for host, v in volumes.items()):
        raise InputError(
            source, f"does not mount the rule pack bundle ${{{BUNDLE_VARIABLE}}} read-only"
        )
    command = spec.get("command", [])
    if not isinstance(command, list):
        raise InputError(source, f"services.{SERVICE}.command must be a list")
    return OpaService(
        compose_file=compose_file,
        image=image,
        name=str(spec.get("container_name") or "tfgen-opa"),
        command=tuple(str(c) for c in command),
        host_ip=host_ip,
        host_port=host_port,
        container_port=container_port,
        volumes=volumes,
        environment={str(k): str(v) for k, v in (spec.get("environment") or {}).items()},
        user=str(spec["user"]) if spec.get("user") is not None else None,
        read_only=bool(spec.get("read_only", False)),
        cap_drop=tuple(spec.get("cap_drop") or ()),
        security_opt=tuple(spec.get("security_opt") or ()),
        labels={str(k): str(v) for k, v in (spec.get("labels") or {}).items()},
        healthcheck=_healthcheck(spec.get("healthcheck"), source),
    )


def _interpolate(value: Any, env: Mapping[str, str], source: str) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1) or match.group(4)
            op, default = match.group(2), match.group(3) or ""
            current = env.get(name)
            if op == ":-":
                return current if current else default
            if op == "-":
                return current if current is not None else default
            if op in (":?", "?") and not current:
                raise InputError(source, f"variable {name} is required: {default}")
            return current or ""

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [_interpolate(v, env, source) for v in value]
    if isinstance(value, dict):
        return {k: _interpolate(v, env, source) for k, v in value.items()}
    return value


def _port(ports: object, source: str) -> tuple[str, int, int]:
    if not isinstance(ports, list) or len(ports) != 1:
        raise InputError(source, f"services.{SERVICE}.ports must publish exactly one port")
    parts = str(ports[0]).split("/")[0].split(":")
    if len(parts) != 3:
        raise InputError(source, "the OPA port must be published as HOST_IP:HOST_PORT:PORT")
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError as exc:
        raise InputError(source, f"bad port mapping {ports[0]!r}") from exc


def _volumes(volumes: object, base: Path, source: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for entry in volumes or []:  # type: ignore[attr-defined]
        parts = str(entry).split(":")
        if len(parts) not in (2, 3):
            raise InputError(source, f"unsupported volume {entry!r}")
        host = Path(parts[0])
        host = (base / host).resolve() if not host.is_absolute() else host
        if not host.exists():
            raise InputError(source, f"volume source {host} does not exist")
        out[str(host)] = {"bind": parts[1], "mode": parts[2] if len(parts) == 3 else "rw"}
    return out


def _healthcheck(spec: object, source: str) -> dict[str, Any] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("test"), list):
        raise InputError(source, f"services.{SERVICE}.healthcheck needs a test list")
    out: dict[str, Any] = {"test": [str(t) for t in spec["test"]]}
    for key in ("interval", "timeout", "start_period"):
        if key in spec:
            out[key] = _nanoseconds(str(spec[key]), source)
    if "retries" in spec:
        out["retries"] = int(spec["retries"])
    return out


def _nanoseconds(text: str, source: str) -> int:
    pieces = _DURATION.findall(text)
    if not pieces or "".join(n + u for n, u in pieces) != text:
        raise InputError(source, f"bad duration {text!r}")
    return int(sum(float(n) * _UNITS[u] for n, u in pieces))


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
    """Create, find, wait for and remove the OPA container; stops only what tfgen started."""

    def __init__(self, service: OpaService, pack: RulePack) -> None:
        self.service = service
        self._pack = pack
        self._docker = _docker_client()

    def up(self, timeout: float = HEALTH_TIMEOUT) -> bool:
        """Make the container run and answer /health; True if this call started it."""
        import docker.errors

        container = self.find()
        if container is not None:
            ours = container.labels.get(LABEL_OWNER) == OWNER
            current = container.labels.get(LABEL_DIGEST) == self._pack.digest
            if container.status == "running" and (current or not ours):
                self._wait(container, timeout)
                return False
            if not ours:
                raise EngineError(
                    f"container {self.service.name} exists ({container.status}) and was not "
                    "started by tfgen: remove it or set TFGEN_OPA_CONTAINER to another name"
                )
            self._remove(container)
        self._ensure_image()
        svc = self.service
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
                f"cannot start container {svc.name} from {svc.image}: {_api_reason(exc)}"
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

    def stop(self) -> None:
        """Stop and remove this service's container if tfgen started it."""
        container = self.find()
        if container is not None and container.labels.get(LABEL_OWNER) == OWNER:
            self._remove(container)

    def status(self) -> list[ContainerState]:
        """Every OPA container tfgen knows: by label or by this service's name."""
        states = []
        for container in self._containers():
            health = container.attrs.get("State", {}).get("Health", {}).get("Status", "none")
            ports = container.attrs.get("NetworkSettings", {}).get("Ports") or {}
            bound = next(iter(ports.values()), None) or [{}]
            url = f"http://{bound[0].get('HostIp', '')}:{bound[0].get('HostPort', '')}"
            states.append(
                ContainerState(
                    name=container.name,
                    status=container.status,
                    health=health,
                    image=str(container.attrs.get("Config", {}).get("Image", "")),
                    started_by_tfgen=container.labels.get(LABEL_OWNER) == OWNER,
                    url=url if bound[0] else "",
                )
            )
        return states

    def find(self) -> Any:
        """This service's container, running or not, or None."""
        matches = self._docker.containers.list(all=True, filters={"name": self.service.name})
        return next((c for c in matches if c.name == self.service.name), None)

    def _containers(self) -> list[Any]:
        labelled = self._docker.containers.list(all=True, filters={"label": LABEL_ROLE})
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
                    f"({_api_reason(exc)}): set TFGEN_OPA_IMAGE to a local image"
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
        import docker.errors

        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(
                f"cannot remove container {container.name}: {_api_reason(exc)}"
            ) from exc


def _docker_client() -> Any:
    try:
        # By name: mypy run from the repo root would take the docker/ folder for this package.
        client = importlib.import_module("docker").from_env()
        client.ping()
    except Exception as exc:  # any failure means no usable Docker engine
        raise ToolchainError(f"Docker engine unreachable ({_api_reason(exc)})") from exc
    return client


def _api_reason(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    text = explanation if isinstance(explanation, str) and explanation else str(exc)
    return " ".join(text.split())[:300]


class DockerEngine:
    """OPA in the compose-defined container; stopped afterwards if this run started it."""

    name = "docker"

    def __init__(
        self,
        pack: RulePack,
        rule_config: Mapping[str, Any] | None = None,
        *,
        compose_file: Path | None = None,
        compose_env: Mapping[str, str] | None = None,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        keep_running: bool = False,
        health_timeout: float = HEALTH_TIMEOUT,
    ) -> None:
        env = dict(compose_env or {})
        if token:
            env["TFGEN_OPA_TOKEN"] = token
        self.service = load_service(compose_file or default_compose_file(pack), cached(pack), env)
        self._keep = keep_running
        self.opa = DockerOpa(self.service, pack)
        self.started = self.opa.up(health_timeout)
        try:
            self._server = OpaServerEngine(
                self.service.url, pack, rule_config, token=token, timeout=timeout, retries=retries
            )
        except BaseException:
            self._stop()
            raise

    def evaluate(self, plan: Mapping[str, Any]) -> Decision:
        return self._server.evaluate(plan)

    def versions(self) -> dict[str, str]:
        return {
            **self._server.versions(),
            "engine": self.name,
            "image": self.service.image,
            "container": self.service.name,
        }

    def notices(self) -> tuple[str, ...]:
        reused = () if self.started else (f"reused running container {self.service.name}",)
        return (*reused, *self._server.notices())

    def close(self) -> None:
        self._server.close()
        self._stop()

    def _stop(self) -> None:
        if self.started and not self._keep:
            self.opa.stop()
