"""The generator without Terraform: seed fidelity, drift, round trip, escaping, CLI errors, writes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import hcl2
import pytest
from helpers import (
    MODULE,
    ROOT,
    SEED_INPUTS,
    LiveTemplateError,
    decode_hcl_string,
    seed_json_text,
    valid_options,
)
from hypothesis import HealthCheck, given, settings

from tfgen import config
from tfgen.cli import main
from tfgen.module import interface, seed, tftest
from tfgen.module.files import hcl_files, render
from tfgen.module.hcl import Block, Expr, Template, Value, format_like_terraform
from tfgen.module.options import DELETION_WINDOW, ModuleOptions, OptionError, validate
from tfgen.module.readme import command_line, template
from tfgen.module.write import MARKER, written_by_tfgen


def from_hcl2(value: Any) -> Any:
    """python-hcl2's parsed form back into tfgen's Value model (expressions compared sans spaces)."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return ("expr", re.sub(r"\s", "", value[2:-1]))
        if value.startswith('"'):
            try:
                return decode_hcl_string(value)
            except LiveTemplateError:
                return ("template", value[1:-1])
        return ("expr", value)
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):  # tfgen writes non-integer numbers as expressions
        return ("expr", str(value))
    if isinstance(value, list):
        return [from_hcl2(v) for v in value]
    return {
        (decode_hcl_string(k) if k.startswith('"') else k): from_hcl2(v)
        for k, v in value.items()
        if k not in ("__is_block__", "__comments__", "__inline_comments__")
    }


def expected_value(value: Value) -> Any:
    if isinstance(value, Expr):
        return ("expr", re.sub(r"\s", "", value.text))
    if isinstance(value, Template):
        return ("template", value.text)
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, dict):
        return {k: expected_value(v) for k, v in value.items()}
    assert isinstance(value, list | tuple)
    return [expected_value(v) for v in value]


def expected_body(block: Block) -> dict[str, Any]:
    body: dict[str, Any] = {k: expected_value(v) for k, v in block.attributes.items()}
    for child in block.blocks:
        body.setdefault(child.type, []).append(expected_labelled(child))
    return body


def expected_labelled(block: Block) -> dict[str, Any]:
    node = expected_body(block)
    for label in reversed(block.labels):
        node = {label: node}
    return node


def assert_round_trip(options: ModuleOptions, only: tuple[str, ...] = ()) -> dict[str, str]:
    """Every HCL file (or those in `only`) parses back to the blocks the generator built."""
    texts = render(options)
    for path, (blocks, header) in hcl_files(options).items():
        if only and path not in only:
            continue
        comments = [f"# {line}".rstrip() for line in header]
        assert texts[path].splitlines()[: len(comments)] == comments, path
        parsed = from_hcl2(hcl2.loads(texts[path]))
        expected: dict[str, Any] = {}
        for block in blocks:
            expected.setdefault(block.type, []).append(expected_labelled(block))
        assert parsed == expected, path
        assert format_like_terraform(texts[path]) == texts[path], f"{path}: layout not stable"
    return texts


def test_packaged_policy_is_the_seed_verbatim() -> None:
    assert json.loads(seed_json_text()) == seed.SEED_POLICY


def test_intended_policy_for_seed_inputs_is_the_substituted_seed() -> None:
    text = seed_json_text().replace("aws-account-id", "111122223333")
    text = text.replace("ec2.region.amazonaws.com", "ec2.us-east-1.amazonaws.com")
    assert seed.intended_policy(**SEED_INPUTS) == json.loads(text)


