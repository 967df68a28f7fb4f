"""shellcheck every `run:` script of a composite action (actionlint checks workflows, not actions).

Usage: python3 scripts/lint-action.py action.yml. Scripts must take inputs through `env:`, never
`${{ }}` inside the script (that would be a script injection), so they are checked as written.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def main(path: str) -> int:
    action = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    failed = 0
    for number, step in enumerate(action["runs"]["steps"], start=1):
        script = step.get("run")
        if script is None:
            continue
        name = step.get("name", f"step {number}")
        if "${{" in script:
            print(f"{path}: {name}: expression inside run: pass it through env", file=sys.stderr)
            failed += 1
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
            # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
            handle.write("#!/usr/bin/env bash\nset -eo pipefail\n" + script)
        proc = subprocess.run(
            ["shellcheck", "--shell=bash", "--format=gcc", handle.name],
            capture_output=True,
            text=True,
            check=False,
        )
        Path(handle.name).unlink()
        if proc.returncode != 0:
            print(f"{path}: {name}:\n{proc.stdout}{proc.stderr}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
