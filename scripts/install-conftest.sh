#!/usr/bin/env bash
# Build the pinned conftest from the Go module proxy into the cache (tests check the pack runs
# under it unchanged); reuse it when present.
source "$(dirname "$0")/lib.sh"
CONFTEST_VERSION="$(pin conftest)"
bin="$CACHE/bin/conftest-$CONFTEST_VERSION"
if [ ! -x "$bin" ]; then
  log "conftest $CONFTEST_VERSION: building from the Go module proxy (a few minutes)"
  go_build github.com/open-policy-agent/conftest "$CONFTEST_VERSION" "$bin" "" "$(pin conftest_module_sum)"
fi
ln -sf "$bin" "$CACHE/bin/conftest"
echo "$bin"
