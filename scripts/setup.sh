#!/usr/bin/env bash
# Everything tfgen and its tests need on a fresh machine: a venv with tfgen, the pinned OPA build.
source "$(dirname "$0")/lib.sh"
if [ ! -x "$VENV/bin/python" ]; then
  log "python: creating $VENV"
  python3 -m venv "$VENV"
fi
log "python: installing tfgen with its Terraform and dev extras"
# Install within the locked dependency set.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[terraform,dev]" \
  -c "$ROOT/requirements.lock"
bash "$ROOT/scripts/install-opa.sh" >/dev/null
