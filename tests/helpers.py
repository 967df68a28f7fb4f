"""Paths, types, strategies and small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict

import pytest
import yaml
from hypothesis import strategies as st

from tfgen.module.options import ModuleOptions

ROOT = Path(__file__).resolve().parent.parent
REGO = ROOT / "rego"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
README = ROOT / "README.md"
# A two-rule pack (FIX-001, FIX-002) the engine and rule pack tests build and edit.
FIXTURE_PACK = FIXTURES / "engines" / "pack"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(component: str, reason: str) -> None:
    """A needed component is absent: fail in CI, skip elsewhere."""
    message = f"{component} is required but unavailable: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


PlanFn = Callable[..., dict[str, Any]]
ServeFn = Callable[..., str]


def copy_pack(tmp_path: Path, source: Path = FIXTURE_PACK) -> Path:
    """A rule pack the test may edit: a copy of `source` under tmp_path."""
    target = tmp_path / "pack"
    shutil.copytree(source, target)
    return target


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and ".terraform" not in p.parts):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"OPA at {url} did not become healthy in {timeout}s")


def served(path: Path, opa_bin: Path, work: Path) -> list[str]:
    """`opa run` arguments serving `path`: a rule pack as the bundle tfgen builds, else as is."""
    from tfgen.bundle import build
    from tfgen.rulepack import RulePack

    if not (path / "main" / "main.rego").is_file():
        return [str(path)]
    target = work / f"bundle-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}.tar.gz"
    return ["--bundle", str(build(RulePack(path.resolve()), target, opa_bin))]


# Printable text, any script, with the template openers HCL must not interpolate mixed in.
free_text = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cc", "Cs")),
        st.sampled_from(["${", "%{", "$${", "%%{", "}", "\\", '"', "$", "%", "{"]),
    ),
    max_size=30,
).map("".join)


class LiveTemplateError(AssertionError):
    """A quoted string that would interpolate or run a directive."""


def decode_hcl_string(literal: str) -> str:
    """An HCL quoted string literal's value; fails on an unescaped interpolation or directive."""
    assert literal.startswith('"') and literal.endswith('"'), literal
    body, out, i = literal[1:-1], [], 0
    simple = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(body):
        if body[i] == "\\":
            code = body[i + 1]
            if code in simple:
                out.append(simple[code])
                i += 2
            elif code == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
            else:
                raise AssertionError(f"unknown escape in {literal!r}")
        elif body.startswith(("$${", "%%{"), i):
            out.append(body[i + 1 : i + 3])
            i += 3
        elif body.startswith(("${", "%{"), i):
            raise LiveTemplateError(f"live template sequence in {literal!r}")
        elif body[i] == '"':
            raise AssertionError(f"unescaped quote in {literal!r}")
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


MODULE = ROOT / "modules" / "cloudtrail-kms-key"
# AWS's published text (CloudTrail User Guide, "Default Key Policy Created in CloudTrail Console").
SEED_FILE = ROOT / "tests" / "fixtures" / "seed" / "cloudtrail-default-kms-key-policy.md"


class SeedInputs(TypedDict):
    account_id: str
    region: str
    key_administrators: Sequence[str]


SEED_INPUTS: SeedInputs = {
    "account_id": "111122223333",
    "region": "us-east-1",
    "key_administrators": ["arn:aws:iam::111122223333:user/username"],
}


account_ids = st.from_regex(r"[0-9]{12}", fullmatch=True)
regions = st.sampled_from(
    ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "cn-north-1", "il-central-1"]
)
iam_names = st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,20}(/[A-Za-z0-9+=,.@_-]{1,10})?", fullmatch=True)
trail_names = st.from_regex(r"[A-Za-z0-9._-]{3,30}", fullmatch=True)
tag_keys = st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{1,20}", fullmatch=True).filter(
    lambda k: not k.lower().startswith("aws:")
)


@st.composite
def valid_options(draw: st.DrawFn) -> ModuleOptions:
    account = draw(account_ids)
    admins = draw(
        st.lists(
            st.builds(
                lambda acct, kind, name: f"arn:aws:iam::{acct}:{kind}/{name}",
                st.one_of(st.just(account), account_ids),
                st.sampled_from(["user", "role"]),
                iam_names,
            ),
            max_size=3,
        )
    )
    trails = draw(
        st.lists(
            st.builds(
                lambda region, name: f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
                regions,
                trail_names,
            ),
            max_size=3,
        )
    )
    tags = draw(st.dictionaries(tag_keys, free_text, max_size=3))
    return ModuleOptions(
        account_id=account,
        region=draw(regions),
        key_administrators=tuple(admins),
        cross_account_ids=tuple(draw(st.lists(account_ids, max_size=3))),
        trail_arns=tuple(trails),
        alias=draw(st.none() | st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9/_-]{0,20}", fullmatch=True)),
        deletion_window_in_days=draw(st.integers(7, 30)),
        enable_key_rotation=draw(st.booleans()),
        description=draw(free_text),
        tags=tuple(tags.items()),
    )


def seed_json_text() -> str:
    match = re.search(r"```\n(\{.*?\})\n```", SEED_FILE.read_text(encoding="utf-8"), re.S)
    assert match, "no JSON code block in the seed file"
    return match.group(1)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.DOTALL)


Step = tuple[list[str], int, dt.date | None]


def commands(script: str, program: str = "tfgen") -> list[Step]:
    """Each `PROGRAM ...  # exit N[ until DATE]` line: argv, expected exit code, optional end date."""
    found = []
    for line in script.splitlines():
        if not line.startswith(program + " "):
            continue
        command, _, comment = line.partition("  # ")
        match = re.match(r"exit (\d)(?: until (\d{4}-\d\d-\d\d))?", comment)
        assert match, f"README command without '# exit N': {line}"
        until = dt.date.fromisoformat(match.group(2)) if match.group(2) else None
        found.append((shlex.split(command)[1:], int(match.group(1)), until))
    return found


# The GitHub Action (action.yml), whose step scripts tests run as GitHub does.
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def step(name: str) -> dict[str, Any]:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def run_step(
    name: str, env: dict[str, str], tmp_path: Path, path: str | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """A step's script as GitHub runs `shell: bash`, with the runner's files in tmp_path."""
    for file in ("output", "summary"):
        (tmp_path / file).touch()
    full_env = {
        **os.environ,
        "PATH": path or f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_REPOSITORY": "acme/infra",
        "ACTION_PATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step(name)["run"]],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
