#!/usr/bin/env bash
# Open JupyterLab on the mlvc demo, installing only what the demo needs.
#
#   bash scripts/demo.sh                  # http://127.0.0.1:8888 (MLVC_DEMO_PORT)
#   bash scripts/demo.sh --port 8890      # another port
#   bash scripts/demo.sh --ip 0.0.0.0     # listen on every interface (MLVC_DEMO_IP)
#   bash scripts/demo.sh --torch          # also the PyTorch notebook (torch CPU, +750 MB)
#   bash scripts/demo.sh --fresh          # start again from the original notebooks
#   bash scripts/demo.sh --setup-only     # install and copy, do not start JupyterLab
#   bash scripts/demo.sh -- --no-browser  # what follows -- goes to `jupyter lab`
#
# Everything goes under build/ (ignored by git), so the checkout stays clean:
#   build/demo/venv        the demo's Python environment (jupyterlab-mlvc[ml,widgets,nbdime])
#   build/demo/notebooks   a copy of binder/'s notebooks: the demo runs and commits here
#   build/dist/            the wheel, built once from the checkout (needs Node.js >= 18)
#   build/demo/setup.log   the full log of the set-up
# MLVC_WHEEL=path/to/jupyterlab_mlvc-*.whl uses a wheel you have; MLVC_DEMO_PYPI=1
# installs the checkout's version from PyPI instead of building it (no Node.js needed);
# a checkout of a release tag (vX.Y.Z, unchanged) downloads that release's wheel from
# GitHub when it can (MLVC_DEMO_RELEASES=URL: another place with the same layout,
# MLVC_DEMO_RELEASES=0: never), else builds it;
# MLVC_DEMO_SETUP=0 installs nothing and uses the developer environment .venv (made by
# scripts/setup.sh; another one with MLVC_DEMO_VENV=path).
# The developer set-up (tests, UI tests, linters) is `bash scripts/test.sh`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${MLVC_DEMO_PORT:-8888}"
IP="${MLVC_DEMO_IP:-127.0.0.1}"
TORCH="${MLVC_DEMO_TORCH:-0}"
OPEN="${MLVC_DEMO_OPEN:-1}"
FRESH=0
LAB_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#*=}"; shift ;;
    --ip) IP="$2"; shift 2 ;;
    --ip=*) IP="${1#*=}"; shift ;;
    --torch) TORCH=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --setup-only) OPEN=0; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; LAB_ARGS+=("$@"); break ;;
    *) LAB_ARGS+=("$1"); shift ;;
  esac
done

DEMO="$ROOT/build/demo"
VENV="$DEMO/venv"
SETUP="${MLVC_DEMO_SETUP:-1}"
if [ "$SETUP" = 0 ]; then VENV="${MLVC_DEMO_VENV:-$ROOT/.venv}"; fi
NOTEBOOKS="$DEMO/notebooks"
LOG="$DEMO/setup.log"
mkdir -p "$DEMO"
: >"$LOG"
STARTED=$SECONDS
N=0
TOTAL=4

# One line per step; the details go to the log, shown (its end) only when a step fails.
step() {
  N=$((N + 1))
  printf '[%d/%d] %s ... ' "$N" "$TOTAL" "$1"
  printf '\n==> %s\n' "$1" >>"$LOG"
}
done_step() { printf '%s (%ds)\n' "${1:-done}" "$((SECONDS - STARTED))"; }
fail() {
  printf 'FAILED\n\n%s\n\nLast lines of %s:\n' "$1" "$LOG" >&2
  tail -n 25 "$LOG" >&2
  exit 1
}
run() { "$@" >>"$LOG" 2>&1; }

VERSION="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -1)"

# -- 1. Python ---------------------------------------------------------------------------
step "Python 3.11+"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY="$(command -v "$candidate")"
      break
    fi
  done
fi
[ -n "$PY" ] || fail "mlvc needs Python 3.11 or newer (python3 --version says $(python3 --version 2>&1)).
Install one, or point PYTHON=/path/to/python3.11 at it."
done_step "$("$PY" --version 2>&1 | cut -d' ' -f2)"

if [ "$SETUP" = 0 ]; then
  TOTAL=2
  [ -x "$VENV/bin/jupyter" ] || fail "MLVC_DEMO_SETUP=0, but $VENV has no JupyterLab
