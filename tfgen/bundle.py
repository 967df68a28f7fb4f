"""The rule pack as an OPA bundle whose manifest revision is the pack digest, and the proof that
a server evaluates exactly that bundle (decision provenance) or exactly those modules."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tfgen import __version__
from tfgen.errors import EngineError, ToolchainError
from tfgen.rulepack import RulePack
from tfgen.toolchain import Toolchain, pins

# The data paths the bundle owns: OPA then refuses policy or data writes beneath them.
ROOTS = ("main", "tfgen")
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_DATA_REF = re.compile(r"\bdata\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def manifest(pack: RulePack) -> dict[str, Any]:
    """The bundle manifest: revision is the pack digest, roots are the pack's packages."""
    return {
        "revision": pack.digest,
        "roots": list(ROOTS),
        "metadata": {"tfgen_version": __version__},
    }


def stage(pack: RulePack, directory: Path) -> Path:
    """Copy the pack's policy files (no tests) and its .manifest into `directory`."""
    for source in pack.sources:
        target = directory / source.relative_to(pack.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (directory / ".manifest").write_text(json.dumps(manifest(pack)), encoding="utf-8")
    return directory


def build(pack: RulePack, target: Path, opa: Path | None = None) -> Path:
    """`opa build -b` of the staged pack into `target` (a .tar.gz), written atomically."""
    opa = opa or Toolchain().opa()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".bundle-") as tmp:
        staged = stage(pack, Path(tmp) / "pack")
        partial = Path(tmp) / "bundle.tar.gz"
        cmd = [str(opa), "build", "-b", ".", "--revision", pack.digest, "-o", str(partial)]
        try:
            proc = subprocess.run(
                cmd, cwd=staged, capture_output=True, text=True, timeout=300, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolchainError(f"{opa}: cannot run opa build ({exc})") from exc
        if proc.returncode != 0:
            lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines()]
            detail = "; ".join(line for line in lines if line)[:300] or "no output"
            raise ToolchainError(f"{pack.root}: rule pack does not build as a bundle: {detail}")
        partial.replace(target)
    return target


def cached(pack: RulePack, toolchain: Toolchain | None = None) -> Path:
    """The pack's bundle in the cache, keyed by digest, tfgen and OPA versions; built once."""
    key = hashlib.sha256(f"{pack.digest}\0{__version__}\0opa-{pins()['opa']}".encode())
    toolchain = toolchain or Toolchain()
    target = toolchain.cache_dir / "bundles" / f"{key.hexdigest()[:32]}.tar.gz"
    if not target.is_file():
        build(pack, target, toolchain.opa())
    return target


def read_manifest(bundle: Path) -> dict[str, Any]:
    """The .manifest of a built bundle."""
    with tarfile.open(bundle, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.lstrip("/") == ".manifest":
                extracted = tar.extractfile(member)
                if extracted is not None:
                    data = json.load(io.TextIOWrapper(extracted, encoding="utf-8"))
                    return data if isinstance(data, dict) else {}
    return {}


def check_provenance(provenance: object, pack: RulePack, source: str) -> None:
    """The decision came from a bundle whose revision is this pack's digest; EngineError if not."""
    bundles = provenance.get("bundles") if isinstance(provenance, dict) else None
    revisions = sorted(
        str(b.get("revision"))
        for b in (bundles.values() if isinstance(bundles, dict) else ())
        if isinstance(b, dict)
    )
    if pack.digest in revisions:
        return
    served = ", ".join(revisions) if revisions else "no bundle revision"
    raise EngineError(
        f"{source} serves rule pack {served}, not the local rule pack {pack.digest}: "
        "it is not the pack tfgen checked"
    )


def upload_modules(pack: RulePack) -> list[tuple[str, str]]:
    """The pack as policy API modules (id, text), each after the packages it refers to.

    OPA type-checks each upload against what it already holds, so files that share a package
    (and may call each other's functions) go up as one module: the first file's header and
    package line, the files' imports, then their rules in file order. Its id is the first
    file's path in the pack.
    """
    by_package: dict[str, list[Path]] = {}
    for path in (p for p in pack.sources if p.suffix == ".rego"):
        match = _PACKAGE.search(path.read_text(encoding="utf-8"))
        by_package.setdefault(match.group(1) if match else path.as_posix(), []).append(path)
    texts = {
        package: _merge(paths) if len(paths) > 1 else paths[0].read_text(encoding="utf-8")
        for package, paths in by_package.items()
    }
    needs = {
        package: {
            other
            for other in by_package
            if other != package
            and any(_overlaps(ref, other) for ref in _DATA_REF.findall(texts[package]))
        }
        for package in by_package
    }
    return [
        (by_package[package][0].relative_to(pack.root).as_posix(), texts[package])
        for package in _topological(list(by_package), needs)
    ]


def _merge(paths: Sequence[Path]) -> str:
    """Rego files of one package as one module."""
    head = ""
    imports: list[str] = []
    bodies: list[str] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        match = _PACKAGE.search(text)
        start = match.end() if match else 0
        if not head:
            head = text[:start]
        body = []
        for line in text[start:].splitlines():
            if line.startswith("import "):
                if line not in imports:
                    imports.append(line)
            else:
                body.append(line)
        bodies.append("\n".join(body).strip("\n"))
    return "\n".join([head, "", *imports, "", "\n\n".join(bodies), ""])


def _overlaps(ref: str, package: str) -> bool:
    return ref == package or ref.startswith(package + ".") or package.startswith(ref + ".")


def _topological(items: Sequence[str], needs: Mapping[str, set[str]]) -> list[str]:
    done: list[str] = []
    pending = sorted(items)
    while pending:
        ready = [p for p in pending if needs[p] <= set(done)]
        if not ready:  # a cycle between packages: the uploader retries what OPA refuses
            ready = pending[:1]
        done.append(ready[0])
        pending.remove(ready[0])
    return done


def compare_modules(held: Mapping[str, str], pack: RulePack, prefix: str, source: str) -> None:
    """The modules a server holds under the pack's packages are exactly the pack's (as
    `upload_modules` makes them); else EngineError.

    `held` maps policy id to raw text, as `GET /v1/policies` lists them; the pack's module ids
    are `prefix` + the ids `upload_modules` gives.
    """
    local = {prefix + rel: text for rel, text in upload_modules(pack)}
    ours = {pid: text for pid, text in held.items() if pid in local or _package_in_roots(text)}
    if ours == local:
        return
    missing = sorted(set(local) - set(ours))
    extra = sorted(set(ours) - set(local))
    changed = sorted(p for p in set(local) & set(ours) if local[p] != ours[p])
    parts = [
        f"{label} {', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''}"
        for label, ids in (("missing", missing), ("extra", extra), ("different", changed))
        if ids
    ]
    raise EngineError(
        f"{source} holds other rule modules than the local rule pack {pack.digest} "
        f"({'; '.join(parts)}): it is not the pack tfgen checked"
    )


def _package_in_roots(text: str) -> bool:
    match = _PACKAGE.search(text)
    package = match.group(1) if match else ""
    return any(package == root or package.startswith(root + ".") for root in ROOTS)
