#!/usr/bin/env bash
# Set up everything, run every quality gate, then the whole test suite against the real OPA,
# Docker engine and Terraform. Exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
TFGEN_OPA_IMAGE="$(bash scripts/install-docker.sh)"
TFGEN_CONFTEST_BIN="$(bash scripts/install-conftest.sh)"
export TFGEN_CONFTEST_BIN
export TFGEN_OPA_IMAGE TFGEN_OPA_BIN="$OPA_BIN"
export PATH="$VENV/bin:$CACHE/bin:$PATH"

log "gate: ruff"
ruff check tfgen tests bench
ruff format --check tfgen tests bench
log "gate: mypy --strict"
mypy --strict tfgen
log "gate: opa fmt / opa check --strict"
opa fmt --fail --list rego
opa check --strict rego
log "gate: opa test --coverage"
opa test rego --coverage --format=json > "$CACHE/opa-coverage.json"
python3 scripts/check-coverage.py "$CACHE/opa-coverage.json"

log "tests: pytest"
set +e
python -m pytest "$@"
rc=$?
set -e
# pytest's 5 means no test ran: that is a failure, not a pass.
[ "$rc" -eq 5 ] && { log "pytest collected no tests"; exit 1; }
exit "$rc"