def test_extensions_touch_only_their_statements() -> None:
    base = seed.intended_policy(**SEED_INPUTS)
    trails = ["arn:aws:cloudtrail:us-east-1:111122223333:trail/t"]
    with_trails = seed.intended_policy(**SEED_INPUTS, trail_arns=trails)
    with_cross = seed.intended_policy(**SEED_INPUTS, cross_account_ids=["444455556666"])
    changed = [
        b["Sid"] for b, t in zip(base["Statement"], with_trails["Statement"], strict=True) if b != t
    ]
    assert changed == [seed.SID_ENCRYPT, seed.SID_DESCRIBE]
    assert with_trails["Statement"][2]["Condition"] == {"StringEquals": {"aws:SourceArn": trails}}
    changed = [
        b["Sid"] for b, c in zip(base["Statement"], with_cross["Statement"], strict=True) if b != c
    ]
    assert changed == [seed.SID_CROSS_ACCOUNT]
    condition = with_cross["Statement"][5]["Condition"]["StringEquals"]
    assert condition["kms:CallerAccount"] == ["444455556666"]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".terraform") for part in p.parts)
    }


def test_committed_module_has_no_drift(tmp_path: Path) -> None:
    assert main(["generate", "--out", str(tmp_path / "m")]) == 0
    fresh, committed = _tree(tmp_path / "m"), _tree(MODULE)
    assert sorted(fresh) == sorted(committed), "file set differs: run tfgen generate --out " + str(
        MODULE.relative_to(ROOT)
    )
    for name, data in fresh.items():
        assert committed[name] == data, f"{name} drifted: regenerate the module"


def test_standard_module_layout() -> None:
    names = set(render(ModuleOptions()))
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} <= names
    assert "examples/basic/main.tf" in names
    assert any(n.startswith("tests/") and n.endswith(".tftest.hcl") for n in names)


def test_readme_tables_list_every_input_and_output() -> None:
    readme = render(ModuleOptions())["README.md"]
    parsed = hcl2.loads(render(ModuleOptions())["variables.tf"])
    names = [next(iter(v)).strip('"') for v in parsed["variable"]]
    for name in names:
        assert re.search(rf"^\| {name} \|", readme, re.M), name
    for name in ("key_arn", "key_id", "key_policy"):
        assert re.search(rf"^\| {name} \|", readme, re.M), name
    assert re.search(r"^\| account_id \|.*\| `null` \| no \|$", readme, re.M)


def test_variables_follow_description_type_default_order() -> None:
    parsed = hcl2.loads(render(ModuleOptions())["variables.tf"])
    for variable in parsed["variable"]:
        body = next(iter(variable.values()))
        keys = [k for k in body if k not in ("__is_block__", "nullable", "validation")]
        assert keys == ["description", "type", "default"], keys


def test_every_file_carries_the_marker() -> None:
    for name, text in render(ModuleOptions()).items():
        assert MARKER in text.splitlines()[0], name


def test_deletion_window_range_is_the_config_range() -> None:
    """One range for `tfgen generate`, the module's validation block and `.tfgen.toml`."""
    assert DELETION_WINDOW == (config.MIN_WINDOW, config.MAX_WINDOW) == (7, 30)
    variables_tf = render(ModuleOptions())["variables.tf"]
    assert "var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30" in variables_tf


def test_readme_requirements_are_the_versions_tf_constraints() -> None:
    files = render(ModuleOptions())
    for path in ("versions.tf", "examples/basic/versions.tf"):
        (block,) = hcl2.loads(files[path])["terraform"]
        assert block["required_version"] == f'">= {interface.TERRAFORM_MIN}"'
        (providers,) = block["required_providers"]
        assert providers["aws"]["version"] == f'">= {interface.AWS_PROVIDER_MIN}"'
    requirements = re.search(r"## Requirements\n\n(.*?)\n\n", files["README.md"], re.S)
    assert requirements
    rows = requirements.group(1).splitlines()[2:]
    assert rows == [
        f"| terraform | >= {interface.TERRAFORM_MIN} |",
        f"| aws | >= {interface.AWS_PROVIDER_MIN} |",
    ]


def test_readme_template_ships_in_the_package() -> None:
    text = template().template
    assert "$requirements" in text and "$inputs" in text and "$outputs" in text
    assert "[tool.setuptools.package-data]" in (ROOT / "pyproject.toml").read_text()
    assert '"tfgen.module" = ["templates/*.tmpl"]' in (ROOT / "pyproject.toml").read_text()


