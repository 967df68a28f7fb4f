#!/usr/bin/env bash
# Build the pinned conftest from the Go module proxy into the cache (tests check the pack runs
# under it unchanged); reuse it when present.
source "$(dirname "$0")/lib.sh"
CONFTEST_VERSION="$(pin conftest)"
bin="$CACHE/bin/conftest-$CONFTEST_VERSION"
if [ ! -x "$bin" ]; then
  log "conftest $CONFTEST_VERSION: building from the Go module proxy (a few minutes)"
  work="$CACHE/build/conftest-$CONFTEST_VERSION"
  rm -rf "$work" && mkdir -p "$work" "$CACHE/bin"
  (
    cd "$work"
    go mod init tfgen-conftest-build >/dev/null 2>&1
    go get "github.com/open-policy-agent/conftest@v$CONFTEST_VERSION" >/dev/null 2>&1
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin.tmp" github.com/open-policy-agent/conftest
  )
  mv "$bin.tmp" "$bin"
fi
ln -sf "$bin" "$CACHE/bin/conftest"
echo "$bin"
