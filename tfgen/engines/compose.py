"""The compose reader: docker-compose.yml's `opa` service and `fleet` profile, interpolated as
docker-compose does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

from tfgen.errors import InputError
from tfgen.rulepack import RulePack

SERVICE = "opa"
# The fleet profile's services: bundle server, OPA replicas, load balancer.
BUNDLES, REPLICAS, BALANCER = "fleet-bundles", "opa-fleet", "fleet-lb"
FLEET_SERVICES = (BUNDLES, REPLICAS, BALANCER)
BUNDLE_VARIABLE = "TFGEN_OPA_BUNDLE"
_VAR = re.compile(r"\$(?:\$|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|s|m|h)")
_UNITS = {"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a compose `.env` file, read as docker-compose reads it (python-dotenv,
    UTF-8 with an optional BOM, `${...}` expanded); {} when there is none."""
    if not path.is_file():
        return {}
    try:
        values = dotenv_values(path, encoding="utf-8-sig", interpolate=True)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read ({exc})") from exc
    return {k: v for k, v in values.items() if v is not None}


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


def read_services(compose_file: Path) -> dict[str, Any]:
    """The `services` mapping of a compose file, not yet interpolated ({} when it has none)."""
    source = str(compose_file)
    try:
        document = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(source, f"cannot read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InputError(source, f"not valid YAML ({exc.__class__.__name__})") from exc
    services = document.get("services") if isinstance(document, dict) else None
    return services if isinstance(services, dict) else {}


def load_service(compose_file: Path, bundle: Path, env: Mapping[str, str]) -> OpaService:
    """Read the `opa` service, `${...}` taken from `env`, then the compose file's .env, with
    TFGEN_OPA_BUNDLE set to `bundle`, which the service must mount read-only."""
    source = str(compose_file)
    services = read_services(compose_file)
    spec = services.get(SERVICE)
    if not isinstance(spec, dict):
        raise InputError(source, f"no services.{SERVICE} entry")
    # As docker-compose: the environment overrides .env beside the compose file.
    values = {**read_dotenv(compose_file.resolve().parent / ".env"), **env}
    spec = _interpolate(spec, {**values, BUNDLE_VARIABLE: str(bundle)}, source)
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
        **_run_settings(spec, source),
    )


@dataclass(frozen=True)
class Port:
    host_ip: str
    host_port: int | None  # None: Docker picks a free one
    container_port: int


@dataclass(frozen=True)
class Service:
    """One service of the fleet profile, interpolated, with absolute mount sources."""

    name: str
    image: str
    command: tuple[str, ...]
    ports: tuple[Port, ...]
    volumes: dict[str, dict[str, str]]
    environment: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    read_only: bool = False
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()
    stop_signal: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    healthcheck: dict[str, Any] | None = None


def load_fleet(compose_file: Path, env: Mapping[str, str]) -> dict[str, Service]:
    """The fleet profile's services, `${...}` taken from `env`, then the compose file's .env."""
    source = str(compose_file)
    services = read_services(compose_file)
    values = {**read_dotenv(compose_file.resolve().parent / ".env"), **env}
    base = compose_file.resolve().parent
    out = {}
    for name in FLEET_SERVICES:
        spec = services.get(name)
        if not isinstance(spec, dict) or "fleet" not in (spec.get("profiles") or []):
            raise InputError(source, f"no services.{name} entry in the fleet profile")
        spec = _interpolate(spec, values, source)
        image = spec.get("image")
        command = spec.get("command", [])
        if not isinstance(image, str) or not image or not isinstance(command, list):
            raise InputError(source, f"services.{name} needs an image and a command list")
        out[name] = Service(
            name=name,
            image=image,
            command=tuple(str(c) for c in command),
            ports=tuple(_port_mapping(p, source) for p in spec.get("ports") or ()),
            volumes=_volumes(spec.get("volumes"), base, source),
            tmpfs=tuple(spec.get("tmpfs") or ()),
            stop_signal=spec.get("stop_signal"),
            **_run_settings(spec, source),
        )
    for port in out[BALANCER].ports:
        if port.host_ip not in ("127.0.0.1", "::1") or port.host_port is None:
            raise InputError(source, f"services.{BALANCER} must publish on 127.0.0.1:PORT only")
    return out


def _run_settings(spec: Mapping[str, Any], source: str) -> dict[str, Any]:
    """What every service reads alike: environment, user, hardening, labels and health check."""
    return {
        "environment": {str(k): str(v) for k, v in (spec.get("environment") or {}).items()},
        "user": str(spec["user"]) if spec.get("user") is not None else None,
        "read_only": bool(spec.get("read_only", False)),
        "cap_drop": tuple(spec.get("cap_drop") or ()),
        "security_opt": tuple(spec.get("security_opt") or ()),
        "labels": {str(k): str(v) for k, v in (spec.get("labels") or {}).items()},
        "healthcheck": _healthcheck(spec.get("healthcheck"), source),
    }


def _port_mapping(entry: object, source: str) -> Port:
    parts = str(entry).split("/")[0].split(":")
    try:
        if len(parts) == 3:
            return Port(parts[0], int(parts[1]) if parts[1] else None, int(parts[2]))
    except ValueError:
        pass
    raise InputError(source, f"bad port mapping {entry!r}: use HOST_IP:[HOST_PORT]:PORT")


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