def test_example_is_a_root_wiring_every_output_onward() -> None:
    files = render(ModuleOptions())
    (module,) = from_hcl2(hcl2.loads(files["examples/basic/main.tf"]))["module"]
    call = module["cloudtrail_kms_key"]
    assert call["source"] == "../.."
    # Both set, so planning the example reads no data source (offline plans stay offline).
    assert {"account_id", "region"} <= set(call)
    outputs = from_hcl2(hcl2.loads(files["examples/basic/outputs.tf"]))["output"]
    wired = {name: body["value"] for o in outputs for name, body in o.items()}
    assert wired == {
        o.name: ("expr", f"module.cloudtrail_kms_key.{o.name}") for o in interface.OUTPUTS
    }
    assert not [name for name, text in files.items() if re.search(r'^provider "aws"', text, re.M)]


def test_module_tests_use_the_mock_provider() -> None:
    files = render(ModuleOptions())
    tests = {k: v for k, v in files.items() if k.startswith("tests/")}
    assert sorted(tests) == ["tests/policy.tftest.hcl", "tests/validation.tftest.hcl"]
    for name, text in tests.items():
        assert re.search(r'^mock_provider "aws" \{', text, re.M), name
        assert "mock-access-key" not in text and "skip_" not in text, name


def test_every_validated_variable_has_a_failing_tftest_run() -> None:
    validated = {v.name for v in interface.variables(ModuleOptions()) if v.validations}
    assert {variable for _, variable, _ in tftest.BAD_INPUTS} == validated


def test_default_module_parses_back_to_the_intended_structure() -> None:
    assert_round_trip(ModuleOptions())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_options())
def test_any_valid_options_parse_back(options: ModuleOptions) -> None:
    # Only these files depend on the options; the others are covered by the default test.
    assert_round_trip(options, only=("variables.tf", "examples/basic/main.tf"))


def test_description_with_template_sequences_stays_literal() -> None:
    description = 'x ${aws_kms_key.this.arn} %{ for a in b }${a}%{ endfor } "q"'
    text = render(ModuleOptions(description=description))["variables.tf"]
    assert "$${aws_kms_key.this.arn}" in text and "%%{ for a in b }" in text
    parsed = hcl2.loads(text)
    defaults = [next(iter(v.values())).get("default") for v in parsed["variable"]]
    assert description in [decode_hcl_string(d) for d in defaults if isinstance(d, str)]


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--account-id", "12345"], "--account-id"),
        (["--account-id", "1111222233334"], "--account-id"),
        (["--region", "US-EAST-1"], "--region"),
        (["--region", "us-east"], "--region"),
        (["--key-administrator", "arn:aws:s3:::bucket"], "--key-administrator"),
        (["--key-administrator", "arn:aws:iam::111122223333:group/admins"], "--key-administrator"),
        (["--cross-account-id", "4444-5555-6666"], "--cross-account-id"),
        (["--trail-arn", "arn:aws:cloudtrail:us-east-1:111122223333:bucket/x"], "--trail-arn"),
        (["--deletion-window", "6"], "--deletion-window"),
        (["--deletion-window", "31"], "--deletion-window"),
        (["--alias", "alias/cloudtrail"], "--alias"),
        (["--alias", "aws/cloudtrail"], "--alias"),
        (["--alias", "bad alias"], "--alias"),
        (["--tag", "no-equals-sign"], "--tag"),
        (["--tag", "aws:reserved=x"], "--tag"),
        (["--tag", "a=1", "--tag", "a=2"], "--tag"),
        (["--description", "bell\x07"], "--description"),
        (["--description", "x" * 8193], "--description"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    out = tmp_path / "module"
    assert main(["generate", "--out", str(out), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"tfgen: error: {names}")
    assert not out.exists()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (ModuleOptions(account_id="1"), "account_id"),
        (ModuleOptions(key_administrators=("x",)), "key_administrators"),
        (ModuleOptions(deletion_window_in_days=31), "deletion_window_in_days"),
        (ModuleOptions(tags=(("aws:x", "y"),)), "tags"),
        (ModuleOptions(description="\x07"), "description"),
    ],
)
def test_core_errors_name_the_option_field_not_a_flag(options: ModuleOptions, field: str) -> None:
    with pytest.raises(OptionError) as exc:
        validate(options)
    assert exc.value.field == field
    assert exc.value.message.startswith(field) and "--" not in exc.value.message


