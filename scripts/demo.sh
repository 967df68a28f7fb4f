#!/usr/bin/env bash
# The main job on a fresh machine: set up, generate the module, plan its example with the real
# Terraform (offline), and check that plan on the embedded engine. Output lands in $TFGEN_DEMO_DIR.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
export PATH="$VENV/bin:$PATH"
out="${TFGEN_DEMO_DIR:-$CACHE/demo}"
mkdir -p "$out"

log "demo: tfgen generate --out $out/cloudtrail-kms-key"
tfgen generate --out "$out/cloudtrail-kms-key" --force
log "demo: tfgen plan --offline (Terraform init/plan/show with the mirrored AWS provider)"
tfgen plan --offline "$out/cloudtrail-kms-key/examples/basic" --save-plan "$out/plan.json" \
  --format markdown --output "$out/plan-report.md" --force
log "demo: tfgen check $out/plan.json (embedded engine)"
set +e
tfgen check "$out/plan.json"
rc=$?
set -e
log "demo: exit $rc (0: no blocking finding, 1: blocking findings, 2: error); Markdown report: $out/plan-report.md"
[ "$rc" -le 1 ]