(bash scripts/setup.sh makes .venv; or leave MLVC_DEMO_SETUP unset)."
  # the developer environment has torch: the PyTorch notebook comes too
  if "$VENV/bin/python" -c "import torch" 2>/dev/null; then TORCH=1; fi
else
# The wheel attached to the GitHub release of this version (.github/workflows/release.yml
# builds it), when the checkout is that release's tag with no change to what the wheel
# is built from; any failure (no network, no such release) falls back to building.
release_wheel() {
  local base="${MLVC_DEMO_RELEASES:-https://github.com/mlvc-dev/jupyterlab-mlvc/releases/download}"
  local name="jupyterlab_mlvc-$VERSION-py3-none-any.whl"
  [ "$base" != 0 ] && command -v curl >/dev/null || return 1
  [ -n "$(git tag --points-at HEAD -l "v$VERSION" 2>/dev/null)" ] || return 1
  [ -z "$(git status --porcelain -- src style schema mlvc_server package.json yarn.lock \
    pyproject.toml install.json jupyter-config tsconfig.json 2>/dev/null)" ] || return 1
  rm -rf "$WHEEL_DIR"
  mkdir -p "$WHEEL_DIR"
  if ! curl -fsSL --retry 2 --max-time 120 -o "$WHEEL_DIR/$name" "$base/v$VERSION/$name" \
    >>"$LOG" 2>&1 || ! "$PY" -m zipfile -l "$WHEEL_DIR/$name" >/dev/null 2>&1; then
    echo "no release wheel at $base/v$VERSION/$name: building it" >>"$LOG"
    rm -rf "$WHEEL_DIR"
    return 1
  fi
  echo "$SOURCES" >"$WHEEL_DIR/stamp"
}

# -- 2. The package (a wheel with the prebuilt frontend) --------------------------------
step "jupyterlab-mlvc $VERSION"
# the wheel is rebuilt only when a file it is built from changed
SOURCES="$(git ls-files -s -- src style schema mlvc_server package.json yarn.lock \
  pyproject.toml install.json jupyter-config tsconfig.json 2>/dev/null | sha256sum | cut -c1-16)"
if [ -n "$(git status --porcelain -- src style schema mlvc_server package.json pyproject.toml 2>/dev/null)" ]; then
  SOURCES="$SOURCES-$(git diff HEAD -- src style schema mlvc_server package.json pyproject.toml | sha256sum | cut -c1-8)"
fi
WHEEL_DIR="$ROOT/build/dist"
SPEC=""
if [ -n "${MLVC_WHEEL:-}" ]; then
  [ -f "$MLVC_WHEEL" ] || fail "MLVC_WHEEL=$MLVC_WHEEL is not a file."
  SPEC="$(cd "$(dirname "$MLVC_WHEEL")" && pwd)/$(basename "$MLVC_WHEEL")"
  done_step "the wheel in MLVC_WHEEL"
elif [ "${MLVC_DEMO_PYPI:-0}" = 1 ]; then
  SPEC="jupyterlab-mlvc==$VERSION"
  done_step "from PyPI"
elif [ -f "$WHEEL_DIR/stamp" ] && [ "$(cat "$WHEEL_DIR/stamp")" = "$SOURCES" ] &&
  ls "$WHEEL_DIR"/jupyterlab_mlvc-"$VERSION"-*.whl >/dev/null 2>&1; then
  SPEC="$(ls "$WHEEL_DIR"/jupyterlab_mlvc-"$VERSION"-*.whl | head -1)"
  done_step "built before (build/dist)"
elif release_wheel; then
  SPEC="$(ls "$WHEEL_DIR"/jupyterlab_mlvc-"$VERSION"-*.whl | head -1)"
  done_step "the v$VERSION release's wheel, downloaded"
else
  # building the frontend needs Node.js: say so before anything is downloaded
  if ! command -v node >/dev/null; then
    fail "Building the JupyterLab extension needs Node.js 18 or newer, and \`node\` is not
