"""The Docker engine adapter: OPA in the compose-defined container, evaluated like any OPA server.

The compose reader is `tfgen.engines.compose`, the container lifecycle `tfgen.engines.container`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tfgen.bundle import cached
from tfgen.engines.base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, HEALTH_TIMEOUT, Decision
from tfgen.engines.compose import OpaService, default_compose_file, load_service
from tfgen.engines.container import LABEL_OWNER, LABEL_ROLE, ContainerState, DockerOpa
from tfgen.engines.opa import OpaServerEngine
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain

__all__ = [
    "LABEL_OWNER",
    "LABEL_ROLE",
    "ContainerState",
    "DockerEngine",
    "DockerOpa",
    "OpaService",
    "default_compose_file",
    "load_service",
]


class DockerEngine:
    """OPA in the compose-defined container; removed afterwards if this run started it and no
    other run still uses it. The server must prove it serves this pack, as with `--engine opa`."""

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
        toolchain: Toolchain | None = None,
    ) -> None:
        toolchain = toolchain or Toolchain()
        env = dict(compose_env or {})
        if token:
            env["TFGEN_OPA_TOKEN"] = token
        self.service = load_service(
            compose_file or default_compose_file(pack), cached(pack, toolchain), env
        )
        self._keep = keep_running
        self.opa = DockerOpa(self.service, pack, toolchain.cache_dir)
        self.started = False
        try:
            self.started = self.opa.up(health_timeout)
            self._server = OpaServerEngine(
                self.service.url,
                pack,
                rule_config,
                token=self.opa.token,
                timeout=timeout,
                retries=retries,
            )
        except BaseException:
            self._release()
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
        self._release()

    def _release(self) -> None:
        self.opa.release(stop=self.started and not self._keep)
