"""`tfgen opa up|down|status`: manage the OPA container of docker-compose.yml."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tfgen.cli import Subparsers, env_default, env_path
from tfgen.cli.options import add_rules_argument
from tfgen.engines.base import HEALTH_TIMEOUT
from tfgen.rulepack import find_pack


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "opa",
        help="start, stop or inspect the OPA container",
        description="up: start (or reuse) it and wait for /health; down: remove the containers "
        "tfgen started; status: list them, exit 0 if this one runs, 3 if it does not; bundle: "
        "build the rule pack bundle (manifest revision = pack digest) and print its path, for "
        "TFGEN_OPA_BUNDLE.",
    )
    parser.add_argument("action", choices=("up", "down", "status", "bundle"))
    add_rules_argument(parser)
    parser.add_argument(
        "--compose-file",
        type=Path,
        default=env_path("TFGEN_COMPOSE_FILE"),
        help="compose file (env TFGEN_COMPOSE_FILE)",
    )
    parser.add_argument(
        "--opa-token",
        default=env_default("TFGEN_OPA_TOKEN"),
        help="require this bearer token (env TFGEN_OPA_TOKEN)",
    )
    parser.add_argument(
        "--timeout", type=float, default=HEALTH_TIMEOUT, help="seconds to wait for /health"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tfgen.bundle import cached
    from tfgen.engines.container import token_file
    from tfgen.engines.docker_opa import DockerOpa, default_compose_file, load_service
    from tfgen.toolchain import cache_dir

    pack = find_pack(args.rules)
    bundle = cached(pack)
    if args.action == "bundle":
        print(bundle)
        return 0
    env = dict(os.environ)
    if args.opa_token:
        env["TFGEN_OPA_TOKEN"] = args.opa_token
    service = load_service(args.compose_file or default_compose_file(pack), bundle, env)
    opa = DockerOpa(service, pack, cache_dir())
    if args.action == "up":
        started = opa.up(args.timeout)
        opa.release(stop=False)
        verb = "started" if started else "already running:"
        print(f"{verb} {service.name} ({service.image}) at {service.url}")
        token = token_file(cache_dir(), service.url)
        if token.is_file():
            print(f"bearer token (mode 0600, used by --engine opa|docker): {token}")
        return 0
    if args.action == "down":
        removed = opa.down()
        print("\n".join(f"removed {name}" for name in removed) or "no tfgen-started OPA container")
        others = [s.name for s in opa.status() if not s.started_by_tfgen]
        for name in others:
            print(f"left alone {name}: not started by tfgen (use docker-compose down)")
        return 0
    states = opa.status()
    if not states:
        print(f"no OPA container (expected {service.name} at {service.url})")
        return 3
    for s in states:
        owner = "tfgen" if s.started_by_tfgen else "other"
        kept = token_file(cache_dir(), s.url) if s.url else None
        shown = f"\ttoken={kept}" if kept is not None and kept.is_file() else ""
        print(
            f"{s.name}\t{s.status}\thealth={s.health}\t{s.url or '-'}\t{s.image}"
            f"\tstarted-by={owner}{shown}"
        )
    running = any(s.name == service.name and s.status == "running" for s in states)
    return 0 if running else 3
