#!/usr/bin/env bash
# Set everything up, then open JupyterLab on the demo notebook.
#
#   MLVC_DEMO_IP=0.0.0.0 bash scripts/demo.sh   # listen on every interface (default 127.0.0.1)
#   bash scripts/demo.sh --no-browser         # extra arguments go to `jupyter lab`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate

args=(--ServerApp.ip="${MLVC_DEMO_IP:-127.0.0.1}")
if [ "$(id -u)" = 0 ]; then
  args+=(--allow-root)
fi
# Serve binder/ so the file browser shows the demo, not the whole checkout.
cd binder
exec jupyter lab "${args[@]}" "$@" demo.ipynb
