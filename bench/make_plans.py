"""Build real-shaped Terraform plans of 1,000 to 50,000 resources for the benchmarks.

Real Terraform plans one 20-resource unit (bench/fixture: KMS keys that pass and fail, a CloudTrail
using a key, one without, unrelated S3/IAM/SNS/SQS/logs resources, a child module). The plan's
resource_changes, configuration, planned_values and relevant_attributes are replicated per unit with
a renamed token, so every copy has its own addresses and references. `--verify-real` also plans a real
1,000-resource module (50 units written as HCL) with Terraform and checks that the synthetic plan of
the same size is identical to it after ordering.

Plans go under ~/.cache/tfgen/bench/plans (never into git).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tfgen.cli import toolchain  # noqa: E402
from tfgen.terraform import OFFLINE_PROVIDER_BLOCK, Terraform, offline  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixture"
MARK = "u00000"
UNIT_RESOURCES = 20
OUT = toolchain().cache_dir / "bench" / "plans"
SIZES = (1, 20, 1_000, 10_000, 50_000)
# Two batches of 100-resource plans: "batch" for throughput, "many" for memory over a long batch.
BATCH_PLANS = 200
MANY_PLANS = 1_000
BATCH_RESOURCES = 100
# The one-resource plan (fixed cost): the unit's CloudTrail key alone.
ONE_RESOURCE = f"aws_kms_key.trail_{MARK}"

# aws_kms_key_policy appeared in AWS provider 4.x; the offline mirror has 3.39.0. One entry per unit
# is therefore derived from the planned aws_kms_key.open key, in the schema of the later provider.
KEY_POLICY_ADDRESS = f"aws_kms_key_policy.open_{MARK}"


def _fixture_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(FIXTURE.rglob("*.tf")):
        digest.update(str(path.relative_to(FIXTURE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _plan_dir(directory: Path) -> tuple[dict[str, Any], float]:
    (directory / "tfgen_offline_provider.tf").write_text(OFFLINE_PROVIDER_BLOCK, encoding="utf-8")
    terraform = offline(Terraform.find(None, os.environ), toolchain=toolchain())
    start = time.perf_counter()
    plan = terraform.plan_json(directory)
    return plan, time.perf_counter() - start


def base_plan() -> dict[str, Any]:
    """The Terraform-made plan of one unit, cached by the fixture's content."""
    cached = OUT / f"unit-{_fixture_digest()}.json"
    if cached.is_file():
        plan: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return plan
    with tempfile.TemporaryDirectory(prefix="tfgen-bench-unit-") as tmp:
        work = Path(tmp) / "unit"
        shutil.copytree(FIXTURE, work)
        plan, seconds = _plan_dir(work)
    print(
        f"planned the {UNIT_RESOURCES}-resource unit with Terraform in {seconds:.1f}s",
        file=sys.stderr,
    )
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(plan), encoding="utf-8")
    return plan


def _with_key_policy(plan: dict[str, Any]) -> dict[str, Any]:
    """Add the derived aws_kms_key_policy entry (resource change, configuration, planned values)."""
    plan = copy.deepcopy(plan)
    key_address = f"aws_kms_key.open_{MARK}"
    key_rc = next(rc for rc in plan["resource_changes"] if rc["address"] == key_address)
    policy = key_rc["change"]["after"]["policy"]
    after = {"bypass_policy_lockout_safety_check": False, "policy": policy}
    plan["resource_changes"].append(
        {
            "address": KEY_POLICY_ADDRESS,
            "mode": "managed",
            "type": "aws_kms_key_policy",
            "name": f"open_{MARK}",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {
                "actions": ["create"],
                "before": None,
                "after": after,
                "after_unknown": {"id": True, "key_id": True},
                "before_sensitive": False,
                "after_sensitive": {},
            },
        }
    )
    root = plan["configuration"]["root_module"]
    root["resources"].append(
        {
            "address": KEY_POLICY_ADDRESS,
            "mode": "managed",
            "type": "aws_kms_key_policy",
            "name": f"open_{MARK}",
            "provider_config_key": "aws",
            "expressions": {
                "key_id": {"references": [f"{key_address}.id", key_address]},
                "policy": {"references": [f"local.open_key_policy_{MARK}"]},
            },
            "schema_version": 0,
        }
    )
    plan["planned_values"]["root_module"]["resources"].append(
        {
            "address": KEY_POLICY_ADDRESS,
            "mode": "managed",
            "type": "aws_kms_key_policy",
            "name": f"open_{MARK}",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": after,
            "sensitive_values": {},
        }
    )
    plan["relevant_attributes"].append({"resource": key_address, "attribute": ["id"]})
    return plan


