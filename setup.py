"""Wheel build hook: ship the rule pack compiled to Wasm, so installs need no OPA.

The pinned OPA (TFGEN_OPA_BIN, the tfgen cache, or `opa` on PATH) compiles the pack being packaged.
Without OPA the committed build in tfgen/_wasm is shipped, but only if it was compiled from exactly
this pack; otherwise the build fails rather than ship a stale policy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithWasm(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads rego/ and tfgen/_wasm from the checkout
        sys.path.insert(0, str(HERE))
        from tfgen.cli import describe, toolchain
        from tfgen.errors import ToolchainError
        from tfgen.rulepack import RulePack
        from tfgen.wasmbuild import compile_wasm, pinned_opa, shipped_wasm, write_shipped

        package = Path(self.build_lib) / "tfgen"
        pack = RulePack((package / "_rego").resolve())
        target = package / "_wasm"
        try:
            opa = pinned_opa(toolchain())
        except ToolchainError as exc:
            if shipped_wasm(pack, HERE / "tfgen" / "_wasm") is None:
                raise SystemExit(
                    f"tfgen: tfgen/_wasm was not compiled from this rule pack and {describe(exc)}"
                ) from exc
            return  # build_py copied the committed build, which is this pack's
        write_shipped(pack, compile_wasm(pack, opa), target)


setup(cmdclass={"build_py": BuildPyWithWasm})
