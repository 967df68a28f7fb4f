#!/usr/bin/env bash
# Build scripts/k8s-validate (strict decoding of Kubernetes manifests into k8s.io/api types, for
# the README's Kubernetes sketch) from the Go module proxy; every module is checked against the
# committed go.sum. Cached: rebuilt only when its sources change. Prints the binary's path.
source "$(dirname "$0")/lib.sh"
src="$ROOT/scripts/k8s-validate"
key="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
out="$CACHE/bin/k8s-validate-$key"
if [ ! -x "$out" ]; then
  log "k8s-validate: building from $src (log: $CACHE/k8s-validate.log)"
  mkdir -p "$CACHE/bin"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$out.tmp" .) \
    >"$CACHE/k8s-validate.log" 2>&1 || { tail -5 "$CACHE/k8s-validate.log" >&2; exit 1; }
  mv "$out.tmp" "$out"
fi
ln -sf "$out" "$CACHE/bin/k8s-validate"
echo "$CACHE/bin/k8s-validate"
