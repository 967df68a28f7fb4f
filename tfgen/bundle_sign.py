"""Signed rule-pack bundles: sign a built bundle with OPA, and verify one as OPA and tfgen would.

Verification has two parts. OPA checks the `.signatures.json` JWT with the given key and
algorithm (never the algorithm the token names) and every file's hash in it; tfgen then checks
that the policy files hash to the manifest's revision, the rule-pack digest.
"""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tfgen import bundle
from tfgen.errors import InputError, ToolchainError
from tfgen.fileio import check_target, write_bytes_atomic
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain

ALGORITHMS = ("RS256", "ES256", "HS256")
MANIFEST, SIGNATURES, DATA = ".manifest", ".signatures.json", "data.json"
# What a key file must hold for each algorithm: a PEM private key to sign, a PEM public key to
# verify, or (HMAC) the shared secret itself, used byte for byte.
_PEM_PRIVATE = {
    "RS256": ("RSA PRIVATE KEY", "PRIVATE KEY"),
    "ES256": ("EC PRIVATE KEY", "PRIVATE KEY"),
}
_PEM_PUBLIC = {"RS256": ("PUBLIC KEY", "RSA PUBLIC KEY"), "ES256": ("PUBLIC KEY",)}
_MAX_MEMBER = 64 * 1024 * 1024


@dataclass(frozen=True)
class Verified:
    """A bundle whose signature and digest hold."""

    revision: str
    roots: tuple[str, ...]
    files: int
    key_id: str


def check_key(path: Path, algorithm: str, *, private: bool) -> Path:
    """`path` is a readable regular file holding a key fit for `algorithm`; InputError if not.

    OPA takes a key argument that names no file as the key itself, so a mistyped path would
    silently become an HMAC secret: the file is checked here first.
    """
    if algorithm not in ALGORITHMS:
        raise InputError(str(algorithm), f"unsupported signing algorithm; use one of {ALGORITHMS}")
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise InputError(str(path), "key is not a regular file")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read key ({exc.strerror or exc})") from exc
    if not data.strip():
        raise InputError(str(path), "key file is empty")
    if algorithm == "HS256":
        if b"-----BEGIN" in data:
            raise InputError(str(path), "HS256 takes a shared secret, not a PEM key")
        return path
    labels = (_PEM_PRIVATE if private else _PEM_PUBLIC)[algorithm]
    text = data.decode("ascii", errors="replace")
    if not any(f"-----BEGIN {label}-----" in text for label in labels):
        kind = "private" if private else "public"
        raise InputError(str(path), f"not a PEM {kind} key for {algorithm}")
    return path


def build(
    pack: RulePack,
    target: Path,
    *,
    key: Path | None = None,
    algorithm: str = "RS256",
    force: bool = False,
    toolchain: Toolchain | None = None,
) -> Path:
    """The pack's bundle (revision = pack digest), signed with `key` if given, written to `target`."""
    check_target(target, force=force)
    if key is not None:
        check_key(key, algorithm, private=True)
    with tempfile.TemporaryDirectory(prefix="tfgen-bundle-") as tmp:
        toolchain = toolchain or Toolchain()
        built = bundle.build(pack, Path(tmp) / "bundle.tar.gz", toolchain.opa())
        if key is not None:
            built = sign(built, Path(tmp) / "signed.tar.gz", key, algorithm, toolchain)
        write_bytes_atomic(target, built.read_bytes(), force=force)
    return target


def sign(
    bundle: Path, target: Path, key: Path, algorithm: str, toolchain: Toolchain | None = None
) -> Path:
    """`bundle` rebuilt by `opa build` with a `.signatures.json` signed by `key`, into `target`."""
    check_key(key, algorithm, private=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".sign-") as tmp:
        staged = Path(tmp) / "bundle"
        members = _read(bundle)
        members.pop(SIGNATURES, None)
        _write_tree(members, staged)
        partial = Path(tmp) / "signed.tar.gz"
        args = [".", "--signing-key", str(key.resolve()), "--signing-alg", algorithm]
        failure = _opa_build([*args, "-o", str(partial)], staged, toolchain)
        if failure:
            raise InputError(str(key), f"cannot sign the bundle with {algorithm}: {failure}")
        partial.replace(target)
    return target


