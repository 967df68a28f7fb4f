"""Measure tfgen's engines against the OPA floor (`opa eval`), conftest, Checkov and Trivy.

Every measurement is its own subprocess: wall time, CPU time, peak RSS (GNU time) and the findings
count parsed from its output. Engines are measured side by side: run i of every engine before
run i+1 of any, with the 1-minute load average recorded at each run, so a busy machine slows
both sides of a ratio alike; each figure is the median of --runs (5). Servers a client talks to
(the warm `opa run --server`, the Docker container) are measured beside it. Results go to stdout
as a table and to ~/.cache/tfgen/bench/results.json; bench/report.py turns that file into the
tables and target verdicts of bench/RESULTS.md. Exit 1 when an engine running this rule pack
reports a different number of findings than `opa eval` on the same plan.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TFGEN_CACHE_DIR", Path.home() / ".cache" / "tfgen"))
BENCH = CACHE / "bench"
PLANS = BENCH / "plans"
VENV_PY = ROOT / ".venv" / "bin" / "python"
CHECKOV = BENCH / "checkov-venv" / "bin" / "checkov"
CONFTEST = Path(os.environ.get("TFGEN_CONFTEST_BIN") or CACHE / "bin" / "conftest")
TRIVY = BENCH / "trivy-venv" / "bin" / "trivy"
RESULTS = BENCH / "results.json"
GNU_TIME = Path("/usr/bin/time")
# Plan sizes in resources; the one-resource plan gives each process's fixed cost.
SIZES = (1, 1_000, 10_000, 50_000)
# make_plans.py's batches: 200 plans for throughput, 1,000 for memory over a long batch.
BATCH = "batch"
MANY = "many"
BATCH_RESOURCES = 100
TIMEOUT = 1_800.0


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, one line per step otherwise."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, label: str) -> None:
        width = 30
        filled = int(width * self.done / self.total)
        elapsed = time.monotonic() - self.start
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{_clock(elapsed)} {label}"
        )
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def advance(self, label: str = "") -> None:
        self.done += 1
        self.step(label)

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    max_rss_kb: int
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_measured(
    cmd: list[str], timeout: float = TIMEOUT, env: dict[str, str] | None = None
) -> Run:
    """Run cmd as a child; its wall time, CPU time and peak RSS, output from temp files.

    The peak RSS comes from GNU time (a small process) between us and cmd: Linux carries the
    parent's high-water mark across fork+exec into the child's ru_maxrss, so rusage read here
    would never report less than this script's own RSS.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as stats,
    ):
        wrapped = [str(GNU_TIME), "-f", "%M %U %S", "-o", stats.name, *cmd]
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        fields = (stats.read().strip().splitlines() or ["0 0 0"])[-1].split()
        try:
            rss_kb, cpu = int(fields[0]), float(fields[1]) + float(fields[2])
        except (ValueError, IndexError):
            rss_kb, cpu = 0, 0.0
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            cpu_seconds=cpu,
            max_rss_kb=rss_kb,
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=fired.is_set(),
        )


def findings_opa_eval(stdout: str) -> int:
    value = json.loads(stdout)["result"][0]["expressions"][0]["value"]
    return len(value["deny"]) + len(value["warn"])


def findings_conftest(stdout: str) -> int:
    return sum(
        len(r.get("failures") or []) + len(r.get("warnings") or []) for r in json.loads(stdout)
    )


def findings_checkov(stdout: str) -> int:
    doc = json.loads(stdout)
    reports = doc if isinstance(doc, list) else [doc]
    return sum(int(r.get("summary", {}).get("failed", 0)) for r in reports)


def findings_trivy(stdout: str) -> int:
    doc = json.loads(stdout)
    return sum(
        int((r.get("MisconfSummary") or {}).get("Failures", 0)) for r in doc.get("Results") or []
    )


