"""Audit the locked dependency set with pip-audit; never report "no vulnerabilities" for a set it could not check.

pip-audit exits 0 and prints "No known vulnerabilities found" when its vulnerability service cannot
look a package up (it then only lists a skip reason). This wrapper reads pip-audit's JSON instead:
  - a known vulnerability in an audited package: list it, exit 1 (fails CI and local runs);
  - packages that could not be audited (service unreachable, version unknown to it): say NOT RUN
    loudly with the count and reason, exit 0, or 1 with TFGEN_AUDIT_STRICT=1;
  - everything audited and clean: say so with the count, exit 0.
It tries PyPI's vulnerability data first and OSV when PyPI audited nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def audit(lock: Path, service: str) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report for lock with one service, or None and the reason it gave none."""
    cmd = [
        sys.executable,
        "-m",
        "pip_audit",
        "--no-deps",
        "--disable-pip",
        "--progress-spinner=off",
        "--format=json",
        "--vulnerability-service",
        service,
        "--requirement",
        str(lock),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return None, f"{service}: pip-audit timed out"
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        return (
            None,
            f"{service}: {lines[-1][:200] if lines else f'pip-audit exited {proc.returncode}'}",
        )
    return report, ""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: audit-deps.py LOCKFILE", file=sys.stderr)
        return 2
    lock = Path(argv[0])
    pins = [
        ln.split("#")[0].strip()
        for ln in lock.read_text(encoding="utf-8").splitlines()
        if ln.split("#")[0].strip()
    ]
    if not pins or any("==" not in p for p in pins):
        print(f"{lock}: every line must pin name==version", file=sys.stderr)
        return 2
    strict = os.environ.get("TFGEN_AUDIT_STRICT", "") in ("1", "true", "yes")
    reasons: list[str] = []
    report: dict[str, Any] | None = None
    for service in ("pypi", "osv"):
        report, reason = audit(lock, service)
        if report is not None:
            audited = [d for d in report["dependencies"] if "skip_reason" not in d]
            if audited:
                break
            skipped = report["dependencies"]
            reason = f"{service}: " + (skipped[0]["skip_reason"] if skipped else "nothing audited")
        reasons.append(reason)
        report = None
    if report is None:
        print(f"pip-audit: NOT RUN for all {len(pins)} locked packages: the vulnerability")
        print(
            "  services are unreachable from this machine; no claim is made about vulnerabilities"
        )
        for reason in reasons:
            print(f"  {reason}")
        return 1 if strict else 0
    deps = report["dependencies"]
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"pip-audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(deps) - len(skipped)
    if skipped:
        print(f"pip-audit: NOT RUN for {len(skipped)} of {len(deps)} packages:")
        for dep in skipped:
            print(f"  {dep['skip_reason']}")
    if vulnerable:
        print(
            f"pip-audit: {len(vulnerable)} of {audited} audited packages have known vulnerabilities"
        )
        return 1
    print(f"pip-audit: {audited} packages audited, no known vulnerabilities")
    return 1 if (skipped and strict) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
