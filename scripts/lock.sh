#!/usr/bin/env bash
# Regenerate requirements.lock and requirements-dev.lock, with hashes, after a dependency change in
# pyproject.toml. Needs `uv` (from PyPI) on PATH. Versions already locked are kept where they still
# satisfy pyproject.toml; `bash scripts/lock.sh --upgrade` moves everything to the newest.
source "$(dirname "$0")/lib.sh"
uv_args=("$@")
# setuptools builds tfgen (PyYAML, the other build requirement, is a runtime dependency): the installs
# build without isolation, so the build backend is locked and hashed like everything else.
build_requirements='setuptools>=68'
compile() {
  local out="$1" header="$2"
  shift 2
  local tmp="$ROOT/.$out.tmp"
  grep -v '^#' "$ROOT/$out" >"$tmp" 2>/dev/null || true
  printf '%s\n' "$build_requirements" | uv pip compile --quiet --universal --generate-hashes \
    --no-header --annotation-style line "${uv_args[@]}" "$ROOT/pyproject.toml" - "$@" -o "$tmp"
  { printf '%s\n' "$header"; cat "$tmp"; } >"$ROOT/$out"
  rm -f "$tmp"
  log "wrote $out"
}
cd "$ROOT" || exit 1
compile requirements.lock "# tfgen's runtime, \`terraform\` extra and build dependencies, with hashes (scripts/lock.sh writes it).
# pip install --require-hashes -r requirements.lock, then tfgen itself with --no-deps --no-build-isolation." \
  --extra terraform
compile requirements-dev.lock "# requirements.lock plus the \`dev\` extra, with hashes (scripts/lock.sh writes it); scripts/setup.sh
# installs it with --require-hashes, then tfgen editable with --no-deps --no-build-isolation." \
  --extra terraform --extra dev -c requirements.lock
