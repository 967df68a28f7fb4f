#!/usr/bin/env bash
# The peers the benchmark compares with: Checkov 3.3.30 in its own venv, conftest built from the Go
# module proxy like OPA (scripts/install-opa.sh). Both live in the cache, never in the repo.
source "$(dirname "$0")/../scripts/lib.sh"
CHECKOV_VERSION=3.3.30
CONFTEST_VERSION="${TFGEN_CONFTEST_VERSION:-0.71.1}"
BENCH="$CACHE/bench"
mkdir -p "$BENCH" "$CACHE/bin"
if ! "$BENCH/checkov-venv/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  log "checkov $CHECKOV_VERSION: installing into $BENCH/checkov-venv"
  python3 -m venv "$BENCH/checkov-venv"
  "$BENCH/checkov-venv/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
bin="$CACHE/bin/conftest-$CONFTEST_VERSION"
if [ ! -x "$bin" ]; then
  log "conftest $CONFTEST_VERSION: building from the Go module proxy (several minutes)"
  work="$CACHE/build/conftest-$CONFTEST_VERSION"
  rm -rf "$work" && mkdir -p "$work"
  if (cd "$work" && go mod init tfgen-conftest-build >/dev/null 2>&1 \
      && go get "github.com/open-policy-agent/conftest@v$CONFTEST_VERSION" >/dev/null 2>&1 \
      && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin.tmp" github.com/open-policy-agent/conftest); then
    mv "$bin.tmp" "$bin"
  else
    log "conftest: the Go module proxy did not serve or build conftest $CONFTEST_VERSION; it is left out"
  fi
fi
[ -x "$bin" ] && ln -sf "$bin" "$CACHE/bin/conftest"
log "peers: checkov $("$BENCH/checkov-venv/bin/checkov" --version), conftest $([ -x "$bin" ] && "$bin" --version | head -1 || echo missing)"
