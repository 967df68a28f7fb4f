"""The one exception root: every error the CLI reports derives from TfgenError."""

from __future__ import annotations


class TfgenError(Exception):
    """An error the user can act on; its message is one line, with no traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self.args[0])


class InputError(TfgenError):
    """A file or argument the user gave cannot be used."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ToolchainError(TfgenError):
    """A component (OPA, Terraform, Docker) is missing or broken.

    `parameter` is the toolchain setting the message names (`opa_bin=...`, `set opa_bin ...`),
    so a caller can word it as its own setting.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class TerraformError(TfgenError):
    """Terraform itself failed."""


class EngineError(TfgenError):
    """A policy engine failed or returned no decision."""


class ConfigError(TfgenError):
    """The tfgen configuration (waivers, enforcement) is invalid."""