def test_usage_error_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--out", str(tmp_path), "--deletion-window", "ten"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--deletion-window" in err


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["generate", "--out", str(target)]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert target.read_text() == "x"


def test_foreign_file_is_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = 'resource "null_resource" "mine" {}\n'
    (tmp_path / "variables.tf").write_text(mine)
    assert main(["generate", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "variables.tf" in err and "--force" in err
    assert (tmp_path / "variables.tf").read_text() == mine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["variables.tf"], "wrote before refusing"

    assert main(["generate", "--out", str(tmp_path), "--force"]) == 0
    assert written_by_tfgen(tmp_path / "variables.tf")


def test_own_files_are_regenerated_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--out", str(tmp_path)]) == 0
    main_tf = tmp_path / "main.tf"
    main_tf.write_text(main_tf.read_text() + "# local edit\n")
    assert main(["generate", "--out", str(tmp_path), "--alias", "cloudtrail"]) == 0
    assert "# local edit" not in main_tf.read_text()
    assert "tfgen: 3 files written, 7 unchanged" in capsys.readouterr().out.splitlines()[-1]


def test_writes_replace_files_atomically(tmp_path: Path) -> None:
    assert main(["generate", "--out", str(tmp_path)]) == 0
    old = (tmp_path / "variables.tf").read_text()
    (tmp_path / "snapshot").hardlink_to(tmp_path / "variables.tf")
    assert main(["generate", "--out", str(tmp_path), "--deletion-window", "14"]) == 0
    # A rename leaves the old inode (seen through the hard link) untouched; an in-place write would not.
    assert (tmp_path / "snapshot").read_text() == old
    assert "default     = 14" in (tmp_path / "variables.tf").read_text()
    assert not [p for p in tmp_path.rglob("*.tmp")], "temporary files left behind"


def test_symlink_to_a_tfgen_file_elsewhere_is_never_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--out", str(tmp_path / "other")]) == 0
    other = tmp_path / "other" / "variables.tf"
    before = other.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "variables.tf").symlink_to(other)
    assert main(["generate", "--out", str(out), "--deletion-window", "14"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert main(["generate", "--out", str(out), "--deletion-window", "14", "--force"]) == 0
    assert other.read_bytes() == before
    assert not (out / "variables.tf").is_symlink()
    assert "default     = 14" in (out / "variables.tf").read_text()


def test_fifo_target_is_refused_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(tmp_path / "main.tf")
    assert main(["generate", "--out", str(tmp_path), "--force"]) == 2
    assert "a FIFO, not a regular file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.tf"], "wrote before refusing"


def test_command_line_in_readme_reproduces_the_module(tmp_path: Path) -> None:
    options = ModuleOptions(
        account_id="444455556666",
        region="eu-west-1",
        key_administrators=("arn:aws:iam::444455556666:role/admin",),
        cross_account_ids=("777788889999",),
        trail_arns=("arn:aws:cloudtrail:eu-west-1:444455556666:trail/org",),
        alias="cloudtrail",
        deletion_window_in_days=10,
        enable_key_rotation=False,
        description="it's ${not} interpolated",
        tags=(("Team", "platform"),),
    )
    line = command_line(options, out=str(tmp_path / "again"))
    assert line in render(options)["README.md"].replace("--out DIR", f"--out {tmp_path / 'again'}")
    assert main(shlex.split(line)[1:]) == 0
    assert _tree(tmp_path / "again") == {k: v.encode() for k, v in render(options).items()}


def test_other_account_gets_no_invented_administrator() -> None:
    text = render(ModuleOptions(account_id="444455556666"))["examples/basic/main.tf"]
    assert "user/username" not in text
    assert "key_administrators = []" in text


def test_regenerating_the_committed_module_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(MODULE, tmp_path / "copy")
    assert main(["generate", "--out", str(tmp_path / "copy")]) == 0
    assert capsys.readouterr().out.startswith("tfgen: 0 files written, 10 unchanged")
