"""Signed bundles: signed by the real OPA with keys openssl makes at run time, verified by
`tfgen bundle verify` (OPA checks the JWT and file hashes, tfgen the pack digest)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest
from helpers import REGO, ROOT, ServeFn, missing

from tfgen import bundle_sign
from tfgen.cli import main
from tfgen.errors import InputError
from tfgen.rulepack import find_pack
from tfgen.toolchain import Toolchain

pytestmark = pytest.mark.usefixtures("isolated")


def openssl(*args: str) -> None:
    if shutil.which("openssl") is None:
        missing("openssl", "not on PATH (Debian package openssl)")
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fresh key pairs and an HMAC secret; never committed."""
    d = tmp_path_factory.mktemp("keys")
    openssl(
        "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{d}/rsa.pem"
    )
    openssl("pkey", "-in", f"{d}/rsa.pem", "-pubout", "-out", f"{d}/rsa.pub")
    openssl(
        "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{d}/other.pem"
    )
    openssl("pkey", "-in", f"{d}/other.pem", "-pubout", "-out", f"{d}/other.pub")
    openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{d}/ec.pem"
    )
    openssl("pkey", "-in", f"{d}/ec.pem", "-pubout", "-out", f"{d}/ec.pub")
    openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        f"{d}/ec-other.pem",
    )
    openssl("pkey", "-in", f"{d}/ec-other.pem", "-pubout", "-out", f"{d}/ec-other.pub")
    openssl("rand", "-hex", "-out", f"{d}/hmac.key", "32")
    return {p.name: p for p in d.iterdir()}


