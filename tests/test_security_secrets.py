"""Secrets never leave tfgen in any spelling: every output format, the saved plan, stderr, the
engine's input (an OPA server's decision log) and the OPA URL's userinfo, on a real plan whose
sensitive values reach statement Sids through nonsensitive() and a tags map as a key."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REGO, free_port, served, wait_healthy

from tfgen.cli import main
from tfgen.report import FORMATS

ROOT_MODULE = FIXTURES / "security" / "secrets"
# Every run of ASCII letters and digits in a secret is a marker no escaping changes: HTML/XML
# entities, percent-encoding, Markdown and JSON backslashes all leave letters and digits alone.
SECRETS = {
    "sid_specials": "Qz7Kx_Unds*Pcnt%25\"Dqte'Ltgt<Gtlt>Ampr&Atsg@Bksl\\Wv9Yz",
    "sid_unicode": "Ünïcødé·Mj4Rk Çàñöñß",  # Latin-1: KMS accepts it in a policy
    "tag_key": "Tk8Hy_kéy@Zx3Nv",
}
MARKERS = sorted(
    {m for value in SECRETS.values() for m in re.findall(r"[A-Za-z0-9]+", value) if len(m) >= 4}
    | {"Ünïcødé", "Çàñöñß"}
)
VARIABLES = tuple(f"{name}={value}" for name, value in SECRETS.items())


def leaked(text: str) -> list[str]:
    """The secret markers found in `text`."""
    return [m for m in MARKERS if m in text]


@pytest.fixture(scope="module")
def raw_plan(plan_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real, unredacted `terraform show -json` of the fixture root."""
    plan = plan_module(ROOT_MODULE, variables=VARIABLES)
    text = json.dumps(plan)
    assert all(secret in json.loads(text)["variables"][n]["value"] for n, secret in SECRETS.items())
    path = tmp_path_factory.mktemp("secrets") / "plan.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.terraform
@pytest.mark.opa
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_secret_in_any_escaping(
    fmt: str, raw_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    out = tmp_path / f"report.{fmt}"
    assert main(["check", str(raw_plan), "--format", fmt]) == 1
    stdout, stderr = capsys.readouterr()
    assert main(["check", str(raw_plan), "--format", fmt, "--output", str(out)]) == 1
    assert "KMS-011" in stdout  # the findings whose messages carried the Sids are there
    assert leaked(stdout) == []
    assert leaked(stderr + capsys.readouterr().err) == []
    assert leaked(out.read_text(encoding="utf-8")) == []


@pytest.mark.terraform
@pytest.mark.opa
def test_saved_plan_and_stderr_hold_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    saved = tmp_path / "saved.json"
    args = ["plan", "--offline", str(ROOT_MODULE), "--save-plan", str(saved), "--format", "junit"]
    assert main([*args, *(a for v in VARIABLES for a in ("--var", v))]) == 1
    stdout, stderr = capsys.readouterr()
    text = saved.read_text(encoding="utf-8")
    assert leaked(stdout + stderr) == []
    assert leaked(text) == []
    after = json.loads(text)["resource_changes"][0]["change"]["after"]
    assert after["tags_all"] == {"(sensitive value)": "v"}  # the key Terraform left unmarked
    assert "(sensitive value)" in after["policy"]  # still a JSON policy, the Sids replaced
    json.loads(after["policy"])
    # The saved plan gates exactly like the run that wrote it.
    assert main(["check", str(saved), "--format", "json"]) == 1


@pytest.fixture
def logging_opa(opa_bin: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real OPA server with the rule pack bundle and decision logs (with the input) on its console."""
    port, log = free_port(), tmp_path / "decisions.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                str(opa_bin),
                "run",
                "--server",
                f"--addr=127.0.0.1:{port}",
                "--set=decision_logs.console=true",
                *served(REGO, opa_bin, tmp_path),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.terraform
@pytest.mark.opa
def test_a_sensitive_map_key_never_reaches_the_engine(
    raw_plan: Path,
    logging_opa: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
    isolated: None,
) -> None:
    url, log = logging_opa
    assert main(["check", str(raw_plan), "--engine", "opa", "--opa-url", url]) == 1
    capsys.readouterr()
    decisions = [json.loads(line) for line in log.read_text().splitlines() if '"input"' in line]
    assert decisions, "the server logged no decision"
    tags_all = [
        rc["change"]["after"]["tags_all"]
        for d in decisions
        for rc in d["input"].get("resource_changes", [])
    ]
    assert tags_all == [{"(sensitive value)": "v"}]
    key_markers = [m for m in re.findall(r"[A-Za-z0-9]+", SECRETS["tag_key"]) if len(m) >= 4]
    assert [m for m in key_markers if m in log.read_text()] == []


@pytest.mark.opa
def test_userinfo_in_the_opa_url_is_never_printed(
    raw_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated: None
) -> None:
    url = f"http://ops:Pw7Qs{free_port()}x@127.0.0.1:{free_port()}"
    out = tmp_path / "report.json"
    code = main(["check", str(raw_plan), "--engine", "opa", "--opa-url", url, "--output", str(out)])
    assert code == 2
    _, stderr = capsys.readouterr()
    assert "unreachable" in stderr
    for text in (stderr, out.read_text(encoding="utf-8")):
        assert "Pw7Qs" not in text and "ops:" not in text
    bad = "http://ops:Pw7Qs@127.0.0.1:1/v1/data"  # refused for its path: the reason names no secret
    assert main(["check", str(raw_plan), "--engine", "opa", "--opa-url", bad]) == 2
    assert "Pw7Qs" not in "".join(capsys.readouterr())