def verify(bundle: Path, key: Path, algorithm: str, toolchain: Toolchain | None = None) -> Verified:
    """The bundle's signature (checked by OPA) and its digest hold; InputError naming it if not."""
    check_key(key, algorithm, private=False)
    members = _read(bundle)
    if SIGNATURES not in members:
        raise InputError(str(bundle), "bundle is not signed (no .signatures.json)")
    token = _signature_token(members[SIGNATURES], bundle)
    if token.get("alg") != algorithm:
        raise InputError(str(bundle), f"signed with {token.get('alg')}, not {algorithm}")
    with tempfile.TemporaryDirectory(prefix="tfgen-verify-") as tmp:
        args = [str(bundle.resolve()), "--verification-key", str(key.resolve())]
        args += ["--signing-alg", algorithm, "-o", str(Path(tmp) / "checked.tar.gz")]
        failure = _opa_build(args, Path(tmp), toolchain)
        if failure:
            raise InputError(
                str(bundle), f"signature does not verify with {key} ({algorithm}): {failure}"
            )
        manifest = _manifest(members, bundle)
        revision = str(manifest.get("revision", ""))
        policy = {
            name: data
            for name, data in members.items()
            if name not in (MANIFEST, SIGNATURES) and not (name == DATA and _empty(data))
        }
        _write_tree(policy, Path(tmp) / "files")
        digest = RulePack(Path(tmp) / "files").digest
    if digest != revision:
        raise InputError(
            str(bundle),
            f"files hash to {digest}, not the manifest revision {revision or '(none)'}: "
            "the bundle is not the rule pack it names",
        )
    roots = manifest.get("roots")
    return Verified(
        revision=revision,
        roots=tuple(str(r) for r in roots) if isinstance(roots, list) else (),
        files=len(policy),
        key_id=str(token.get("kid", "")),
    )


def _read(bundle: Path) -> dict[str, bytes]:
    """The bundle's regular files by their path inside it; InputError for anything else."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            for member in tar.getmembers():
                name = PurePosixPath(member.name.lstrip("/"))
                if member.isdir():
                    continue
                if not member.isfile() or ".." in name.parts or member.size > _MAX_MEMBER:
                    raise InputError(str(bundle), f"unexpected bundle member {member.name!r}")
                extracted = tar.extractfile(member)
                if extracted is not None:
                    members[name.as_posix()] = extracted.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise InputError(str(bundle), f"not a readable bundle ({exc})") from exc
    if MANIFEST not in members:
        raise InputError(str(bundle), "not a tfgen bundle (no .manifest)")
    return members


def _write_tree(members: dict[str, bytes], directory: Path) -> None:
    for name, data in members.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _manifest(members: dict[str, bytes], bundle: Path) -> dict[str, Any]:
    try:
        data = json.loads(members[MANIFEST])
    except ValueError as exc:
        raise InputError(str(bundle), ".manifest is not JSON") from exc
    if not isinstance(data, dict):
        raise InputError(str(bundle), ".manifest is not a JSON object")
    return data


def _signature_token(data: bytes, bundle: Path) -> dict[str, Any]:
    """The protected header of the bundle's one signature (key id, algorithm)."""
    try:
        signatures = json.loads(data)["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise ValueError("not one signature")
        header = str(signatures[0]).split(".")[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InputError(str(bundle), ".signatures.json does not hold one JWT") from exc
    if not isinstance(decoded, dict):
        raise InputError(str(bundle), ".signatures.json does not hold one JWT")
    return decoded


def _empty(data: bytes) -> bool:
    """The empty data document `opa build` adds to a bundle without data."""
    try:
        document = json.loads(data)
    except ValueError:
        return False
    return isinstance(document, dict) and not document


def _opa_build(args: list[str], cwd: Path, toolchain: Toolchain | None) -> str | None:
    """Run `opa build -b ARGS`; None on success, else OPA's error in one line."""
    binary = (toolchain or Toolchain()).opa()
    try:
        proc = subprocess.run(
            [str(binary), "build", "-b", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"{binary}: cannot run opa build ({exc})") from exc
    if proc.returncode == 0:
        return None
    lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines()]
    return "; ".join(line for line in lines if line)[:300] or "no output"
