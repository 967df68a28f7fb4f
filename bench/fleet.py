"""Measure the compose fleet's throughput (plans/s) with 1, 2 and 3 OPA replicas.

The fleet (`tfgen opa up --fleet`) serves the rule pack as a signed bundle (an ES256 key made for
the run); each measurement is one `tfgen check --engine opa` process over the whole batch
(make_plans.py's 200 plans of 100 resources), through the nginx balancer and, beside it, with the
replicas' URLs given to tfgen (client-side round robin). The embedded engine on the same batch is
the reference. Runs are side by side (run i of every setup before run i+1 of any); each figure is
the median of --runs. Results go to stdout and ~/.cache/tfgen/bench/fleet.json. Exit 1 when a
setup reports other findings than the embedded engine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TFGEN_CACHE_DIR", Path.home() / ".cache" / "tfgen"))
BATCH = CACHE / "bench" / "plans" / "batch"
RESULTS = CACHE / "bench" / "fleet.json"
VENV_PY = ROOT / ".venv" / "bin" / "python"
NAME = "tfgen-bench-fleet"


def tfgen(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    python = str(VENV_PY) if VENV_PY.exists() else sys.executable
    proc = subprocess.run(
        [python, "-m", "tfgen", *args], capture_output=True, text=True, env=env, check=False
    )
    if check and proc.returncode not in (0, 1):
        raise SystemExit(f"tfgen {' '.join(args[:2])} failed: {proc.stderr.strip()[-500:]}")
    return proc


def measured(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds of one `tfgen check` over the batch, and the findings it reported."""
    start = time.monotonic()
    proc = tfgen("check", *args, "--format", "json", env=env)
    wall = time.monotonic() - start
    report = json.loads(proc.stdout)
    if report["errors"]:
        raise SystemExit(f"tfgen check reported errors: {report['errors'][:2]}")
    return wall, len(report["findings"])


def replica_urls(env: dict[str, str]) -> str:
    status = tfgen("opa", "status", "--fleet", env=env).stdout
    return ",".join(line.split("\t")[3] for line in status.splitlines() if "-opa-fleet-" in line)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--runs", type=int, default=5, help="runs per setup (median of)")
    parser.add_argument("--jobs", type=int, default=6, help="tfgen check --jobs (default 6)")
    parser.add_argument("--plans", type=Path, default=BATCH, help="a directory of plan JSON")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N plans")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    plans = sorted(str(p) for p in args.plans.glob("*.json"))
    if args.limit:
        plans = plans[: args.limit]
    if not plans:
        print(f"no plans in {args.plans}: run bench/make_plans.py first", file=sys.stderr)
        return 2
    env = {
        **os.environ,
        "TFGEN_FLEET_NAME": NAME,
        "TFGEN_FLEET_PORT": str(free_port()),
        "TFGEN_RULES_DIR": str(ROOT / "rego"),
    }
    env.pop("TFGEN_OPA_TOKEN", None)
    work = Path(tempfile.mkdtemp(prefix="tfgen-bench-fleet-"))
    rows: dict[str, list[float]] = {}
    findings: dict[str, int] = {}
    try:
        key, public, bundle = work / "ec.pem", work / "ec.pub", work / "tfgen-bundle.tar.gz"
        for cmd in (
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)],
            ["ec", "-in", str(key), "-pubout", "-out", str(public)],
        ):
            subprocess.run(["openssl", *cmd], check=True, capture_output=True)
        signing = ["--signing-key", str(key), "--signing-alg", "ES256"]
        tfgen("bundle", "build", "--output", str(bundle), *signing, env=env)
        published = ["--bundle", str(bundle), "--verification-key", str(public)]
        published += ["--signing-alg", "ES256"]
        common = ["--jobs", str(args.jobs), *plans]
        for run in range(args.runs):
            setups: list[tuple[str, list[str]]] = [("embedded", common)]
            for count in args.replicas:
                tfgen("opa", "up", "--fleet", "--replicas", str(count), *published, env=env)
                lb = f"http://127.0.0.1:{env['TFGEN_FLEET_PORT']}"
                setups.append((f"{count} via balancer", ["--engine", "opa", "--opa-url", lb]))
                setups.append(
                    (f"{count} client-side", ["--engine", "opa", "--opa-url", replica_urls(env)])
                )
                for label, extra in setups[-2:]:
                    if run == 0:
                        measured([*extra, *common], env)  # warm-up: connections, caches
                    wall, count_found = measured([*extra, *common], env)
                    rows.setdefault(label, []).append(wall)
                    findings[label] = count_found
            wall, count_found = measured(setups[0][1], env)
            rows.setdefault("embedded", []).append(wall)
            findings["embedded"] = count_found
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    finally:
        tfgen("opa", "down", env=env, check=False)
        shutil.rmtree(work, ignore_errors=True)
    document = {
        "plans": len(plans),
        "jobs": args.jobs,
        "runs": args.runs,
        "cores": len(os.sched_getaffinity(0)),
        "load_1m": os.getloadavg()[0],
        "setups": {
            label: {
                "median_s": statistics.median(walls),
                "plans_per_s": len(plans) / statistics.median(walls),
                "findings": findings[label],
            }
            for label, walls in rows.items()
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(table(document))
    agree = len({s["findings"] for s in document["setups"].values()}) == 1
    if not agree:
        print("findings differ between setups", file=sys.stderr)
    return 0 if agree else 1


def table(document: dict[str, Any]) -> str:
    lines = [
        f"{document['plans']} plans, --jobs {document['jobs']}, {document['cores']} cores, "
        f"median of {document['runs']}",
        "| setup | seconds | plans/s | findings |",
        "|---|---:|---:|---:|",
    ]
    for label, entry in document["setups"].items():
        lines.append(
            f"| {label} | {entry['median_s']:.2f} | {entry['plans_per_s']:.1f} | "
            f"{entry['findings']:,} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
