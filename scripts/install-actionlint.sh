#!/usr/bin/env bash
# Build the pinned actionlint from the Go module proxy into the cache, and install Debian's
# shellcheck (actionlint runs it on every `run:` script) and jq (the action's comment step filter,
# which its tests run). Prints the actionlint path.
source "$(dirname "$0")/lib.sh"
ACTIONLINT_VERSION="$(pin actionlint)"
bin="$CACHE/bin/actionlint-$ACTIONLINT_VERSION"
if [ ! -x "$bin" ]; then
  log "actionlint $ACTIONLINT_VERSION: building from the Go module proxy"
  go_build github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" "$bin" \
    "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" "$(pin actionlint_module_sum)"
fi
missing=()
for tool in shellcheck jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "${missing[*]}: installing Debian's packages"
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
echo "$bin"