on the PATH. Install it (https://nodejs.org, or \`conda install -c conda-forge nodejs\`),
or skip the build: MLVC_WHEEL=/path/to/jupyterlab_mlvc-$VERSION-py3-none-any.whl, or
MLVC_DEMO_PYPI=1 once jupyterlab-mlvc $VERSION is on PyPI."
  fi
  NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$NODE_MAJOR" -ge 18 ] ||
    fail "Building the JupyterLab extension needs Node.js 18 or newer; \`node --version\` says $(node --version)."
  # A lean build, in a copy of the sources (build/demo/wheel-src; the checkout's own
  # node_modules and labextension are left alone): yarn installs only what compiling and
  # bundling need (TypeScript, @jupyter/builder, the types of React), not the linters,
  # Jest or Galata of the developer set-up; it keeps its downloads uncompressed
  # (compressing ~350 archives took minutes of CPU, the downloading seconds). The
  # bundle is the same as the full set-up's (compared file by file, module ids aside).
  # All of it but the wheel is deleted afterwards.
  WSRC="$DEMO/wheel-src"
  rm -rf "$WHEEL_DIR" "$WSRC" "$DEMO/build-venv"
  mkdir -p "$WHEEL_DIR" "$WSRC"
  printf '(building the frontend once, about a minute) ... '
  tar -cf - --exclude=node_modules --exclude=__pycache__ --exclude=mlvc_server/labextension \
    --exclude=mlvc_server/_version.py --exclude='*.tsbuildinfo' \
    src style schema mlvc_server package.json yarn.lock .yarnrc.yml tsconfig.json \
    pyproject.toml install.json jupyter-config LICENSE README.md 2>>"$LOG" |
    tar -xf - -C "$WSRC" || fail "Could not copy the sources to $WSRC."
  cp "$WSRC/package.json" "$WSRC/package.full.json"
  run "$PY" - "$WSRC/package.json" <<'PY' || fail "Could not write the build's package.json."
import json
import sys

# what `tsc` and `jupyter-builder build` need besides the runtime dependencies
BUILD = {"@jupyter/builder", "typescript", "@types/react", "@types/react-dom",
         "@types/json-schema", "yjs"}
with open(sys.argv[1], encoding="utf-8") as f:
    pkg = json.load(f)
pkg["devDependencies"] = {k: v for k, v in pkg["devDependencies"].items() if k in BUILD}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(pkg, f, indent=4)
PY
  # one environment for the whole build: pyproject's build requirements (jupyter-builder
  # brings jlpm, JupyterLab's yarn, and the jupyter-builder command), so that the wheel
  # is built in it (--no-isolation) rather than in a second one made by `build`
  mapfile -t BUILD_REQS < <("$PY" -c 'import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["build-system"]["requires"]))')
  run "$PY" -m venv "$DEMO/build-venv" || fail "Could not create a virtual environment."
  run "$DEMO/build-venv/bin/python" -m pip install --no-cache-dir -q build "${BUILD_REQS[@]}" ||
    fail "Could not install the build tools (pip install build ${BUILD_REQS[*]})."
  (
    cd "$WSRC"
    export PATH="$DEMO/build-venv/bin:$PATH" YARN_ENABLE_PROGRESS_BARS=false \
      YARN_ENABLE_IMMUTABLE_INSTALLS=false YARN_ENABLE_MIRROR=false \
      YARN_COMPRESSION_LEVEL=0 YARN_CACHE_FOLDER="$WSRC/.yarn/cache" \
      YARN_GLOBAL_FOLDER="$WSRC/.yarn/global"
    jlpm install &&
      # the package's own metadata as the full build writes it into the labextension
      mv package.full.json package.json &&
      node_modules/.bin/tsc &&
      jupyter-builder build . &&
      # the frontend is built: the wheel packs it as it is (skip-if-exists in pyproject)
      python -m build --wheel --no-isolation --outdir "$WHEEL_DIR" .
  ) >>"$LOG" 2>&1 || fail "Building the wheel failed."
  rm -rf "$WSRC" "$DEMO/build-venv"
  echo "$SOURCES" >"$WHEEL_DIR/stamp"
  SPEC="$(ls "$WHEEL_DIR"/jupyterlab_mlvc-"$VERSION"-*.whl | head -1)"
  done_step "built into build/dist"
fi

# -- 3. The demo's environment -----------------------------------------------------------
step "Environment (build/demo/venv)"
# JupyterLab, mlvc with what the notebooks store (pandas, pyarrow, scikit-learn, skops),
# widgets and cell diffs; torch only with --torch (its CPU build, as Binder installs it)
WANT="$SPEC[ml,widgets,nbdime] torch=$TORCH"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/mlvc-demo.stamp" 2>/dev/null)" = "$WANT" ]; then
  done_step "up to date"
