#!/usr/bin/env bash
# Prepare this machine for the gates and tests; idempotent, and the only script that installs.
# Changes on the machine: .venv/ in the checkout (requirements-dev.lock, hash-checked, then tfgen
# editable); the pinned OPA, conftest and actionlint builds and k8s-validate (scripts/k8s-validate,
# modules checked against its go.sum) under ~/.cache/tfgen/bin (TFGEN_CACHE_DIR); Debian's
# shellcheck and jq via apt-get when missing;
# when no Docker engine answers, Debian's docker.io and docker-compose via apt-get and dockerd
# started as root in the background; the local OPA image tfgen/opa:<version>-static-local; the
# local nginx image tfgen/nginx:bookworm-local (Debian's debootstrap via apt-get when missing, a
# minbase rootfs cached under ~/.cache/tfgen, rebuilt only when its recipe changes); GNU time
# (the benchmark's peak-RSS measure, which tests/test_bench.py runs at small size) via apt-get.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/install-docker.sh >/dev/null
bash scripts/install-nginx-image.sh >/dev/null
bash scripts/install-conftest.sh >/dev/null
bash scripts/install-actionlint.sh >/dev/null
bash scripts/install-k8s-validate.sh >/dev/null
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
log "machine ready: run bash scripts/test.sh"