def findings_tfgen(stdout: str) -> int:
    """Findings in `tfgen check --format json` output: one report over all plans."""
    doc = json.loads(stdout)
    if doc["summary"]["errors"]:
        raise ValueError(f"tfgen reported errors: {doc['errors'][:2]}")
    return len(doc["findings"])


@dataclass
class Context:
    pack: Path
    opa: Path
    opa_url: str = ""
    docker_image: str = ""
    tfgen_timeout: float = 30.0
    jobs: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Engine:
    name: str
    command: Callable[[Context, list[Path]], list[str]]
    findings: Callable[[str], int]
    ok_codes: tuple[int, ...] = (0, 1)
    # Runs the same rule pack, so its findings count must equal opa eval's.
    same_rules: bool = True
    # Reads many plans in one invocation (measured on the batches).
    batches: bool = False
    binary: Path | None = None


def _tfgen(engine: str, *extra: str) -> Callable[[Context, list[Path]], list[str]]:
    def command(ctx: Context, plans: list[Path]) -> list[str]:
        cmd = [str(VENV_PY), "-m", "tfgen", "check", "--engine", engine, "--format", "json"]
        cmd += ["--rules", str(ctx.pack), "--timeout", str(ctx.tfgen_timeout)]
        if ctx.jobs:
            cmd += ["--jobs", str(ctx.jobs)]
        if engine == "opa":
            cmd += ["--opa-url", ctx.opa_url]
        return cmd + list(extra) + _plan_args(plans)

    return command


def _plan_args(plans: list[Path]) -> list[str]:
    """A batch that is every plan of its directory is given as the directory, as a user would:
    1,000 paths on a command line cost a Python process ~1.2 MB before it runs."""
    folder = plans[0].parent
    if len(plans) > 1 and sorted(folder.rglob("*.json")) == sorted(plans):
        return [str(folder)]
    return [str(p) for p in plans]


