"""Compile rego/ into tfgen/_wasm with the pinned OPA: the build a wheel made without OPA ships.

Run it after changing rego/; `--check` exits 1 when tfgen/_wasm is not this pack's build.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tfgen.cli import describe, toolchain  # noqa: E402 - after the checkout is on the path
from tfgen.errors import TfgenError  # noqa: E402
from tfgen.rulepack import RulePack  # noqa: E402
from tfgen.wasmbuild import (  # noqa: E402
    SHIPPED_DIR,
    compile_wasm,
    pinned_opa,
    shipped_wasm,
    write_shipped,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only verify, write nothing")
    args = parser.parse_args()
    pack = RulePack((ROOT / "rego").resolve())
    try:
        current = shipped_wasm(pack, SHIPPED_DIR) is not None
        if args.check:
            if not current:
                print("tfgen/_wasm is not the build of rego/: run python scripts/build-wasm.py")
            return 0 if current else 1
        manifest = write_shipped(pack, compile_wasm(pack, pinned_opa(toolchain())), SHIPPED_DIR)
    except TfgenError as exc:
        print(f"build-wasm: {describe(exc)}", file=sys.stderr)
        return 2
    print(f"tfgen/_wasm: pack {manifest['pack_digest'][:16]}, wasm {manifest['sha256'][:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
