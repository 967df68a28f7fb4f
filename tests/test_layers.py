"""The tree shows the layers: only the command line reads the environment or prints."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tfgen"


def _core_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts)


def _names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found.add(f"{node.func.id}()")
    return found


def test_the_core_reads_no_environment_variables() -> None:
    readers = {
        p.relative_to(PACKAGE).as_posix()
        for p in _core_modules()
        if {"os.environ", "os.getenv"} & _names(p)
    }
    assert readers == set()


def test_the_core_never_prints_or_exits() -> None:
    offenders = {
        p.relative_to(PACKAGE).as_posix()
        for p in _core_modules()
        if {"print()", "exit()", "sys.exit"} & _names(p)
    }
    assert offenders == set()


def test_test_script_installs_nothing_and_ci_sets_up_first() -> None:
    root = PACKAGE.parent
    test_sh = (root / "scripts" / "test.sh").read_text(encoding="utf-8")
    for installer in ("apt-get", "pip install", "dockerd", "setup.sh", "install-"):
        assert installer not in test_sh
    ci = [
        line
        for line in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.startswith(("bash", "exec"))
    ]
    assert ci == ["bash scripts/setup-machine.sh", "exec bash scripts/test.sh"]


def test_tests_read_nothing_outside_the_repository() -> None:
    tests = PACKAGE.parent / "tests"
    for path in sorted(set(tests.glob("*.py")) - {Path(__file__).resolve()}):
        text = path.read_text(encoding="utf-8")
        assert "ROOT.parent" not in text, path.name
        assert "/work/shared" not in text, path.name


def test_readme_layout_names_only_what_exists() -> None:
    root = PACKAGE.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Layout\n")
    section = text[start : text.index("\n## ", start + 1)]
    paths = re.findall(r"`((?:tfgen|tests)/[\w/.<>]*)`", section)
    assert paths
    for path in paths:
        if "<" not in path:
            assert (root / path).exists(), path
