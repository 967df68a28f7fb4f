"""Policy engines behind one interface; the CLI picks one by name and never falls back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from tfgen.engines.base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Decision, Engine, cores
from tfgen.errors import InputError
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain

EngineName = Literal["embedded", "opa", "docker"]
ENGINES: tuple[EngineName, ...] = get_args(EngineName)

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENGINES",
    "Decision",
    "Engine",
    "EngineName",
    "EngineOptions",
    "open_engine",
]


@dataclass(frozen=True)
class EngineOptions:
    """How to reach or run an engine; fields an engine does not use are ignored by it."""

    opa_url: str | None = None
    token: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    keep_running: bool = False
    compose_file: Path | None = None
    # The variables the compose file's ${...} interpolation sees (the CLI passes its environment).
    compose_env: Mapping[str, str] = field(default_factory=dict)
    load_pack: bool = False
    # Evaluations in flight at once (the embedded engine keeps one Wasm instance per job).
    jobs: int = 1
    # Accept plans judged by different bundle revisions in one run (a bundle update mid-run).
    allow_revision_change: bool = False
    # Where the OPA binary is and where compiled packs and bundles are cached.
    toolchain: Toolchain = field(default_factory=Toolchain)


def open_engine(
    name: str,
    pack: RulePack,
    rule_config: Mapping[str, Any] | None = None,
    options: EngineOptions | None = None,
) -> Engine:
    """A ready engine of that name (close() it when done)."""
    opts = options or EngineOptions()
    if opts.timeout <= 0:
        raise InputError("timeout", "must be a positive number of seconds")
    if opts.jobs < 1:
        raise InputError("jobs", "must be at least 1")
    if name == "embedded":
        from tfgen.engines.embedded import EmbeddedEngine

        return EmbeddedEngine(
            pack,
            rule_config,
            timeout=max(opts.timeout, 1.0),
            # An evaluation beyond one per core would only hold another instance's memory.
            instances=min(opts.jobs, cores()),
            toolchain=opts.toolchain,
        )
    if name == "opa":
        if pack.extends is not None and not opts.load_pack:
            raise InputError(
                "extra rules",
                "an OPA server evaluates only the policies it serves: load the pack with them "
                "onto it (--load-pack)",
            )
        from tfgen.engines.opa import OpaFleetEngine, OpaServerEngine, split_urls

        urls = split_urls(opts.opa_url)
        if len(urls) > 1:
            return OpaFleetEngine(
                urls,
                pack,
                rule_config,
                token=opts.token,
                timeout=opts.timeout,
                retries=opts.retries,
                load_pack=opts.load_pack,
            )
        return OpaServerEngine(
            urls[0] if urls else opts.opa_url,
            pack,
            rule_config,
            token=opts.token,
            timeout=opts.timeout,
            retries=opts.retries,
            load_pack=opts.load_pack,
        )
    if name == "docker":
        from tfgen.engines.docker_opa import DockerEngine

        return DockerEngine(
            pack,
            rule_config,
            compose_file=opts.compose_file,
            compose_env=opts.compose_env,
            token=opts.token,
            timeout=opts.timeout,
            retries=opts.retries,
            keep_running=opts.keep_running,
            toolchain=opts.toolchain,
        )
    raise InputError("engine", f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
