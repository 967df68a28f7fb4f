# Shared by the scripts: pinned versions, the cache outside the repo, logging.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TFGEN_CACHE_DIR:-$HOME/.cache/tfgen}"
pin() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$ROOT/tfgen/toolchain.json" "$1"; }
OPA_VERSION="$(pin opa)"
OPA_BIN="$CACHE/bin/opa-$OPA_VERSION"
VENV="${TFGEN_VENV:-$ROOT/.venv}"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
