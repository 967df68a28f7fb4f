#!/usr/bin/env bash
# Make a Docker engine answer (install Debian's docker.io and start dockerd as root when none does),
# then build the local OPA image from the static binary, since no image registry is reachable here.
source "$(dirname "$0")/lib.sh"
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1; then
    log "docker: installing Debian's docker.io and docker-compose"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null
  fi
  mkdir -p "$CACHE"
  # A dockerd killed with the previous session leaves its pid file behind.
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
  done
  log "docker: starting dockerd (log: $CACHE/dockerd.log)"
  nohup dockerd >"$CACHE/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -5 "$CACHE/dockerd.log" >&2; log "docker: engine did not start"; exit 1; }
fi
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
image="tfgen/opa:$OPA_VERSION-static-local"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  log "docker: building $image from $OPA_BIN"
  ctx="$(mktemp -d)"
  cp "$OPA_BIN" "$ctx/opa"
  docker build -q -t "$image" -f "$ROOT/deploy/opa/Dockerfile" "$ctx" >/dev/null
  rm -rf "$ctx"
fi
echo "$image"
