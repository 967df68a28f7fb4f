#!/usr/bin/env bash
# Run every quality gate, then the whole test suite against the real OPA, Docker engine and
# Terraform. Installs nothing: scripts/setup-machine.sh prepares the machine. Exits non-zero on any
# failure.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ -x "$VENV/bin/python" ] || { log "no $VENV: run bash scripts/setup-machine.sh first"; exit 1; }
export TFGEN_OPA_BIN="${TFGEN_OPA_BIN:-$OPA_BIN}"
export TFGEN_OPA_IMAGE="${TFGEN_OPA_IMAGE:-tfgen/opa:$OPA_VERSION-static-local}"
export TFGEN_NGINX_IMAGE="${TFGEN_NGINX_IMAGE:-tfgen/nginx:bookworm-local}"
export TFGEN_K8S_VALIDATE_BIN="${TFGEN_K8S_VALIDATE_BIN:-$CACHE/bin/k8s-validate}"
export TFGEN_CONFTEST_BIN="${TFGEN_CONFTEST_BIN:-$CACHE/bin/conftest-$(pin conftest)}"
ACTIONLINT="$CACHE/bin/actionlint-$(pin actionlint)"
export PATH="$VENV/bin:$CACHE/bin:$PATH"

log "gate: ruff"
ruff check tfgen tests bench scripts
ruff format --check tfgen tests bench scripts
log "gate: mypy --strict"
mypy --strict tfgen tests bench scripts
log "gate: opa fmt / opa check --strict"
opa fmt --fail --list rego deploy/opa
opa check --strict rego
opa check --strict deploy/opa
log "gate: actionlint (with shellcheck) on the example workflows, shellcheck on action.yml"
"$ACTIONLINT" -shellcheck shellcheck examples/ci/github-*.yml
python scripts/lint-action.py action.yml
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
