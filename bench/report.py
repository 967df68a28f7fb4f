"""Turn bench/run.py's results.json into the Markdown tables of bench/RESULTS.md (printed to stdout)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import RESULTS

TFGEN = ("tfgen-embedded", "tfgen-opa", "tfgen-docker", "tfgen-docker-warm")


def _index(doc: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["engine"], r["size"]): r for r in doc["results"]}


def _s(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a"


def results_table(doc: dict[str, Any]) -> str:
    lines = [
        "| engine | resources | plan MB | wall s (median) | CPU s (median) | runs | peak RSS MB | RSS / plan size | server peak MB | findings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["results"]:
        rss = r["max_rss_kb"] / 1024
        ratio = r["max_rss_kb"] * 1024 / r["plan_bytes"] if r["plan_bytes"] else 0
        server = f"{r['server_rss_kb'] / 1024:.0f}" if r.get("server_rss_kb") else ""
        wall = _s(r["median_s"]) if not r["error"] else f"error: {r['error'][:60]}"
        lines.append(
            f"| {r['engine']} | {r['size']:,} | {r['plan_bytes'] / 1e6:.1f} | {wall} | "
            f"{_s(r['median_cpu_s'])} | {len(r['runs'])} | {rss:.0f} | {ratio:.1f}x | {server} | "
            f"{r['findings'] if r['findings'] is not None else ''} |"
        )
    return "\n".join(lines)


def batch_table(doc: dict[str, Any]) -> str:
    lines = [
        "| engine | plans | wall s (median) | CPU s (median) | plans/s | peak RSS MB | findings |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for b in doc["batch"]:
        lines.append(
            f"| {b['engine']} | {b['plans']} x 100 | {_s(b['median_s'])} | {_s(b['median_cpu_s'])} | "
            f"{b.get('plans_per_s', 'n/a')} | {b['max_rss_kb'] / 1024:.0f} | {b['findings']} |"
        )
    return "\n".join(lines)


def targets(doc: dict[str, Any]) -> str:
    idx = _index(doc)
    out = ["| target | engine | measured | met |", "|---|---|---|---|"]

    def row(target: str, engine: str, measured: str, met: bool | None) -> None:
        verdict = "n/a" if met is None else ("yes" if met else "**no**")
        out.append(f"| {target} | {engine} | {measured} | {verdict} |")

    checkov = idx.get(("checkov", 1_000), {})
    for engine in TFGEN:
        r = idx.get((engine, 1_000))
        if not r or not checkov.get("median_s") or not r.get("median_s"):
            continue
        wall = r["median_s"] / checkov["median_s"]
        cpu = r["median_cpu_s"] / checkov["median_cpu_s"]
        row("1k plan <= 1/10 of Checkov", engine, f"wall {wall:.3f}x, CPU {cpu:.3f}x", wall <= 0.1)
    for engine in sorted({e for e, _ in idx}):
        small, large = idx.get((engine, 1_000)), idx.get((engine, 10_000))
        if not small or not large or not small["median_s"] or not large["median_s"]:
            continue
        wall = large["median_s"] / small["median_s"]
        cpu = large["median_cpu_s"] / small["median_cpu_s"]
        row("time(10k)/time(1k) <= 12", engine, f"wall {wall:.1f}, CPU {cpu:.1f}", wall <= 12)
    for engine in ("tfgen-docker", "tfgen-docker-warm"):
        for size in (1_000, 10_000, 50_000):
            r, floor = idx.get((engine, size)), idx.get(("opa-eval", size))
            if not r or not floor or not r["median_s"] or not floor["median_s"]:
                continue
            wall = r["median_s"] / floor["median_s"]
            row(
                f"docker within 1.5x of opa eval ({size:,})",
                engine,
                f"wall {wall:.2f}x ({r['median_s']:.2f} s vs {floor['median_s']:.2f} s)",
                wall <= 1.5,
            )
    for (engine, size), r in sorted(idx.items()):
        if size < 1_000 or not r["plan_bytes"] or r["error"]:
            continue
        ratio = r["max_rss_kb"] * 1024 / r["plan_bytes"]
        row(f"peak RSS < 5x plan ({size:,})", engine, f"{ratio:.1f}x", ratio < 5)
    for b in doc["batch"]:
        rate = b.get("plans_per_s")
        row("batch >= 50 plans/s", b["engine"], f"{rate} plans/s", rate is not None and rate >= 50)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?", default=RESULTS)
    args = parser.parse_args(argv)
    doc = json.loads(args.results.read_text(encoding="utf-8"))
    m = doc["machine"]
    print(
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}; load average {m['loadavg_at_start']} at start, "
        f"{doc.get('loadavg_at_end')} at end; run {doc['started']} to {doc.get('finished')}.\n"
    )
    print("Versions: " + ", ".join(f"{k} `{v}`" for k, v in doc["versions"].items()) + "\n")
    for note in doc.get("notes", []):
        print(f"Note: {note}\n")
    print("### Per plan\n\n" + results_table(doc) + "\n")
    if doc["batch"]:
        print(
            "### Batch: 200 plans of 100 resources in one invocation\n\n" + batch_table(doc) + "\n"
        )
    print("### Targets\n\n" + targets(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
