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

step "Package: sdist, then the wheel built from it (twine check, check-wheel-contents)"
rm -rf build/dist-check
# the wheel is built from the sdist, so a file missing from the sdist fails here
python -m build --no-isolation --outdir build/dist-check . >build/dist-check.log 2>&1 ||
  { tail -40 build/dist-check.log; exit 1; }
twine check --strict build/dist-check/*
check-wheel-contents build/dist-check/*.whl
python - build/dist-check/*.whl build/dist-check/*.tar.gz <<'PY'
import sys
import tarfile
import zipfile

wheel, sdist = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(wheel).namelist())
info = wheel.split("/")[-1].split("-")
data = f"{info[0]}-{info[1]}.data/data/"
required = [
    "mlvc_server/__init__.py",
    "mlvc_server/app.py",
    "mlvc_server/server/__init__.py",
    "mlvc_server/kernel/magics.py",
    "mlvc_server/store/repo.py",
    "mlvc_server/openapi.yaml",
    f"{info[0]}-{info[1]}.dist-info/licenses/LICENSE",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/package.json",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/install.json",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/static/style.js",
    data + "share/jupyter/labextensions/jupyterlab-mlvc/schemas/jupyterlab-mlvc/plugin.json",
    data + "etc/jupyter/jupyter_server_config.d/mlvc_server.json",
]
missing = [n for n in required if n not in names]
if missing:
    sys.exit(f"wheel {wheel} lacks: {', '.join(missing)}")
top = f"{info[0]}-{info[1]}/"
in_sdist = {n.removeprefix(top) for n in tarfile.open(sdist).getnames()}
lacking = [n for n in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml") if n not in in_sdist]
if lacking:
    sys.exit(f"sdist {sdist} lacks: {', '.join(lacking)}")
print(f"{wheel}: {len(names)} files, all {len(required)} required ones present; sdist complete")
PY

step "Galata UI tests (Chromium)"
(cd ui-tests && CI=1 jlpm playwright test)

step "All checks passed"
