#!/usr/bin/env bash
# The peers the benchmark compares with: Checkov 3.3.30 in its own venv, conftest built from the Go
# module proxy by scripts/install-conftest.sh (pinned in tfgen/toolchain.json); both live in the
# cache, never in the repo.
source "$(dirname "$0")/../scripts/lib.sh"
CHECKOV_VERSION=3.3.30
BENCH="$CACHE/bench"
mkdir -p "$BENCH" "$CACHE/bin"
if ! "$BENCH/checkov-venv/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  log "checkov $CHECKOV_VERSION: installing into $BENCH/checkov-venv"
  python3 -m venv "$BENCH/checkov-venv"
  "$BENCH/checkov-venv/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
bin="$(bash "$ROOT/scripts/install-conftest.sh" || true)"
log "peers: checkov $("$BENCH/checkov-venv/bin/checkov" --version), conftest $([ -x "$bin" ] && "$bin" --version | head -1 || echo missing)"
