"""Fail unless `opa test --coverage --format=json` reports every policy line covered.

Test files and the test-builder package (any `testing/` directory, as `opa build --ignore`
excludes it from the pack) are not policy and do not count.
"""

import json
import sys
from pathlib import Path


def test_only(name: str) -> bool:
    path = Path(name)
    return path.name.endswith("_test.rego") or "testing" in path.parent.parts


def rows(ranges: list[dict[str, dict[str, int]]]) -> int:
    return sum(r["end"]["row"] - r["start"]["row"] + 1 for r in ranges)


report = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
files = {name: data for name, data in report.get("files", {}).items() if not test_only(name)}
missed = {
    name: [r["start"]["row"] for r in data.get("not_covered", [])]
    for name, data in files.items()
    if data.get("not_covered")
}
covered = sum(rows(data.get("covered", [])) for data in files.values())
total = covered + sum(rows(data.get("not_covered", [])) for data in files.values())
print(f"opa test coverage of the policy files: {100 * covered / max(total, 1):.1f}%")
for name, lines in sorted(missed.items()):
    print(f"  not covered: {name} lines {lines}")
sys.exit(1 if missed or not files else 0)
