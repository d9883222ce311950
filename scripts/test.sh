#!/usr/bin/env bash
# Set everything up, then run every check and test; stop at the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

export YARN_GLOBAL_FOLDER="$ROOT/build/yarn-global"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# shellcheck disable=SC1091
. .venv/bin/activate

step() { printf '\n==> %s\n' "$*"; }

step "ruff (lint and format)"
ruff check .
ruff format --check .

step "mypy --strict (mlvc_server/)"
mypy

step "import contracts (lint-imports: layers, no front end imports another)"
lint-imports

step "eslint, prettier, stylelint"
jlpm lint:check

step "Jest (frontend model, request layer mocked)"
jlpm test

step "pytest"
python -m pytest

step "Wheel contents"
rm -rf build/wheel
python -m pip wheel . --no-deps --no-build-isolation -q -w build/wheel
python - build/wheel/*.whl <<'PY'
import sys
import zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
data = "jupyterlab_mlvc-0.1.0.data/data/"
required = [
    "mlvc_server/__init__.py",
    "mlvc_server/app.py",
    "mlvc_server/server/__init__.py",
    "mlvc_server/kernel/magics.py",
    "mlvc_server/store/repo.py",
    "mlvc_server/openapi.yaml",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/package.json",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/install.json",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/static/style.js",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/schemas/jupyterlab-mlvc/plugin.json",
    data + "etc/jupyter/jupyter_server_config.d/mlvc_server.json",
]
missing = [n for n in required if n not in names]
if missing:
    sys.exit(f"wheel {sys.argv[1]} lacks: {', '.join(missing)}")
print(f"{sys.argv[1]}: {len(names)} files, all {len(required)} required ones present")
PY

step "Galata UI tests (Chromium)"
(cd ui-tests && CI=1 jlpm playwright test)

step "All checks passed"
