"""`tfgen opa up|down|status`: manage the OPA container of docker-compose.yml."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tfgen.bundle_sign import ALGORITHMS
from tfgen.cli import Subparsers, env_default, env_path
from tfgen.cli.options import add_rules_argument
from tfgen.engines.base import FLEET_NAME as DEFAULT_NAME
from tfgen.engines.base import FLEET_REPLICAS as DEFAULT_REPLICAS
from tfgen.engines.base import HEALTH_TIMEOUT
from tfgen.errors import InputError
from tfgen.rulepack import RulePack, find_pack


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "opa",
        help="start, stop or inspect the OPA container",
        description="up: start (or reuse) it and wait for /health; down: remove the containers "
        "tfgen started; status: list them, exit 0 if this one runs, 3 if it does not; bundle: "
        "build the rule pack bundle (manifest revision = pack digest) and print its path, for "
        "TFGEN_OPA_BUNDLE. With --fleet, up/status act on the fleet of OPA replicas instead; "
        "down removes both.",
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
    fleet = parser.add_argument_group(
        "fleet",
        "the fleet profile of the compose file: OPA replicas pulling a signed bundle from an "
        "nginx bundle server, behind an nginx load balancer on 127.0.0.1 (TFGEN_FLEET_PORT, "
        "default 8282); down removes it too",
    )
    fleet.add_argument("--fleet", action="store_true", help="up/status: the fleet")
    fleet.add_argument(
        "--replicas",
        type=int,
        default=DEFAULT_REPLICAS,
        metavar="N",
        help=f"up --fleet: OPA replicas (default {DEFAULT_REPLICAS})",
    )
    fleet.add_argument(
        "--bundle",
        type=Path,
        metavar="FILE",
        help="up --fleet: publish this signed bundle (from `tfgen bundle build --signing-key`); "
        "a running fleet's replicas pick it up at their next poll",
    )
    fleet.add_argument(
        "--verification-key",
        type=Path,
        metavar="KEY",
        help="up --fleet --bundle: the public key (or HS256 secret file) the replicas verify with",
    )
    fleet.add_argument("--signing-alg", choices=ALGORITHMS, default="RS256", help="default: RS256")
    fleet.add_argument(
        "--fleet-name",
        default=env_default("TFGEN_FLEET_NAME") or DEFAULT_NAME,
        help=f"container and network name prefix (env TFGEN_FLEET_NAME, default {DEFAULT_NAME})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tfgen.bundle import cached
    from tfgen.engines.container import token_file
    from tfgen.engines.docker_opa import DockerOpa, default_compose_file, load_service

    pack = find_pack(args.rules)
    bundle = cached(pack, args.toolchain)
    if args.action == "bundle":
        print(bundle)
        return 0
    env = dict(os.environ)
    if args.opa_token:
        env["TFGEN_OPA_TOKEN"] = args.opa_token
    compose_file = args.compose_file or default_compose_file(pack)
    if args.fleet or args.action == "down":
        code = _fleet(args, pack, compose_file, env)
        if args.fleet:
            return code
    service = load_service(compose_file, bundle, env)
    opa = DockerOpa(service, pack, args.toolchain.cache_dir)
    if args.action == "up":
        started = opa.up(args.timeout)
        opa.release(stop=False)
        verb = "started" if started else "already running:"
        print(f"{verb} {service.name} ({service.image}) at {service.url}")
        token = token_file(args.toolchain.cache_dir, service.url)
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
    for s in states:
        owner = "tfgen" if s.started_by_tfgen else "other"
        kept = token_file(args.toolchain.cache_dir, s.url) if s.url else None
        shown = f"\ttoken={kept}" if kept is not None and kept.is_file() else ""
        print(
            f"{s.name}\t{s.status}\thealth={s.health}\t{s.url or '-'}\t{s.image}"
            f"\tstarted-by={owner}{shown}"
        )
    _fleet_hint(args, compose_file, env)
    running = any(s.name == service.name and s.status == "running" for s in states)
    return 0 if running else 3


def _fleet_hint(args: argparse.Namespace, compose_file: Path, env: dict[str, str]) -> None:
    """Point at the fleet when one runs under this name."""
    from tfgen.engines.fleet import Fleet, fleet_state

    state = fleet_state(args.toolchain.cache_dir, args.fleet_name)
    if Fleet(compose_file, env, state, name=args.fleet_name).replica_urls():
        print(f"fleet {args.fleet_name} runs: see tfgen opa status --fleet")


def _fleet(
    args: argparse.Namespace, pack: RulePack, compose_file: Path, env: dict[str, str]
) -> int:
    from tfgen.engines.fleet import Fleet, fleet_state

    state = fleet_state(args.toolchain.cache_dir, args.fleet_name)
    fleet = Fleet(compose_file, env, state, name=args.fleet_name, token=args.opa_token)
    if args.action == "down":
        removed = fleet.down()
        print("\n".join(f"removed {name}" for name in removed) or f"no fleet {args.fleet_name}")
        return 0
    if args.action == "up":
        if args.bundle is not None:
            if args.verification_key is None:
                raise InputError(
                    "--bundle", "give the key the replicas verify it with (--verification-key)"
                )
            verified = fleet.publish(
                args.bundle, args.verification_key, args.signing_alg, args.toolchain
            )
            print(f"published {args.bundle}: revision {verified.revision}")
        elif not fleet.published:
            raise InputError(
                "--fleet",
                "no bundle published yet: give --bundle (from `tfgen bundle build --signing-key`) "
                "and --verification-key",
            )
        url = fleet.up(args.replicas, args.timeout)
        print(f"fleet {args.fleet_name}: {args.replicas} OPA replicas behind {url}")
        print(f"bearer token (mode 0600, used by --engine opa): {state / 'token'}")
        return 0
    states = fleet.status()
    if not states:
        print(f"no fleet {args.fleet_name}")
        return 3
    for s in states:
        ready = "ready" if s.ready else "not-ready"
        pack_note = (
            "local-pack" if s.revision == pack.digest else "other-pack" if s.revision else "-"
        )
        problem = f"\tbundle-error={s.problem}" if s.problem else ""
        print(
            f"{s.name}\t{s.status}\t{ready}\t{s.url or '-'}\trevision={s.revision or '-'}"
            f"\t{pack_note}{problem}"
        )
    print(f"balancer\t{fleet.balancer_url() or '-'}")
    if any(s.problem for s in states):
        return 2
    return 0 if all(s.ready and s.status == "running" for s in states) else 3