def unsigned_bundle(opa_bin: Path, target: Path, revision: str) -> Path:
    """`opa build -b` of the rule pack's policy files with a manifest naming another revision."""
    pack = find_pack(REGO)
    staged = target.parent / f"{target.name}.d"
    for source in pack.sources:
        dest = staged / source.relative_to(pack.root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    manifest = {"revision": revision, "roots": ["main", "tfgen"]}
    (staged / ".manifest").write_text(json.dumps(manifest), encoding="utf-8")
    subprocess.run(
        [str(opa_bin), "build", "-b", ".", "-o", str(target)],
        cwd=staged,
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def unsigned(toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("bundle") / "unsigned.tar.gz"
    return bundle_sign.build(find_pack(REGO), target, toolchain=toolchain)


def signed(unsigned: Path, tmp_path: Path, key: Path, alg: str) -> Path:
    return bundle_sign.sign(unsigned, tmp_path / f"signed-{alg}.tar.gz", key, alg)


TFGEN_VERIFY = (sys.executable, "-m", "tfgen", "bundle", "verify")


def verify_cli(bundle: Path, key: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TFGEN_VERIFY, str(bundle), "--verification-key", str(key), *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def assert_refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("tfgen: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


@pytest.mark.parametrize(
    ("alg", "private", "public"),
    [
        ("RS256", "rsa.pem", "rsa.pub"),
        ("ES256", "ec.pem", "ec.pub"),
        ("HS256", "hmac.key", "hmac.key"),
    ],
)
def test_signed_bundle_verifies(
    unsigned: Path, tmp_path: Path, keys: dict[str, Path], alg: str, private: str, public: str
) -> None:
    bundle = signed(unsigned, tmp_path, keys[private], alg)
    proc = verify_cli(bundle, keys[public], "--signing-alg", alg)
    assert proc.returncode == 0, proc.stderr
    digest = find_pack(REGO).digest
    assert proc.stdout == (
        f"verified {bundle}: revision {digest}, roots main, tfgen, "
        f"{len(find_pack(REGO).sources)} files, signed with {alg} key id default\n"
    )
    with tarfile.open(bundle) as tar:
        manifest = json.load(tar.extractfile("/.manifest") or io.BytesIO(b"{}"))
    assert manifest["revision"] == digest and manifest["roots"] == ["main", "tfgen"]


def test_other_key_is_refused(unsigned: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    bundle = signed(unsigned, tmp_path, keys["rsa.pem"], "RS256")
    assert_refused(verify_cli(bundle, keys["other.pub"]), "signature does not verify")


def test_other_algorithm_is_refused(unsigned: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    bundle = signed(unsigned, tmp_path, keys["ec.pem"], "ES256")
    assert_refused(verify_cli(bundle, keys["ec.pub"], "--signing-alg", "RS256"), "not RS256")


def test_hmac_signed_with_the_public_key_is_refused(
    unsigned: Path, tmp_path: Path, keys: dict[str, Path]
) -> None:
    """The token's own `alg` is never trusted: an HS256 token keyed with the public PEM fails."""
    secret = tmp_path / "pub-as-secret"
    secret.write_bytes(keys["rsa.pub"].read_bytes().replace(b"-----BEGIN", b"BEGIN"))
    bundle = signed(unsigned, tmp_path, secret, "HS256")
    assert_refused(verify_cli(bundle, keys["rsa.pub"]), "signed with HS256, not RS256")


def test_unsigned_bundle_is_refused(unsigned: Path, keys: dict[str, Path]) -> None:
    assert_refused(verify_cli(unsigned, keys["rsa.pub"]), "not signed")


def test_file_changed_after_signing_is_refused(
    unsigned: Path, tmp_path: Path, keys: dict[str, Path]
) -> None:
    bundle = signed(unsigned, tmp_path, keys["rsa.pem"], "RS256")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(bundle) as src, tarfile.open(tampered, "w:gz") as out:
        for member in src.getmembers():
            data = (src.extractfile(member) or io.BytesIO()).read()
            if member.name.endswith("rotation/rotation.rego"):
                data = data.replace(b"not _rotation_enabled(key)", b"false")
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    assert_refused(verify_cli(tampered, keys["rsa.pub"]), "digest mismatch")


def test_signed_bundle_whose_files_are_not_its_revision_is_refused(
    opa_bin: Path, tmp_path: Path, keys: dict[str, Path]
) -> None:
    wrong = unsigned_bundle(opa_bin, tmp_path / "wrong.tar.gz", revision="0" * 64)
    bundle = signed(wrong, tmp_path, keys["rsa.pem"], "RS256")
    assert_refused(verify_cli(bundle, keys["rsa.pub"]), "not the manifest revision " + "0" * 64)


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "private", "pem-for-hmac"])
def test_unusable_verification_key(
    unsigned: Path, tmp_path: Path, keys: dict[str, Path], case: str
) -> None:
    bundle = signed(unsigned, tmp_path, keys["rsa.pem"], "RS256")
    key = tmp_path / case
    extra: tuple[str, ...] = ()
    if case == "directory":
        key.mkdir()
    elif case == "empty":
        key.write_bytes(b"")
    elif case == "private":
        key = keys["rsa.pem"]
    elif case == "pem-for-hmac":
        key, extra = keys["rsa.pub"], ("--signing-alg", "HS256")
    assert_refused(verify_cli(bundle, key, *extra), str(key))


def test_not_a_bundle(tmp_path: Path, keys: dict[str, Path]) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not gzip")
    assert_refused(verify_cli(junk, keys["rsa.pub"]), "not a readable bundle")


def test_signing_with_a_key_of_the_wrong_kind(
    unsigned: Path, tmp_path: Path, keys: dict[str, Path]
) -> None:
    with pytest.raises(InputError, match=r"ec\.pem"):
        bundle_sign.sign(unsigned, tmp_path / "x.tar.gz", keys["ec.pem"], "RS256")
    with pytest.raises(InputError, match="cannot read key"):
        bundle_sign.sign(unsigned, tmp_path / "x.tar.gz", tmp_path / "absent.pem", "RS256")
    assert not (tmp_path / "x.tar.gz").exists()


def report_with_provenance(url: str) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/v1/data/main/report?provenance=true",
        data=json.dumps({"input": {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        body: dict[str, object] = json.load(response)
    return body


def test_build_signed_bundle_is_served_by_opa_with_its_key(
    tmp_path: Path,
    keys: dict[str, Path],
    opa_bin: Path,
    opa_serve: ServeFn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "tfgen-bundle.tar.gz"
    argv = ["bundle", "build", "--rules", str(REGO), "--output", str(output)]
    assert main([*argv, "--signing-key", str(keys["ec.pem"]), "--signing-alg", "ES256"]) == 0
    digest = find_pack(REGO).digest
    assert capsys.readouterr().out == (
        f"wrote {output}: rule pack {find_pack(REGO).version}, revision {digest}, signed with ES256\n"
    )
    url = opa_serve(
        output, extra=("--verification-key", str(keys["ec.pub"]), "--signing-alg", "ES256", "-b")
    )
    body = report_with_provenance(url)
    assert body["provenance"]["bundles"][str(output)]["revision"] == digest  # type: ignore[index]
    assert body["result"]["pack"]["name"] == "tfgen"  # type: ignore[index]
    other_key = ("--signing-alg", "ES256", "--verification-key", str(keys["ec-other.pub"]))
    refused = subprocess.run(
        [str(opa_bin), "run", "--server", "--addr=127.0.0.1:0", *other_key, "-b", str(output)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "failed to verify JWT signature" in refused.stdout + refused.stderr


def test_build_refuses_bad_input(
    tmp_path: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "b.tar.gz"
    base = ["bundle", "build", "--rules", str(REGO), "--output", str(output)]
    cases = {
        "needs --signing-key": ["--signing-alg", "HS256"],
        "absent.pem: cannot read key": ["--signing-key", str(tmp_path / "absent.pem")],
        "cannot sign the bundle with RS256": ["--signing-key", str(keys["ec.pem"])],
        "HS256 takes a shared secret": [
            "--signing-key",
            str(keys["rsa.pem"]),
            "--signing-alg",
            "HS256",
        ],
    }
    for reason, extra in cases.items():
        assert main([*base, *extra]) == 2, reason
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1, err
        assert not output.exists()
    output.write_text("mine", encoding="utf-8")
    assert main(base) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert output.read_text(encoding="utf-8") == "mine"
    assert main([*base, "--force"]) == 0
    assert tarfile.is_tarfile(output)


def test_build_with_extra_rules_verifies_and_carries_them(
    tmp_path: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "org.tar.gz"
    extra = ROOT / "examples" / "extra-rules"
    argv = ["bundle", "build", "--rules", str(REGO), "--output", str(output)]
    assert main([*argv, "--extra-rules", str(extra), "--signing-key", str(keys["rsa.pem"])]) == 0
    verified = bundle_sign.verify(output, keys["rsa.pub"], "RS256")
    assert verified.revision != find_pack(REGO).digest  # the merged pack has its own digest
    with tarfile.open(output) as tar:
        assert "/tfgen/rules/org/key_owner/key_owner.rego" in tar.getnames()
    capsys.readouterr()
