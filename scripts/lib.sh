# Shared by the scripts: pinned versions, the cache outside the repo, logging.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TFGEN_CACHE_DIR:-$HOME/.cache/tfgen}"
pin() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$ROOT/tfgen/toolchain.json" "$1"; }
OPA_VERSION="$(pin opa)"
OPA_BIN="$CACHE/bin/opa-$OPA_VERSION"
VENV="${TFGEN_VENV:-$ROOT/.venv}"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# go_build MODULE VERSION OUT LDFLAGS SUM: build a Go command, static, as a dependency of a throw-away
# module (`go install module@v` refuses modules whose go.mod has replace directives; this does not).
# SUM is the module's pinned go.sum hash (h1:...); a module whose hash differs is not built.
go_build() {
  local module="$1" version="$2" out="$3" ldflags="${4:-}" pinned="$5"
  local work
  work="$CACHE/build/$(basename "$module")-$version"
  rm -rf "$work" && mkdir -p "$work" "$(dirname "$out")"
  (
    cd "$work"
    go mod init "tfgen-build-$(basename "$module")" >/dev/null 2>&1
    go get "$module@v$version" >/dev/null 2>&1
    local sum modpath
    modpath="$(go list -f '{{.Module.Path}}' "$module")"
    sum="$(go mod download -json "$modpath@v$version" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p')"
    if [ "$sum" != "$pinned" ]; then
      log "$module@v$version: module sum $sum is not the pinned $pinned"
      exit 1
    fi
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$module"
  )
  mv "$out.tmp" "$out"
}