ENGINES: dict[str, Engine] = {
    "opa-eval": Engine(
        "opa-eval",
        lambda ctx, plans: [
            str(ctx.opa),
            "eval",
            "--format=json",
            "-d",
            str(ctx.pack),
            "-i",
            str(plans[0]),
            "data.main.report",
        ],
        findings_opa_eval,
        ok_codes=(0,),
    ),
    "tfgen-embedded": Engine("tfgen-embedded", _tfgen("embedded"), findings_tfgen, batches=True),
    "tfgen-opa": Engine("tfgen-opa", _tfgen("opa"), findings_tfgen, batches=True),
    # Cold: each run starts the container and removes it. Warm: --keep-running after a warm-up run.
    "tfgen-docker": Engine("tfgen-docker", _tfgen("docker"), findings_tfgen),
    "tfgen-docker-warm": Engine(
        "tfgen-docker-warm", _tfgen("docker", "--keep-running"), findings_tfgen, batches=True
    ),
    "conftest": Engine(
        "conftest",
        lambda ctx, plans: [
            str(CONFTEST),
            "test",
            "--no-color",
            "-o",
            "json",
            "-p",
            str(ctx.pack),
            *map(str, plans),
        ],
        findings_conftest,
        batches=True,
        binary=CONFTEST,
    ),
    "checkov": Engine(
        "checkov",
        lambda ctx, plans: [
            str(CHECKOV),
            "-f",
            str(plans[0]),
            "--framework",
            "terraform_plan",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        findings_checkov,
        same_rules=False,
        binary=CHECKOV,
    ),
    "trivy": Engine(
        "trivy",
        lambda ctx, plans: [
            str(TRIVY),
            "config",
            "--tf-exclude-downloaded-modules",
            "--skip-check-update",
            "--quiet",
            "--format",
            "json",
            str(plans[0]),
        ],
        findings_trivy,
        ok_codes=(0,),
        same_rules=False,
        binary=TRIVY,
    ),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"OPA at {url} did not become healthy in {timeout:.0f}s")


@contextlib.contextmanager
def opa_server(ctx: Context) -> Iterator[subprocess.Popen[bytes]]:
    """A warm `opa run --server` on loopback serving the pack's bundle, for --engine opa."""
    from tfgen.bundle import cached
    from tfgen.cli import toolchain
    from tfgen.rulepack import find_pack

    bundle = cached(
        find_pack(ctx.pack), toolchain()
    )  # tfgen checks the bundle revision on every decision
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(ctx.opa),
            "run",
            "--server",
            f"--addr=127.0.0.1:{port}",
            "--log-level=error",
            "--bundle",
            str(bundle),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ctx.opa_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(ctx.opa_url)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def docker_memory_peak_kb(name: str) -> int | None:
    """The container's cgroup (v1) memory peak, when this host exposes it."""
    try:
        cid = subprocess.run(
            ["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True, check=True
        ).stdout.strip()
        peak = Path(f"/sys/fs/cgroup/memory/docker/{cid}/memory.max_usage_in_bytes")
        return int(peak.read_text()) // 1024
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None


@dataclass
class Result:
    engine: str
    size: int
    plan_bytes: int
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    median_s: float | None = None
    median_cpu_s: float | None = None
    max_rss_kb: int = 0
    findings: int | None = None
    server_rss_kb: int | None = None
    plans: int = 1
    error: str = ""

    def add(self, engine: Engine, run: Run, load: float) -> None:
        """Record one run, or the error that ends this measurement."""
        if self.error:
            return
        if run.timed_out:
            self.error = f"timed out after {TIMEOUT:.0f}s"
            return
        if run.returncode not in engine.ok_codes:
            lines = run.stderr.strip().splitlines()[-3:] or [run.stdout[:200]]
            self.error = f"exit {run.returncode}: {' | '.join(lines)}"
            return
        try:
            self.findings = engine.findings(run.stdout)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            tail = " | ".join(run.stderr.strip().splitlines()[-3:])
            self.error = f"exit {run.returncode}, unparsable output ({exc}); stderr: {tail}"
            return
        self.runs.append(round(run.seconds, 3))
        self.cpu.append(round(run.cpu_seconds, 3))
        self.loads.append(round(load, 2))
        self.max_rss_kb = max(self.max_rss_kb, run.max_rss_kb)
        self.median_s = round(statistics.median(self.runs), 3)
        self.median_cpu_s = round(statistics.median(self.cpu), 3)


def measure_side_by_side(
    engines: list[Engine],
    ctx: Context,
    plans: list[Path],
    size: int,
    runs: dict[str, int],
    progress: Progress,
) -> list[Result]:
    """Round-robin runs: run i of every engine before run i+1 of any, so load hits all alike."""
    results = {
        e.name: Result(e.name, size, sum(p.stat().st_size for p in plans), plans=len(plans))
        for e in engines
    }
    for i in range(max(runs.values(), default=0)):
        for engine in engines:
            if i >= runs[engine.name] or results[engine.name].error:
                continue
            load = os.getloadavg()[0]
            progress.step(f"{engine.name} {size:,} run {i + 1}/{runs[engine.name]}")
            run = run_measured(engine.command(ctx, plans))
            results[engine.name].add(engine, run, load)
            progress.advance(f"{engine.name} {size:,} {run.seconds:.2f}s")
    return list(results.values())


def machine() -> dict[str, Any]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(ln.split()[1])
        for ln in Path("/proc/meminfo").read_text().splitlines()
        if ln.startswith("MemTotal:")
    )
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def versions(ctx: Context) -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
        except OSError as exc:
            return f"unavailable ({exc.strerror})"
        return text.strip().splitlines()[0] if text.strip() else "unavailable"

    return {
        "tfgen": out([str(VENV_PY), "-c", "import tfgen; print(tfgen.__version__)"]),
        "opa": out([str(ctx.opa), "version"]),
        "conftest": out([str(CONFTEST), "--version"]) if CONFTEST.exists() else "not built",
        "checkov": out([str(CHECKOV), "--version"]) if CHECKOV.exists() else "not installed",
        "trivy": out([str(TRIVY), "--version"]) if TRIVY.exists() else "not installed",
        "docker_image": ctx.docker_image,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median of)")
    parser.add_argument(
        "--peer-max",
        type=int,
        default=1_000,
        help="largest plan for Trivy (Checkov runs up to 1,000 resources, conftest on every size)",
    )
    parser.add_argument("--pack", type=Path, default=ROOT / "rego")
    parser.add_argument("--plans", type=Path, default=PLANS, help="make_plans.py --out")
    parser.add_argument(
        "--no-batch", action="store_true", help="skip the 200-plan throughput batch"
    )
    parser.add_argument("--no-many", action="store_true", help="skip the 1,000-plan memory batch")
    parser.add_argument("--jobs", type=int, default=0, help="tfgen check --jobs (default: its own)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tfgen-timeout", type=float, default=600.0, help="tfgen check --timeout")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from tfgen.cli import toolchain

    if not GNU_TIME.is_file():
        raise SystemExit(f"{GNU_TIME} (GNU time) is needed for peak RSS: apt-get install time")
    # tfgen is measured as pip installs it from a wheel, byte-compiled: the checkout's editable
    # install would otherwise compile every module on every run where bytecode is not written.
    subprocess.run([str(VENV_PY), "-m", "compileall", "-q", str(ROOT / "tfgen")], check=True)

    ctx = Context(
        pack=args.pack.resolve(),
        opa=toolchain().opa(),
        tfgen_timeout=args.tfgen_timeout,
        jobs=args.jobs,
    )
    ctx.docker_image = os.environ.get("TFGEN_OPA_IMAGE", "")
    engines = []
    for name in args.engines:
        engine = ENGINES[name]
        if engine.binary is not None and not engine.binary.exists():
            ctx.notes.append(f"{name}: {engine.binary} missing (bench/install-peers.sh)")
            continue
        engines.append(engine)

    def runs_for(engine: Engine, size: int) -> int:
        if engine.name == "trivy" and size > args.peer_max:
            return 0
        if engine.name == "checkov" and size > 1_000:  # ~15 s per 1k resources
            return 0
        runs: int = args.runs
        return runs

    plan_of = {size: args.plans / f"plan-{size}.json" for size in args.sizes}
    for path in plan_of.values():
        if not path.is_file():
            raise SystemExit(f"{path}: missing; run bench/make_plans.py first")
    batches = {}
    names = ([] if args.no_batch else [BATCH]) + ([] if args.no_many else [MANY])
    for name in names:
        found = sorted((args.plans / name).glob("plan-*.json"))
        if not found:
            raise SystemExit(f"{args.plans / name}: missing; run bench/make_plans.py first")
        batches[name] = found
    batch_engines = [e for e in engines if e.batches]
    total = sum(runs_for(e, s) for e in engines for s in args.sizes)
    if BATCH in batches:
        total += len(batch_engines) * args.runs
    if MANY in batches:
        total += 2 * args.runs
    progress = Progress(total)

    document: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "versions": versions(ctx),
        "runs": args.runs,
        "notes": ctx.notes,
        "results": [],
        "batch": [],
    }
    with opa_server(ctx) as server:
        if any(e.name == "tfgen-docker-warm" for e in engines):
            progress.step("tfgen-docker-warm: warm-up run")
            run_measured(ENGINES["tfgen-docker-warm"].command(ctx, [plan_of[min(args.sizes)]]))
        for size in args.sizes:
            runs = {e.name: runs_for(e, size) for e in engines}
            chosen = [e for e in engines if runs[e.name]]
            for result in measure_side_by_side(chosen, ctx, [plan_of[size]], size, runs, progress):
                if result.engine == "tfgen-opa":
                    result.server_rss_kb = vm_hwm_kb(server.pid)
                document["results"].append(asdict(result))
        if BATCH in batches:
            runs = {e.name: args.runs for e in batch_engines}
            for result in measure_side_by_side(
                batch_engines, ctx, batches[BATCH], BATCH_RESOURCES, runs, progress
            ):
                document["batch"].append(_with_rate(asdict(result)))
        if MANY in batches:
            # Memory: the 1,000-plan batch against one run on its largest plan, side by side.
            many, largest = batches[MANY], max(batches[MANY], key=lambda p: p.stat().st_size)
            embedded = ENGINES["tfgen-embedded"]
            pair = measure_side_by_side(
                [embedded], ctx, many, BATCH_RESOURCES, {embedded.name: args.runs}, progress
            ) + measure_side_by_side(
                [embedded], ctx, [largest], BATCH_RESOURCES, {embedded.name: args.runs}, progress
            )
            document["many"] = {"batch": asdict(pair[0]), "largest": asdict(pair[1])}
        document["opa_server_vmhwm_kb"] = vm_hwm_kb(server.pid)
    if any(e.name == "tfgen-docker-warm" for e in engines):
        subprocess.run(
            [str(VENV_PY), "-m", "tfgen", "opa", "down", "--rules", str(ctx.pack)],
            capture_output=True,
            check=False,
        )
    progress.close()
    document["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    document["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    document["findings_agree"] = findings_agree(document)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2), encoding="utf-8")
    print(table(document))
    print(f"\nresults: {args.out}", file=sys.stderr)
    return 0 if document["findings_agree"] else 1


