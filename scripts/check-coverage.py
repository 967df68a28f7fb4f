"""Fail unless `opa test --coverage --format=json` reports every rule line covered."""

import json
import sys
from pathlib import Path

report = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
missed = {
    name: [r["start"]["row"] for r in data.get("not_covered", [])]
    for name, data in report.get("files", {}).items()
    if data.get("not_covered") and not name.endswith("_test.rego")
}
print(f"opa test coverage: {report.get('coverage', 0):.1f}%")
for name, rows in sorted(missed.items()):
    print(f"  not covered: {name} lines {rows}")
sys.exit(1 if missed or not report.get("files") else 0)
