#!/usr/bin/env bash
# Everything tfgen and its tests need on a fresh machine: a venv with tfgen, the pinned OPA build.
source "$(dirname "$0")/lib.sh"
if [ ! -x "$VENV/bin/python" ]; then
  log "python: creating $VENV"
  python3 -m venv "$VENV"
fi
log "python: installing the locked dependencies (hash-checked), then tfgen editable"
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# Every dependency, the build backend included, comes from the lock and must match its hashes; tfgen
# itself is then built from the checkout without fetching anything (no deps, no build isolation).
"${pip[@]}" --require-hashes -r "$ROOT/requirements-dev.lock"
"${pip[@]}" --no-deps --no-build-isolation -e "$ROOT"
bash "$ROOT/scripts/install-opa.sh" >/dev/null