def _with_rate(entry: dict[str, Any]) -> dict[str, Any]:
    if entry["median_s"]:
        entry["plans_per_s"] = round(entry["plans"] / entry["median_s"], 1)
    return entry


def findings_agree(document: dict[str, Any]) -> bool:
    """Every engine that runs this rule pack found as many findings as `opa eval` on each plan."""
    floor = {r["size"]: r["findings"] for r in document["results"] if r["engine"] == "opa-eval"}
    ok = True
    for r in document["results"]:
        same = ENGINES[r["engine"]].same_rules
        if same and r["findings"] is not None and floor.get(r["size"]) not in (None, r["findings"]):
            ok = False
    counts = {b["findings"] for b in document["batch"] if ENGINES[b["engine"]].same_rules}
    return ok and len(counts - {None}) <= 1


def _container_name() -> str:
    return os.environ.get("TFGEN_OPA_CONTAINER", "tfgen-opa")


def _reset_docker_peak() -> None:
    """Zero the container's cgroup v1 memory peak so the next reading is this measurement's."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        cid = subprocess.run(
            ["docker", "inspect", "-f", "{{.Id}}", _container_name()],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(f"/sys/fs/cgroup/memory/docker/{cid}/memory.max_usage_in_bytes").write_text("0")


def table(document: dict[str, Any]) -> str:
    rows = [
        (
            "engine",
            "plan",
            "plan MB",
            "median s",
            "cpu s",
            "runs",
            "load",
            "peak RSS MB",
            "server MB",
            "findings",
        )
    ]
    entries = [(r, f"{r['size']:,}") for r in document["results"]]
    entries += [(b, f"{b['plans']}x{b['size']}") for b in document["batch"]]
    many = document.get("many") or {}
    entries += [(many[k], f"{k} {many[k]['plans']}x{many[k]['size']}") for k in many]
    for r, plan in entries:
        rows.append(
            (
                r["engine"],
                plan,
                f"{r['plan_bytes'] / 1e6:.1f}",
                f"{r['median_s']:.2f}" if r["median_s"] is not None else r["error"][:40],
                f"{r['median_cpu_s']:.2f}" if r["median_cpu_s"] is not None else "",
                str(len(r["runs"])),
                f"{statistics.mean(r['loads']):.1f}" if r["loads"] else "",
                f"{r['max_rss_kb'] / 1024:.0f}",
                f"{r['server_rss_kb'] / 1024:.0f}" if r.get("server_rss_kb") else "",
                str(r["findings"]) if r["findings"] is not None else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    if shutil.which("docker") is None:
        print("note: docker not on PATH; the docker engine will fail", file=sys.stderr)
    sys.exit(main())