class Replicator:
    """Copies of the unit's per-resource entries with the marker renamed: u00000 -> u00001 ..."""

    def __init__(self, unit: dict[str, Any]) -> None:
        self.unit = unit
        root_cfg = unit["configuration"]["root_module"]
        root_pv = unit["planned_values"]["root_module"]
        self.parts = {
            "rc": json.dumps(unit["resource_changes"]),
            "cfg_resources": json.dumps(root_cfg.get("resources", [])),
            "cfg_calls": json.dumps(root_cfg.get("module_calls", {})),
            "pv_resources": json.dumps(root_pv.get("resources", [])),
            "pv_children": json.dumps(root_pv.get("child_modules", [])),
            "relevant": json.dumps(unit.get("relevant_attributes", [])),
        }
        for name, text in self.parts.items():
            if name != "relevant" and MARK not in text:
                raise SystemExit(f"fixture: marker {MARK} missing from {name}")

    def copy(self, index: int) -> dict[str, Any]:
        token = f"u{index:05d}"
        return {k: json.loads(v.replace(MARK, token)) for k, v in self.parts.items()}

    def plan(self, first: int, units: int) -> dict[str, Any]:
        plan = {k: v for k, v in self.unit.items() if k not in ("timestamp",)}
        plan = copy.deepcopy(plan)
        rc: list[Any] = []
        cfg_resources: list[Any] = []
        cfg_calls: dict[str, Any] = {}
        pv_resources: list[Any] = []
        pv_children: list[Any] = []
        relevant: list[Any] = []
        for index in range(first, first + units):
            part = self.copy(index)
            rc += part["rc"]
            cfg_resources += part["cfg_resources"]
            cfg_calls.update(part["cfg_calls"])
            pv_resources += part["pv_resources"]
            pv_children += part["pv_children"]
            relevant += part["relevant"]
        plan["resource_changes"] = sorted(rc, key=lambda r: r["address"])
        root_cfg = plan["configuration"]["root_module"]
        root_cfg["resources"] = sorted(cfg_resources, key=lambda r: r["address"])
        root_cfg["module_calls"] = dict(sorted(cfg_calls.items()))
        root_pv = plan["planned_values"]["root_module"]
        root_pv["resources"] = sorted(pv_resources, key=lambda r: r["address"])
        root_pv["child_modules"] = sorted(pv_children, key=lambda m: m["address"])
        plan["relevant_attributes"] = relevant
        plan["timestamp"] = self.unit.get("timestamp")
        return plan


def one_resource(unit: dict[str, Any]) -> dict[str, Any]:
    """The unit's plan cut down to one KMS key: its change, configuration and planned values."""
    plan = copy.deepcopy(unit)
    plan["resource_changes"] = [
        rc for rc in plan["resource_changes"] if rc["address"] == ONE_RESOURCE
    ]
    root_cfg = plan["configuration"]["root_module"]
    root_cfg["resources"] = [r for r in root_cfg["resources"] if r["address"] == ONE_RESOURCE]
    root_cfg["module_calls"] = {}
    root_cfg.pop("outputs", None)
    root_pv = plan["planned_values"]["root_module"]
    root_pv["resources"] = [r for r in root_pv["resources"] if r["address"] == ONE_RESOURCE]
    root_pv["child_modules"] = []
    plan["relevant_attributes"] = []
    return plan


def write_batch(full: Replicator, directory: Path, plans: int) -> None:
    """`plans` plans of BATCH_RESOURCES resources, each with its own units (and addresses)."""
    for old in directory.glob("plan-*.json"):
        old.unlink()
    per_plan = BATCH_RESOURCES // UNIT_RESOURCES
    for i in range(plans):
        write_plan(full.plan(i * per_plan, per_plan), directory / f"plan-{i:04d}.json")


