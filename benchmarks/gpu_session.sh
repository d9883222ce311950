#!/bin/bash
# One GPU session, prepared: the GPU tests, gpu_check, the benchmark at 2 and 4 GiB and
# the probe, from the repository root of a machine with CUDA (torch with CUDA, Triton,
# numpy, safetensors, psutil, xxhash, cloudpickle installed).
#
#   bash benchmarks/gpu_session.sh [WHEELS_DIR] [OUT_DIR]
#
# WHEELS_DIR: wheels of what that machine lacks (no network there), installed into
# /tmp/site first; fetch them where pip works, for the machine's Python, e.g.
#   pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d wheels \
#     dulwich==1.2.21 blake3 nbformat fastjsonschema jsonschema \
#     jsonschema-specifications referencing rpds-py traitlets jupyter_core platformdirs
# OUT_DIR (default .): where gpu.json and gpu4.json are written.
set -u
cd "$(dirname "$0")/.."
wheels=${1:-}
out=${2:-.}
if [ -n "$wheels" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --target /tmp/site "$wheels"/*.whl || exit 9
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
export MLVC_CONFIG_DIR=${MLVC_CONFIG_DIR:-/tmp/mlvc-config}
export MLVC_AUTHOR_NAME=${MLVC_AUTHOR_NAME:-bench} MLVC_AUTHOR_EMAIL=${MLVC_AUTHOR_EMAIL:-bench@example.org}
python3 -c "import sys, torch; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name())"
date -u
echo "===== gpu tests"
timeout 240 python3 -m pytest tests/gpu -q -p no:cacheprovider --noconftest -m gpu 2>&1 | tail -25
timeout 120 python3 -m pytest tests/serializers/test_torch.py -q -p no:cacheprovider \
    --confcutdir=tests/serializers -k "cuda or load_into or device or fingerprint" 2>&1 | tail -8
timeout 120 python3 -m pytest tests/store/test_part_ids.py tests/store/test_stored_payload.py \
    -q -p no:cacheprovider --noconftest 2>&1 | tail -4
echo "===== gpu_check"
timeout 120 python3 benchmarks/gpu_check.py 2>&1 | tail -12
echo "===== gpu benchmark"
timeout 300 python3 benchmarks/gpu.py --gib 2 --json "$out/gpu.json" 2>&1 | tail -30
timeout 200 python3 benchmarks/gpu.py --gib 4 --only state_dict --json "$out/gpu4.json" 2>&1 | tail -9
echo "===== probe"
timeout 200 python3 benchmarks/gpu_probe.py 2>&1 | tail -90
date -u
