"""A check imports only what it runs: the fixed cost of `tfgen check` on a small plan."""

from __future__ import annotations

import subprocess
import sys

from helpers import FIXTURES, ROOT

PLAN = FIXTURES / "bad" / "control_valid_plan.json"

# What a check on the embedded engine, with no sources and no config, never needs.
NOT_NEEDED = (
    "hcl2",
    "lark",
    "docker",
    "requests",
    "tfgen.module",
    "tfgen.terraform",
    "tfgen.bundle_sign",
    "tfgen.hcp",
    "tfgen.report.catalog",
    "tfgen.report.sarif",
    "tfgen.engines.opa",
    "tfgen.engines.container",
    "tfgen.cli.generate",
    "tfgen.cli.plan",
    "tfgen.cli.bundle",
    "tfgen.cli.opa",
    "tfgen.cli.rules",
)


def imported(*args: str) -> set[str]:
    """The modules `python -m tfgen ARGS` imports, from `-X importtime`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tfgen", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    lines = [
        line.split("|") for line in proc.stderr.splitlines() if line.startswith("import time:")
    ]
    return {parts[2].strip() for parts in lines if len(parts) == 3}


def test_a_check_imports_only_what_it_runs() -> None:
    modules = imported("check", "--format", "json", str(PLAN))
    assert "tfgen.engines.embedded" in modules  # the measurement sees the run's own imports
    unneeded = {m for m in modules if m.split(".")[0] in ("hcl2", "lark", "docker", "requests")}
    unneeded |= set(NOT_NEEDED) & modules
    assert not unneeded, sorted(unneeded)


def test_other_commands_still_import_what_they_need() -> None:
    assert "tfgen.report.catalog" in imported("rules", "--format", "json")


def test_a_check_on_an_opa_server_imports_no_async_client(opa_server: str) -> None:
    """opa-python-client brings aiohttp (~0.1 s): evaluating plans on a server never needs it."""
    modules = imported(
        "check", "--format", "json", "--engine", "opa", "--opa-url", opa_server, str(PLAN)
    )
    assert "tfgen.engines.opa" in modules
    assert not {m for m in modules if m.split(".")[0] in ("aiohttp", "opa_client")}