else
  [ -x "$VENV/bin/python" ] || run "$PY" -m venv "$VENV" || fail "Could not create $VENV."
  EXTRA=()
  if [ "$TORCH" = 1 ]; then
    # the lines of binder/requirements.txt that name torch and where its CPU build lies
    while read -r line; do
      # shellcheck disable=SC2206
      EXTRA+=($line)
    done < <(grep -E '^(--extra-index-url|torch)' binder/requirements.txt)
  fi
  # --no-compile: bytecode is written on first import, for what is imported (saves ~1 min)
  run "$VENV/bin/python" -m pip install -q --no-compile --upgrade-strategy only-if-needed \
    "$SPEC[ml,widgets,nbdime]" ipykernel "${EXTRA[@]}" ||
    fail "Installing the demo's packages failed."
  # nbdime comes for its notebook diff library only: its own server and lab extensions
  # (git buttons on every notebook) are not part of the demo
  run "$VENV/bin/jupyter" server extension disable --sys-prefix nbdime || true
  run "$VENV/bin/jupyter" labextension disable --level=sys_prefix nbdime-jupyterlab || true
  # (read whole, then searched: `grep -q` in a pipe would stop jupyter mid-write)
  server_ext="$("$VENV/bin/jupyter" server extension list 2>&1 || true)"
  lab_ext="$("$VENV/bin/jupyter" labextension list 2>&1 || true)"
  printf '%s\n%s\n' "$server_ext" "$lab_ext" >>"$LOG"
  grep -iE "mlvc_server.*OK" <<<"$server_ext" >/dev/null ||
    fail "JupyterLab does not load the mlvc server extension."
  grep -iE "jupyterlab-mlvc.*enabled.*OK" <<<"$lab_ext" >/dev/null ||
    fail "JupyterLab does not see the mlvc frontend."
  echo "$WANT" >"$VENV/mlvc-demo.stamp"
  done_step "$(du -sm "$VENV" | cut -f1) MB"
fi

fi

# -- 4. The notebooks (a copy: the demo commits, checks out and writes data there) -------
step "Notebooks (build/demo/notebooks)"
if [ "$FRESH" = 1 ]; then rm -rf "$NOTEBOOKS"; fi
mkdir -p "$NOTEBOOKS"
copied=0
for nb in binder/*.ipynb; do
  name="$(basename "$nb")"
  if [ "$TORCH" != 1 ] && grep -q '"import torch' "$nb"; then continue; fi
  [ -e "$NOTEBOOKS/$name" ] && continue
  # the kernel's language_info is written in, so that JupyterLab does not change the
  # metadata on opening (which would mark the notebook unsaved)
  "$VENV/bin/python" - "$nb" "$NOTEBOOKS/$name" >>"$LOG" 2>&1 <<'PY' || fail "Could not copy $nb."
import json
import sys

from ipykernel.ipkernel import IPythonKernel

with open(sys.argv[1], encoding="utf-8") as f:
    nb = json.load(f)
nb["metadata"]["language_info"] = dict(IPythonKernel.language_info)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
PY
  copied=$((copied + 1))
done
cp -n binder/prepare_data.py "$NOTEBOOKS/" 2>/dev/null || true
if [ "$copied" = 0 ]; then
  done_step "kept (your changes; --fresh starts again)"
else
  done_step "$copied copied"
fi

echo "Set-up done in $((SECONDS - STARTED)) s; log: ${LOG#"$ROOT"/}"
[ "$OPEN" = 1 ] || exit 0

args=(--ServerApp.ip="$IP" --ServerApp.port="$PORT" --ServerApp.root_dir="$NOTEBOOKS")
if [ "$(id -u)" = 0 ]; then
  args+=(--allow-root)
fi
echo "Starting JupyterLab on http://$IP:$PORT (Ctrl-C stops it) ..."
cd "$NOTEBOOKS"
exec "$VENV/bin/jupyter" lab "${args[@]}" "${LAB_ARGS[@]}" 01-getting-started.ipynb
