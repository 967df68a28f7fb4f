"""Turn bench/run.py's results.json into the Markdown tables of bench/RESULTS.md (printed to stdout)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import RESULTS

FLOOR = "opa-eval"
EMBEDDED = "tfgen-embedded"


def _index(doc: dict[str, Any], run: int | None = None) -> dict[tuple[str, int], dict[str, Any]]:
    """Results by (engine, size): of one run when given, else the first run that measured it."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for r in doc["results"]:
        if run is None or r.get("run", 0) == run:
            out.setdefault((r["engine"], r["size"]), r)
    return out


def _runs_with(
    doc: dict[str, Any], *keys: tuple[str, int]
) -> dict[tuple[str, int], dict[str, Any]]:
    """The results of the first run that measured every key (ratios are never taken across runs)."""
    for run in sorted({r.get("run", 0) for r in doc["results"]}):
        idx = _index(doc, run)
        if all(idx.get(k) and idx[k]["median_s"] for k in keys):
            return idx
    return {}


def _s(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a"


def _load(entry: dict[str, Any]) -> str:
    return f"{statistics.mean(entry['loads']):.1f}" if entry.get("loads") else ""


def results_table(doc: dict[str, Any]) -> str:
    lines = [
        "| run | engine | resources | plan MB | wall s (median) | CPU s (median) | runs "
        "| load (mean) | peak RSS MB | server peak MB | findings |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["results"]:
        server = f"{r['server_rss_kb'] / 1024:.0f}" if r.get("server_rss_kb") else ""
        wall = _s(r["median_s"]) if not r["error"] else f"error: {r['error'][:60]}"
        lines.append(
            f"| {r.get('run', 0) + 1} | {r['engine']} | {r['size']:,} | "
            f"{r['plan_bytes'] / 1e6:.2f} | {wall} | "
            f"{_s(r['median_cpu_s'])} | {len(r['runs'])} | {_load(r)} | "
            f"{r['max_rss_kb'] / 1024:.0f} | {server} | "
            f"{r['findings'] if r['findings'] is not None else ''} |"
        )
    return "\n".join(lines)


def batch_table(doc: dict[str, Any]) -> str:
    lines = [
        "| engine | plans | wall s (median) | CPU s (median) | runs | load (mean) | plans/s "
        "| peak RSS MB | findings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    entries = [(b, f"{b['plans']} x {b['size']}") for b in doc["batch"]]
    many = doc.get("many") or {}
    entries += [(many[k], f"{k}: {many[k]['plans']} x {many[k]['size']}") for k in many]
    for b, plans in entries:
        wall = _s(b["median_s"]) if not b["error"] else f"error: {b['error'][:60]}"
        lines.append(
            f"| {b['engine']} | {plans} | {wall} | {_s(b['median_cpu_s'])} | {len(b['runs'])} | "
            f"{_load(b)} | {b.get('plans_per_s', '')} | {b['max_rss_kb'] / 1024:.0f} | "
            f"{b['findings']} |"
        )
    return "\n".join(lines)


def targets(doc: dict[str, Any]) -> str:
    """One row per target of the performance issue, each a ratio of two side-by-side medians."""
    out = ["| target | measured | load (mean) | met |", "|---|---|---:|---|"]

    def row(target: str, measured: str, load: str, met: bool | None) -> None:
        verdict = "n/a" if met is None else ("yes" if met else "**no**")
        out.append(f"| {target} | {measured} | {load} | {verdict} |")

    def pair(engine: str, size: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        idx = _runs_with(doc, (engine, size), (FLOOR, size))
        return (idx[(engine, size)], idx[(FLOOR, size)]) if idx else None

    for size, limit in ((1, 4.0), (1_000, 1.0), (10_000, 0.7), (50_000, 0.7)):
        found = pair(EMBEDDED, size)
        if found:
            mine, floor = found
            ratio = mine["median_s"] / floor["median_s"]
            cpu = mine["median_cpu_s"] / floor["median_cpu_s"] if floor["median_cpu_s"] else 0
            row(
                f"wall time, {size:,}-resource plan: embedded <= {limit}x `opa eval`",
                f"{ratio:.2f}x ({mine['median_s']:.2f} s vs {floor['median_s']:.2f} s); "
                f"CPU {cpu:.2f}x",
                _load(mine),
                ratio <= limit,
            )
    idx = _runs_with(doc, (EMBEDDED, 10_000), (EMBEDDED, 50_000))
    small, large = idx.get((EMBEDDED, 10_000)), idx.get((EMBEDDED, 50_000))
    if small and large and small["median_s"] and large["median_s"]:
        growth = large["median_s"] / small["median_s"]
        cpu_growth = large["median_cpu_s"] / small["median_cpu_s"] if small["median_cpu_s"] else 0
        floor_growth = ""
        f10, f50 = idx.get((FLOOR, 10_000)), idx.get((FLOOR, 50_000))
        if f10 and f50 and f10["median_s"] and f50["median_s"]:
            floor_growth = f" (`opa eval`: {f50['median_s'] / f10['median_s']:.2f})"
        row(
            "time(50k)/time(10k) <= 5.5, embedded",
            f"{growth:.2f}{floor_growth}; CPU {cpu_growth:.2f}",
            _load(large),
            growth <= 5.5,
        )
    for size in (10_000, 50_000):
        found = pair(EMBEDDED, size)
        if found:
            mine, floor = found
            row(
                f"peak RSS, {size:,}: embedded <= `opa eval`",
                f"{mine['max_rss_kb'] / 1024:.0f} MB vs {floor['max_rss_kb'] / 1024:.0f} MB "
                f"({mine['max_rss_kb'] / floor['max_rss_kb']:.2f}x)",
                _load(mine),
                mine["max_rss_kb"] <= floor["max_rss_kb"],
            )
    many = doc.get("many")
    if many and many["batch"]["max_rss_kb"] and many["largest"]["max_rss_kb"]:
        batch, largest = many["batch"], many["largest"]
        row(
            f"batch of {batch['plans']:,} plans peaks no higher than its largest plan alone",
            f"{batch['max_rss_kb'] / 1024:.0f} MB vs {largest['max_rss_kb'] / 1024:.0f} MB",
            _load(batch),
            batch["max_rss_kb"] <= largest["max_rss_kb"],
        )
    for b in doc["batch"]:
        minimum = {EMBEDDED: 100.0, "tfgen-opa": 50.0, "tfgen-docker-warm": 50.0}.get(b["engine"])
        if minimum is None:
            continue
        rate = b.get("plans_per_s")
        per_cpu = b["plans"] / b["median_cpu_s"] if b["median_cpu_s"] else 0
        row(
            f"batch {b['plans']} x {b['size']}: {b['engine']} >= {minimum:.0f} plans/s",
            f"{rate} plans/s ({per_cpu:.0f} plans per CPU-second of tfgen)",
            _load(b),
            rate is not None and rate >= minimum,
        )
    return "\n".join(out)


def peers(doc: dict[str, Any]) -> str:
    """The embedded engine's wall time as a fraction of each other tool's, per plan size."""
    idx = _index(doc, 0)
    engines = sorted({e for e, _ in idx if e != EMBEDDED})
    sizes = sorted({s for _, s in idx})
    lines = [
        "| embedded / | " + " | ".join(f"{s:,}" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for engine in engines:
        cells = []
        for size in sizes:
            mine, theirs = idx.get((EMBEDDED, size)), idx.get((engine, size))
            if mine and theirs and mine["median_s"] and theirs["median_s"]:
                cells.append(f"{mine['median_s'] / theirs['median_s']:.2f}x")
            else:
                cells.append("")
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _merged(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs as one: the first run's machine and versions, every run's measurements."""
    doc = dict(docs[0])
    for run, d in enumerate(docs):
        for r in d["results"]:
            r["run"] = run
    for key in ("results", "batch", "notes"):
        doc[key] = [item for d in docs for item in d.get(key, [])]
    doc["many"] = next((d["many"] for d in docs if d.get("many")), None)
    doc["finished"] = docs[-1].get("finished")
    doc["loadavg_at_end"] = docs[-1].get("loadavg_at_end")
    doc["findings_agree"] = all(d.get("findings_agree") for d in docs)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "results", type=Path, nargs="*", default=[RESULTS], help="results of one or more runs"
    )
    args = parser.parse_args(argv)
    doc = _merged([json.loads(p.read_text(encoding="utf-8")) for p in args.results])
    m = doc["machine"]
    print(
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}; load average {m['loadavg_at_start']} at start, "
        f"{doc.get('loadavg_at_end')} at end; run {doc['started']} to {doc.get('finished')}; "
        f"median of {doc.get('runs')} side-by-side runs.\n"
    )
    print("Versions: " + ", ".join(f"{k} `{v}`" for k, v in doc["versions"].items()) + "\n")
    for note in doc.get("notes", []):
        print(f"Note: {note}\n")
    agree = doc.get("findings_agree")
    print(f"Findings of every OPA-based engine equal `opa eval`'s on every plan: {agree}.\n")
    print("### Targets\n\n" + targets(doc) + "\n")
    print("### Per plan\n\n" + results_table(doc) + "\n")
    if doc["batch"] or doc.get("many"):
        print("### Batches (one invocation)\n\n" + batch_table(doc) + "\n")
    print("### Embedded wall time relative to each tool\n\n" + peers(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
