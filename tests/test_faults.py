"""Engine faults through `tfgen check`: each one exits 2 with one clear line, never 0 or 1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import FIXTURES, REGO, ServeFn, free_port

from tfgen.cli import main

pytestmark = [pytest.mark.opa, pytest.mark.usefixtures("isolated")]

PACK = FIXTURES / "engines" / "pack"
CONFLICT = FIXTURES / "engines" / "conflict"
PLAN = {
    "format_version": "1.2",
    "terraform_version": "1.15.5",
    "planned_values": {"root_module": {}},
    "configuration": {"root_module": {}},
    "resource_changes": [
        {
            "address": "aws_kms_key.k",
            "mode": "managed",
            "type": "aws_kms_key",
            "name": "k",
            "change": {"actions": ["create"], "before": None, "after": {}},
        }
    ],
}


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN), encoding="utf-8")
    return path


def check(
    capsys: pytest.CaptureFixture[str], *args: str, rules: Path = PACK
) -> tuple[int, dict[str, object], list[str]]:
    code = main(["check", "--rules", str(rules), "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), [line for line in err.splitlines() if line]


def test_wrong_url_is_unreachable(plan_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    code, report, err = check(capsys, str(plan_file), "--engine", "opa", "--opa-url", url)
    assert code == 2
    assert err == [f"tfgen: error: OPA at {url} is unreachable (connection refused or reset)"]
    assert report["errors"] == [err[0].removeprefix("tfgen: error: ")]
    assert report["findings"] == []
    assert time.monotonic() - started < 20  # bounded retries


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A real loopback socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_hanging_server_times_out(
    plan_file: Path, hanging_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code, _, err = check(
        capsys, str(plan_file), "--engine", "opa", "--opa-url", hanging_server, "--timeout", "2"
    )
    elapsed = time.monotonic() - started
    assert code == 2
    assert err == [f"tfgen: error: OPA at {hanging_server} did not answer within 2s"]
    assert elapsed < 10, "a read timeout is not retried"


def test_server_without_the_rule_pack_is_an_undefined_decision(
    plan_file: Path, opa_serve: ServeFn, capsys: pytest.CaptureFixture[str]
) -> None:
    url = opa_serve()
    code, report, err = check(capsys, str(plan_file), "--engine", "opa", "--opa-url", url)
    assert code == 2
    assert len(err) == 1
    assert "decision main/report is undefined" in err[0]
    assert "rule pack is not loaded" in err[0]
    assert report["findings"] == []


def test_http_500_from_real_opa(
    plan_file: Path, opa_serve: ServeFn, capsys: pytest.CaptureFixture[str]
) -> None:
    url = opa_serve(CONFLICT)
    code, _, err = check(
        capsys, str(plan_file), "--engine", "opa", "--opa-url", url, rules=CONFLICT
    )
    assert code == 2
    assert len(err) == 1
    assert f"OPA at {url} answered HTTP 500: eval_conflict_error: rule data.main.report" in err[0]


def test_503_is_retried_a_bounded_number_of_times(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hits: list[str] = []

    class Unavailable(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            hits.append(self.command)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, _, err = check(capsys, str(plan_file), "--engine", "opa", "--opa-url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 2
    assert err == [f"tfgen: error: OPA at {url} answered HTTP 503"]
    assert hits == ["PUT"] * 4  # one try and three retries, then no fallback


def test_no_fallback_when_opa_url_is_missing(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check(capsys, str(plan_file), "--engine", "opa")
    assert code == 2
    assert err == ["tfgen: error: --opa-url: the opa engine needs --opa-url or TFGEN_OPA_URL"]


def test_bad_opa_url_is_an_input_error(plan_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, str(plan_file), "--engine", "opa", "--opa-url", "localhost:8181")
    assert code == 2
    assert err == [
        "tfgen: error: localhost:8181: OPA URL must be http://host:port or https://host:port"
    ]


def test_docker_engine_without_docker_is_exit_2(
    plan_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    compose_file = Path(__file__).resolve().parent.parent / "docker-compose.yml"
    code, report, err = check(
        capsys,
        str(plan_file),
        "--engine",
        "docker",
        "--compose-file",
        str(compose_file),
        rules=REGO,
    )
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("tfgen: error: Docker engine unreachable (")
    assert report["findings"] == []


def test_a_server_that_is_not_opa_is_exit_2(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Html(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, _, err = check(capsys, str(plan_file), "--engine", "opa", "--opa-url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 2
    assert err == [f"tfgen: error: {plan_file}: OPA at {url} answered something that is not JSON"]


FIRST_REQUEST: list[float] = []


@pytest.fixture
def hangs_on_evaluation() -> Iterator[str]:
    """A loopback HTTP server that accepts the configuration, then never answers a query."""
    import http.server

    release = threading.Event()
    FIRST_REQUEST.clear()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            FIRST_REQUEST.append(time.monotonic())
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def do_POST(self) -> None:
            release.wait(30)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def test_a_server_hung_mid_evaluation_costs_one_timeout(
    plan_file: Path, hangs_on_evaluation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code, report, err = check(
        capsys,
        str(plan_file),
        "--engine",
        "opa",
        "--opa-url",
        hangs_on_evaluation,
        "--timeout",
        "2",
    )
    elapsed = time.monotonic() - started
    assert code == 2
    assert err[0].endswith(f"OPA at {hangs_on_evaluation} did not answer within 2s")
    tool = report["tool"]
    assert isinstance(tool, dict)
    assert tool["opa"] == "unknown"  # no version request after the failure
    assert elapsed < 2 + 1.5, f"{elapsed:.1f}s: a second request waited on the hung server"
