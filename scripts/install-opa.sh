#!/usr/bin/env bash
# Build the pinned OPA from the Go module proxy (static, CGO off) into the cache; reuse it when present.
source "$(dirname "$0")/lib.sh"
if [ -x "$OPA_BIN" ] && grep -qx "Version: $OPA_VERSION" <<<"$("$OPA_BIN" version)"; then
  log "opa $OPA_VERSION: cached at $OPA_BIN"
else
  log "opa $OPA_VERSION: building from the Go module proxy (takes ~2 minutes)"
  go_build github.com/open-policy-agent/opa "$OPA_VERSION" "$OPA_BIN" \
    "-X github.com/open-policy-agent/opa/v1/version.Version=$OPA_VERSION" "$(pin opa_module_sum)"
  grep -qx "Version: $OPA_VERSION" <<<"$("$OPA_BIN" version)"
fi
ln -sf "$OPA_BIN" "$CACHE/bin/opa"
echo "$OPA_BIN"
