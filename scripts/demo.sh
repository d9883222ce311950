#!/usr/bin/env bash
# Set everything up, then open JupyterLab on the demo notebook (binder/01-getting-started.ipynb).
#
#   MLVC_DEMO_IP=0.0.0.0 bash scripts/demo.sh   # listen on every interface (default 127.0.0.1)
#   MLVC_DEMO_PORT=8890 bash scripts/demo.sh    # another port (default 8888)
#   MLVC_DEMO_SETUP=0 bash scripts/demo.sh      # skip scripts/setup.sh (it ran before)
#   bash scripts/demo.sh --no-browser           # extra arguments go to `jupyter lab`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${MLVC_DEMO_SETUP:-1}" != 0 ]; then
  bash scripts/setup.sh
fi
# shellcheck disable=SC1091
. .venv/bin/activate

args=(--ServerApp.ip="${MLVC_DEMO_IP:-127.0.0.1}" --ServerApp.port="${MLVC_DEMO_PORT:-8888}")
if [ "$(id -u)" = 0 ]; then
  args+=(--allow-root)
fi
# Serve binder/ so the file browser shows the demo notebooks, not the whole checkout; their
# commits go to binder/.mlvc (ignored by git).
cd binder
exec jupyter lab "${args[@]}" "$@" 01-getting-started.ipynb