def write_plan(plan: dict[str, Any], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(plan, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    return len(text)


def _normalised(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan with run-specific fields dropped and every list keyed by address sorted."""
    plan = {k: v for k, v in plan.items() if k != "timestamp"}
    plan = copy.deepcopy(plan)
    plan["resource_changes"].sort(key=lambda r: r["address"])
    plan["configuration"]["root_module"]["resources"].sort(key=lambda r: r["address"])
    plan["planned_values"]["root_module"]["resources"].sort(key=lambda r: r["address"])
    plan["planned_values"]["root_module"]["child_modules"].sort(key=lambda m: m["address"])
    plan["relevant_attributes"].sort(key=lambda a: json.dumps(a, sort_keys=True))
    plan["configuration"]["root_module"]["module_calls"] = dict(
        sorted(plan["configuration"]["root_module"]["module_calls"].items())
    )
    return plan


def verify_real(replicator: Replicator, size: int) -> dict[str, Any]:
    """Plan `size` resources with real Terraform and compare with the synthetic plan."""
    units = size // UNIT_RESOURCES
    with tempfile.TemporaryDirectory(prefix="tfgen-bench-real-") as tmp:
        work = Path(tmp) / "real"
        shutil.copytree(FIXTURE / "child", work / "child")
        text = (FIXTURE / "main.tf").read_text(encoding="utf-8")
        (work / "main.tf").write_text(
            "\n".join(text.replace(MARK, f"u{i:05d}") for i in range(units)), encoding="utf-8"
        )
        print(f"planning the real {units * UNIT_RESOURCES}-resource module ...", file=sys.stderr)
        real, seconds = _plan_dir(work)
    real_count = len(real["resource_changes"])
    synthetic = replicator.plan(0, units)
    real_n, synth_n = _normalised(real), _normalised(synthetic)
    identical = real_n == synth_n
    differing = sorted(k for k in set(real_n) | set(synth_n) if real_n.get(k) != synth_n.get(k))
    (OUT / f"real-{real_count}.json").write_text(json.dumps(real), encoding="utf-8")
    return {
        "resources": real_count,
        "terraform_plan_seconds": round(seconds, 1),
        "identical_to_synthetic": identical,
        "differing_keys": differing,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--out", type=Path, default=OUT, help=f"where plans go (default {OUT})")
    parser.add_argument("--no-batch", action="store_true", help="skip the batches")
    parser.add_argument("--batch-plans", type=int, default=BATCH_PLANS, help="plans in batch/")
    parser.add_argument("--many-plans", type=int, default=MANY_PLANS, help="plans in many/")
    parser.add_argument(
        "--verify-real",
        type=int,
        metavar="N",
        default=0,
        help="also plan a real N-resource module and compare (N multiple of 20)",
    )
    args = parser.parse_args(argv)

    unit = base_plan()
    if len(unit["resource_changes"]) != UNIT_RESOURCES - 1:
        raise SystemExit(f"fixture planned {len(unit['resource_changes'])} resources, expected 19")
    full = Replicator(_with_key_policy(unit))
    out: Path = args.out
    manifest_path = out / "manifest.json"
    manifest: dict[str, Any] = {"unit_resources": UNIT_RESOURCES, "plans": {}}
    if manifest_path.is_file():  # later runs add to what earlier ones recorded
        manifest = {**manifest, **json.loads(manifest_path.read_text(encoding="utf-8"))}
    for size in args.sizes:
        if size != 1 and size % UNIT_RESOURCES:
            raise SystemExit(f"--sizes: {size} is neither 1 nor a multiple of {UNIT_RESOURCES}")
        plan = one_resource(unit) if size == 1 else full.plan(0, size // UNIT_RESOURCES)
        path = out / f"plan-{size}.json"
        nbytes = write_plan(plan, path)
        count = len(plan["resource_changes"])
        in_modules = sum(rc["address"].startswith("module.") for rc in plan["resource_changes"])
        types: dict[str, int] = {}
        for rc in plan["resource_changes"]:
            types[rc["type"]] = types.get(rc["type"], 0) + 1
        manifest["plans"][str(size)] = {
            "path": str(path),
            "bytes": nbytes,
            "resources": count,
            "in_child_modules": in_modules,
            "types": dict(sorted(types.items())),
        }
        print(f"{path}: {count} resources, {nbytes / 1e6:.1f} MB", file=sys.stderr)
    if not args.no_batch:
        for name, count in (("batch", args.batch_plans), ("many", args.many_plans)):
            write_batch(full, out / name, count)
            manifest[name] = {"dir": str(out / name), "plans": count, "resources": BATCH_RESOURCES}
            print(f"{out / name}: {count} plans of {BATCH_RESOURCES} resources", file=sys.stderr)
    if args.verify_real:
        manifest["real"] = verify_real(Replicator(unit), args.verify_real)
        print(f"real plan check: {manifest['real']}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
