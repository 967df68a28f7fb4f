#!/usr/bin/env bash
# Build the pinned OPA from the Go module proxy (static, CGO off) into the cache; reuse it when present.
source "$(dirname "$0")/lib.sh"
if [ -x "$OPA_BIN" ] && "$OPA_BIN" version | grep -qx "Version: $OPA_VERSION"; then
  log "opa $OPA_VERSION: cached at $OPA_BIN"
else
  log "opa $OPA_VERSION: building from the Go module proxy (takes ~2 minutes)"
  go_build github.com/open-policy-agent/opa "$OPA_VERSION" "$OPA_BIN" \
    "-X github.com/open-policy-agent/opa/v1/version.Version=$OPA_VERSION"
  "$OPA_BIN" version | grep -qx "Version: $OPA_VERSION"
fi
ln -sf "$OPA_BIN" "$CACHE/bin/opa"
# Regal, the Rego linter, is installed the same way where the Go module proxy serves it.
if [ ! -x "$CACHE/bin/regal" ] && [ -z "${TFGEN_SKIP_REGAL:-}" ]; then
  if (cd "$(mktemp -d)" && go mod init x >/dev/null 2>&1 \
      && timeout 120 go get github.com/open-policy-agent/regal@latest >/dev/null 2>&1 \
      && CGO_ENABLED=0 go build -o "$CACHE/bin/regal" github.com/open-policy-agent/regal) 2>/dev/null; then
    log "regal: built into $CACHE/bin/regal"
  else
    log "regal: not served by the Go module proxy here; 'regal lint' cannot run"
  fi
fi
echo "$OPA_BIN"
