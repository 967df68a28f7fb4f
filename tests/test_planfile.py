"""Plan input: encodings, stdin, and the bad-input corpus through load_plan and the CLI."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, PlanFn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.errors import InputError
from tfgen.planfile import DEFAULT_MAX_BYTES, load_plan, plan_files
from tfgen.planshape import validate_plan

BAD = FIXTURES / "bad"
CONTROL = BAD / "control_valid_plan.json"

# Every committed corpus file and a word its one-line error must contain.
CORPUS = {
    "empty.json": "empty input",
    "whitespace.json": "empty input",
    "truncated.json": "truncated JSON",
    "config.tf": "HCL",
    "state.json": "Terraform state, not a plan",
    "array.json": "JSON array",
    "string.json": "is a string",
    "not_a_plan.json": "planned_values and resource_changes missing",
    "resource_changes_string.json": "resource_changes must be an array, got a string",
    "resource_change_not_object.json": "resource_changes[1] must be an object",
    "change_missing.json": "resource_changes[0].change is missing",
    "actions_string.json": "change.actions must be an array",
    "after_string.json": "change.after must be an object or null",
    "address_number.json": "resource_changes[0].address must be a string",
    "planned_values_list.json": "planned_values must be an object",
    "child_modules_object.json": "child_modules must be an array",
    "module_calls_list.json": "module_calls must be an object",
    "format_version_2.json": "format_version 2.0 is not supported",
    "format_version_number.json": "format_version must be a string",
    "format_version_missing.json": "format_version missing",
    "errored.json": "errored",
    "nan.json": "NaN is not valid JSON",
    "float_overflow.json": "the number 1e400 is too large for a float",
    "garbage.bin": "is binary data (a NUL byte at offset 1)",
    "mode_missing.json": "resource_changes[0].mode is missing",
    "mode_unknown.json": 'resource_changes[0].mode must be "managed" or "data", got \'Managed\'',
    "repeated_address.json": "resource_changes[1] repeats the address 'aws_kms_key.this'",
}


def assert_input_error(path: Path | str, expected: str, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        load_plan(str(path), **kwargs)
    message = caught.value.message
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    assert expected in message, message
    return caught.value


def test_corpus_lists_every_committed_file() -> None:
    committed = {p.name for p in BAD.iterdir()} - {CONTROL.name}
    assert committed == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_file_is_rejected_with_its_reason(name: str) -> None:
    assert_input_error(BAD / name, CORPUS[name])


def test_control_plan_loads() -> None:
    info, plan = load_plan(str(CONTROL))
    assert (info.format_version, info.terraform_version, info.resources) == ("1.2", "1.15.5", 2)
    assert info.path == str(CONTROL)
    assert plan["resource_changes"][1]["address"] == "module.child.aws_kms_key.k"


def test_deep_nesting_is_rejected(tmp_path: Path) -> None:
    for name, text in {
        "deep_arrays.json": "[" * 200_000 + "]" * 200_000,
        "deep_objects.json": '{"format_version": "1.2", "planned_values": '
        + '{"a": ' * 200_000
        + "1"
        + "}" * 200_001,
    }.items():
        path = tmp_path / name
        path.write_text(text)
        assert_input_error(path, "nested too deeply")


def test_one_gigabyte_file_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(1024**3)
    assert path.stat().st_blocks * 512 < 1024 * 1024
    assert_input_error(path, "is 1.0 GiB, over the 512.0 MiB limit")


def test_size_limit_is_exact(tmp_path: Path) -> None:
    data = CONTROL.read_bytes()
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    load_plan(str(path), max_bytes=len(data))
    assert_input_error(path, "over the", max_bytes=len(data) - 1)
    assert DEFAULT_MAX_BYTES < 1024**3


def test_directory_missing_and_unreadable(tmp_path: Path) -> None:
    assert_input_error(tmp_path, "is a directory")
    assert_input_error(tmp_path / "nope.json", "no such file")
    assert_input_error(tmp_path / "nope" / "plan.json", "no such file")
    # A path through a regular file: ENOTDIR, even for root.
    assert_input_error(CONTROL / "plan.json", "cannot read")
    # A unix socket cannot be opened for reading, even by root (ENXIO).
    sock_path = tmp_path / "plan.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        assert_input_error(sock_path, "cannot read")
    if os.geteuid() != 0:
        locked = tmp_path / "locked.json"
        shutil.copyfile(CONTROL, locked)
        locked.chmod(0)
        assert_input_error(locked, "Permission denied")


def test_read_error_after_open_is_reported() -> None:
    # Reading /proc/self/mem at offset 0 fails with EIO: a real read error on an open file.
    assert_input_error("/proc/self/mem", "cannot read")


def test_other_encodings_are_rejected(tmp_path: Path) -> None:
    text = CONTROL.read_text(encoding="utf-8")
    cases = {
        "utf16_no_bom.json": (text.encode("utf-16-le"), "UTF-16 without a byte order mark"),
        "utf32.json": (text.encode("utf-32"), "UTF-32"),
        "utf16_odd.json": (b"\xff\xfe" + text.encode("utf-16-le")[:-1], "invalid UTF-16"),
        "latin1.json": (text.replace("x", "\u00e9").encode("latin-1"), "not UTF-8 text"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert_input_error(path, expected)


def test_devices_and_odd_names_are_rejected_without_reading_on() -> None:
    assert_input_error("/dev/zero", "is binary data (a NUL byte at offset 0)")
    assert_input_error("/dev/null", "empty input")
    with pytest.raises(InputError, match=r"^'': empty path"):
        load_plan("")
    with pytest.raises(InputError, match=r"^plan\\x1b\[2J\\x0a\.json: no such file$"):
        load_plan("plan\x1b[2J\n.json")


def test_a_fifo_is_read_like_process_substitution(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    data = CONTROL.read_bytes()

    def write() -> None:
        with fifo.open("wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        info, plan = load_plan(str(fifo), max_bytes=len(data))
    finally:
        writer.join(timeout=30)
    assert info.resources == 2 and plan == json.loads(data)


def test_stdin_that_is_a_terminal_is_refused() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tfgen", "check", "-"],
            stdin=follower,
            capture_output=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("tfgen: error: <stdin>: is a terminal: pipe a plan in")


@pytest.mark.terraform
def test_binary_plan_file_gets_a_hint(terraform: Any, tmp_path: Path) -> None:
    from tfgen.terraform import OFFLINE_PROVIDER_BLOCK

    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "x" {\n  input = 1\n}\n' + OFFLINE_PROVIDER_BLOCK
    )
    terraform.run(["init", "-input=false", "-no-color"], cwd=tmp_path)
    terraform.run(["plan", "-input=false", "-no-color", "-out=tfplan"], cwd=tmp_path)
    assert_input_error(tmp_path / "tfplan", "binary Terraform plan file")


@pytest.fixture(scope="module")
def real_plan(plan_module: PlanFn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    module = tmp_path_factory.mktemp("planfile_module")
    (module / "main.tf").write_text(
        'resource "aws_kms_key" "this" {\n  description = "caf\u00e9 \u2713"\n}\n'
        'module "child" {\n  source = "./child"\n}\n',
        encoding="utf-8",
    )
    (module / "child").mkdir()
    (module / "child" / "main.tf").write_text('resource "aws_kms_key" "k" {}\n')
    return plan_module(module)


@pytest.mark.terraform
@pytest.mark.parametrize(
    "encoding, bom",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
    ],
)
def test_real_plan_in_each_accepted_encoding(
    real_plan: dict[str, Any], tmp_path: Path, encoding: str, bom: bytes
) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(bom + json.dumps(real_plan, ensure_ascii=False).encode(encoding))
    info, plan = load_plan(str(path))
    assert plan == real_plan
    assert info.resources == 2
    assert plan["resource_changes"][0]["change"]["after"]["description"] == "caf\u00e9 \u2713"


@pytest.mark.terraform
def test_powershell_redirect_shape(real_plan: dict[str, Any], tmp_path: Path) -> None:
    # PowerShell 5's `>` writes UTF-16 LE with BOM and CRLF line ends.
    text = json.dumps(real_plan, indent=2).replace("\n", "\r\n") + "\r\n"
    path = tmp_path / "plan.json"
    path.write_bytes(text.encode("utf-16"))
    assert load_plan(str(path))[1] == real_plan


@pytest.mark.terraform
def test_stdin_through_a_real_pipe(real_plan: dict[str, Any]) -> None:
    code = (
        "import sys\n"
        "from tfgen.planfile import load_plan\n"
        "from tfgen.errors import InputError\n"
        "try:\n"
        "    info, plan = load_plan('-', max_bytes=int(sys.argv[1]))\n"
        "except InputError as exc:\n"
        "    print('ERR', exc.message)\n"
        "else:\n"
        "    print('OK', info.path, info.resources)\n"
    )
    data = b"\xef\xbb\xbf" + json.dumps(real_plan).encode()
    ok = subprocess.run(
        [sys.executable, "-c", code, str(len(data))], input=data, capture_output=True, check=True
    )
    assert ok.stdout.decode().split() == ["OK", "-", "2"]
    big = subprocess.run(
        [sys.executable, "-c", code, str(len(data) - 1)],
        input=data,
        capture_output=True,
        check=True,
    )
    assert big.stdout.decode().startswith("ERR <stdin>: is over the")
    empty = subprocess.run(
        [sys.executable, "-c", code, "100"], input=b"", capture_output=True, check=True
    )
    assert empty.stdout.decode().startswith("ERR <stdin>: empty input")


def test_stdin_label_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[1, 2]")))
    with pytest.raises(InputError, match=r"^<stdin>: is a JSON array"):
        load_plan("-")


def test_empty_state_is_called_state() -> None:
    # `terraform show -json` of an empty state prints only format_version.
    with pytest.raises(InputError, match="Terraform state, not a plan"):
        validate_plan({"format_version": "1.0"}, "s.json")


def test_plan_without_changes_is_valid() -> None:
    # Terraform omits resource_changes when nothing changes; planned_values is always there.
    validate_plan({"format_version": "1.2", "planned_values": {"root_module": {}}}, "p.json")


# The CLI: each bad input exits 2 with one stderr line naming it.


def _cli_cases(tmp_path: Path) -> list[Path]:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(1024**3)
    empty = tmp_path / "no-plans"
    empty.mkdir()
    return [*(BAD / name for name in sorted(CORPUS)), deep, huge, empty, tmp_path / "nope.json"]


def test_cli_exits_2_with_one_line_per_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tfgen.cli import main

    for path in _cli_cases(tmp_path):
        code = main(["check", str(path)])
        out, err = capsys.readouterr()
        assert code == 2, (path, out, err)
        lines = err.splitlines()
        assert len(lines) == 1, (path, err)
        assert str(path) in lines[0], (path, err)
        assert "Traceback" not in out + err


def test_a_directory_stands_for_the_plans_below_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tfgen.cli import main

    for name in ("b/p0.json", "a/p1.json", "a/.terraform/modules.json", "a/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CONTROL, tmp_path / name)
    (tmp_path / "empty").mkdir()
    assert plan_files([str(tmp_path), "-", str(CONTROL)]) == [
        str(tmp_path / "a" / "p1.json"),
        str(tmp_path / "b" / "p0.json"),
        "-",
        str(CONTROL),
    ]
    code = main(["check", str(tmp_path / "b"), str(tmp_path / "a"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1  # the control plan has blocking findings
    assert [p["path"] for p in report["plans"]] == [
        str(tmp_path / "a" / "p1.json"),
        str(tmp_path / "b" / "p0.json"),
    ]
    assert main(["check", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"tfgen: error: {tmp_path / 'empty'}: a directory without plan JSON files (*.json)"
    ]


# Property tests: random plan-shaped JSON never raises anything but InputError.

KEYS = [
    "format_version",
    "terraform_version",
    "planned_values",
    "resource_changes",
    "configuration",
    "prior_state",
    "variables",
    "values",
    "root_module",
    "resources",
    "child_modules",
    "module_calls",
    "module",
    "address",
    "type",
    "mode",
    "name",
    "module_address",
    "change",
    "actions",
    "before",
    "after",
    "after_unknown",
    "after_sensitive",
    "expressions",
    "value",
    "errored",
]

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars | st.sampled_from(["1.2", "2.0", "1", "create", "delete", "aws_kms_key"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=6)
    ),
    max_leaves=40,
)


def _mutate(document: Any, path: list[int], value: Any) -> Any:
    """Replace the node a path of indices picks (through dicts and lists) with value."""
    if not path or not isinstance(document, dict | list) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    document[key] = _mutate(document[key], path[1:], value)
    return document


def _outcome(data: bytes) -> None:
    from tfgen.planfile import loads_plan

    try:
        plan = loads_plan(data, "fuzz.json")
    except InputError as exc:
        assert exc.message.startswith("fuzz.json: ")
        assert "\n" not in exc.message
    else:
        assert isinstance(plan, dict)
        assert "planned_values" in plan


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_random_plan_shaped_json_only_raises_input_error(document: Any) -> None:
    if isinstance(document, dict):
        document.setdefault("format_version", "1.2")
    _outcome(json.dumps(document).encode())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), max_size=8), json_values)
def test_mutated_real_plan_only_raises_input_error(path: list[int], value: Any) -> None:
    document = json.loads(CONTROL.read_text())
    _outcome(json.dumps(_mutate(document, path, value)).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=100).map(lambda t: t.encode("utf-16")))
def test_random_bytes_only_raise_input_error(data: bytes) -> None:
    _outcome(data)


def run_cli(*args: str) -> tuple[int, str, str]:
    from tfgen.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", *args])
    return code, out.getvalue(), err.getvalue()


def test_cli_bad_plan_in_a_batch_fails_closed(tmp_path: Path) -> None:
    code, out, err = run_cli(str(CONTROL), str(BAD / "state.json"), "--format", "json")
    assert code == 2
    assert err.splitlines() == [
        f"tfgen: error: {BAD / 'state.json'}: is Terraform state, not a plan: "
        "run `terraform show -json` on a saved plan file"
    ]
    report = json.loads(out)
    assert report["summary"]["exit_code"] == 2
    assert [plan["path"] for plan in report["plans"]] == [str(CONTROL)]
    assert len(report["errors"]) == 1


def test_cli_reads_utf16_and_stdin(tmp_path: Path) -> None:
    utf16 = tmp_path / "plan.json"
    utf16.write_bytes(CONTROL.read_text(encoding="utf-8").encode("utf-16"))
    code, out, err = run_cli(str(utf16), "--format", "json")
    assert (code, err) == (1, ""), err
    assert {f["address"] for f in json.loads(out)["findings"]} >= {"aws_kms_key.this"}
    for data, expected in ((b"", "empty input"), (b"\xff\xfe{\x00", "truncated JSON")):
        proc = subprocess.run(
            [sys.executable, "-m", "tfgen", "check", "-"],
            input=data,
            capture_output=True,
            check=False,
            timeout=120,
        )
        stderr = proc.stderr.decode()
        assert proc.returncode == 2, stderr
        assert stderr.splitlines() == [stderr.splitlines()[0]]
        assert stderr.startswith(f"tfgen: error: <stdin>: {expected}"), stderr


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8), json_values)
def test_cli_never_passes_what_it_could_not_check(path: list[int], value: Any) -> None:
    import tempfile

    document = _mutate(json.loads(CONTROL.read_text()), path, value)
    with tempfile.TemporaryDirectory(prefix="tfgen-fuzz-") as tmp:
        plan = Path(tmp) / "plan.json"
        plan.write_text(json.dumps(document))
        code, out, err = run_cli(str(plan), "--format", "json")
    assert "Traceback" not in out + err
    assert code in (0, 1, 2)
    if not out:  # an error before any report: exit 2 and one line
        assert code == 2 and len(err.splitlines()) == 1, (code, err)
        return
    report = json.loads(out)
    assert report["summary"]["exit_code"] == code
    if err or report["errors"]:
        assert code == 2, (err, report["errors"])
    if code == 0:
        assert report["plans"] and not report["errors"]


ATTRIBUTES = st.sampled_from(
    [
        "enable_key_rotation",
        "policy",
        "is_enabled",
        "key_usage",
        "customer_master_key_spec",
        "deletion_window_in_days",
        "multi_region",
        "tags",
    ]
) | st.text(max_size=4)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(ATTRIBUTES, json_values, max_size=6),
    st.dictionaries(ATTRIBUTES, st.booleans() | json_values, max_size=3),
)
def test_cli_on_odd_attribute_values_reports_or_fails_closed(
    after: dict[str, Any], after_unknown: dict[str, Any]
) -> None:
    """Values the loader cannot judge reach the engine: the gate still never passes on an error."""
    import tempfile

    document = json.loads(CONTROL.read_text())
    change = document["resource_changes"][0]["change"]
    change["after"], change["after_unknown"] = after, after_unknown
    with tempfile.TemporaryDirectory(prefix="tfgen-fuzz-") as tmp:
        plan = Path(tmp) / "plan.json"
        plan.write_text(json.dumps(document))
        code, out, err = run_cli(str(plan), "--format", "json")
    assert "Traceback" not in out + err
    report = json.loads(out) if out else None
    if report is None or err or report["errors"]:
        assert code == 2, (code, err)
    else:
        assert code == report["summary"]["exit_code"]
        # the untouched key in the child module still has rotation off
        assert ("KMS-001", "module.child.aws_kms_key.k") in {
            (f["rule_id"], f["address"]) for f in report["findings"]
        }
        assert code == 1


# No false rejections: every Terraform-made plan of the rule fixtures loads.

PLANNED_FIXTURES = sorted(p.parent for p in (FIXTURES / "rules").glob("*/*/expected.json"))


@pytest.mark.terraform
@pytest.mark.parametrize(
    "case", PLANNED_FIXTURES, ids=[str(c.relative_to(FIXTURES)) for c in PLANNED_FIXTURES]
)
def test_terraform_made_plans_load(case: Path, plan_module: PlanFn, tmp_path: Path) -> None:
    plan = plan_module(case)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    info, loaded = load_plan(str(path))
    assert loaded == plan
    assert info.resources == len(plan.get("resource_changes", []))
