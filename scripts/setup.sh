#!/usr/bin/env bash
# The developer set-up (run by scripts/test.sh, which CI runs). Safe to run again.
#
#   Debian's Chromium (for the UI tests), .venv with the package installed in editable
#   mode and its test extras, the frontend built and linked into JupyterLab, and the
#   ui-tests project installed. Needs Python 3.11+ and Node.js 18+.
#   (The demo has its own, lighter set-up: scripts/demo.sh.)
#   PIP_CONSTRAINT=.github/constraints-oldest.txt sets up the oldest supported versions.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Keep yarn's global folder inside the checkout (gitignored), so nothing outside it is relied on.
export YARN_GLOBAL_FOLDER="$ROOT/build/yarn-global"
# Browsers cannot be downloaded here: Playwright uses Debian's Chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n==> %s\n' "$*"; }

step "Node.js (builds the frontend)"
if ! command -v node >/dev/null; then
  echo "Node.js 18 or newer is needed to build the JupyterLab extension, and \`node\` is not" >&2
  echo "on the PATH: install it (https://nodejs.org, or conda install -c conda-forge nodejs)." >&2
  exit 1
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
  echo "Node.js 18 or newer is needed; \`node --version\` says $(node --version)." >&2
  exit 1
fi
node --version

step "Chromium"
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
/usr/bin/chromium --version

step "Python virtual environment (.venv)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q -U pip
python -m pip install -q "jupyterlab>=4.5,<5" "jupyter-builder>=1.2,<2" \
  hatchling hatch-jupyter-builder hatch-nodejs-version
# The CPU build of torch lies on local disk; a plain `torch` would pull a multi-GB CUDA build.
python -m pip install -q torch==2.13.0

step "Frontend (jlpm install && jlpm build)"
jlpm install
jlpm build

step "Python package (editable, with test extras)"
# Re-running `pip install -e .` after `jupyter-builder develop` writes through the develop
# symlink and breaks the next build: remove the link (and what leaked through it) first.
LINK="$VIRTUAL_ENV/share/jupyter/labextensions/jupyterlab-mlvc"
STAMP="build/setup-python.stamp"
WANT="$(cat pyproject.toml package.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ] || ! python -c "import mlvc_server" 2>/dev/null; then
  if [ -L "$LINK" ]; then rm "$LINK"; fi
  rm -f mlvc_server/labextension/install.json
  python -m pip install -q -e ".[test]"
  mkdir -p build && echo "$WANT" > "$STAMP"
else
  echo "up to date (pyproject.toml and package.json unchanged)"
fi
jupyter-builder develop --overwrite .

step "Check that JupyterLab sees both halves of the extension"
jupyter server extension list 2>&1 | grep -iE "mlvc_server.*OK"
jupyter labextension list 2>&1 | grep -iE "jupyterlab-mlvc.*OK"

step "UI tests project (ui-tests/)"
(cd ui-tests && jlpm install)

step "Setup done"
