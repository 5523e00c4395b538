#!/usr/bin/env bash
# The GPU-ready check (benchmarks/gpu_ready.py) on a GPU machine without network.
#
#   bash benchmarks/run_gpu_ready.sh prepare [--without-pyarrow]
#       Here, with network, in the repository root: fills .whl/ (git-ignored) with the wheels the
#       GPU machine lacks, for CPython 3.12 on x86-64 Linux: TRL, datasets, evaluate, their missing
#       dependencies (dill, multiprocess), darling itself built from this checkout, and, in
#       .whl/optional/, pyarrow (datasets 5.2 needs pyarrow >= 24; installed there only if the
#       machine's is older). About 2 MB, or 57 MB with pyarrow.
#
#   bash benchmarks/run_gpu_ready.sh run [gpu_ready.py options]
#       On the GPU machine, in the repository root, with .whl/ carried along: installs the wheels
#       into /tmp/site without touching the machine's Python, checks that everything imports, and
#       runs gpu_ready.py under an 8-minute timeout. Writes gpu_ready.json, gpu_ready.md (the docs
#       table) and gpu_ready.log into $OUT (default /tmp/gpu_ready). Exit status: gpu_ready.py's
#       (1: a part raised, 2: no CUDA, 124: the timeout), 3 when the wheels do not install or import.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-.whl}
PYTHON=${PYTHON:-python3}
# The versions the project's tests ran with (pyproject.toml pins trl>=1.16,<1.17).
PACKAGES=(trl==1.16.0 datasets==5.2.0 evaluate==0.4.6 dill==0.4.1 multiprocess==0.70.19)
PYARROW=pyarrow==26.0.1
PLATFORM=(--only-binary=:all: --python-version 3.12 --implementation cp
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

prepare() {
  rm -rf "$WHEELS"
  mkdir -p "$WHEELS/optional"
  "$PYTHON" -m pip download --quiet --no-deps "${PLATFORM[@]}" -d "$WHEELS" "${PACKAGES[@]}"
  if [[ "${1:-}" != "--without-pyarrow" ]]; then
    "$PYTHON" -m pip download --quiet --no-deps "${PLATFORM[@]}" -d "$WHEELS/optional" "$PYARROW"
  fi
  "$PYTHON" -m pip wheel --quiet --no-deps -w "$WHEELS" .
  ls -l "$WHEELS" "$WHEELS/optional"
  du -sh "$WHEELS"
}

run() {
  local out=${OUT:-/tmp/gpu_ready} site=${SITE:-/tmp/site}
  mkdir -p "$out"
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
    "$WHEELS"/*.whl || { echo "run_gpu_ready: the wheels in $WHEELS did not install (run prepare here first)" >&2; exit 3; }
  if ! "$PYTHON" -c "import pyarrow, sys; sys.exit(int(pyarrow.__version__.split('.')[0]) < 24)"; then
    compgen -G "$WHEELS/optional/pyarrow-*.whl" >/dev/null \
      || { echo "run_gpu_ready: datasets needs pyarrow >= 24; prepare without --without-pyarrow" >&2; exit 3; }
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" \
      "$WHEELS"/optional/pyarrow-*.whl
  fi
  export PYTHONPATH="$site" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
  "$PYTHON" -c "
import darling, datasets, evaluate, pyarrow, torch, transformers, trl
print('darling', darling.__version__, darling.__file__)
print('trl', trl.__version__, '| datasets', datasets.__version__, '| evaluate', evaluate.__version__,
      '| pyarrow', pyarrow.__version__, '| transformers', transformers.__version__, '| torch', torch.__version__)
" || { echo "run_gpu_ready: the carried packages do not import (see above)" >&2; exit 3; }
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
  local status=0
  set -o pipefail
  timeout "${GPU_READY_TIMEOUT:-480}" "$PYTHON" benchmarks/gpu_ready.py --require-cuda \
    --output "$out/gpu_ready.json" "$@" 2>&1 | tee "$out/gpu_ready.log" || status=$?
  if [[ -s "$out/gpu_ready.json" ]]; then
    "$PYTHON" benchmarks/gpu_ready.py --markdown "$out/gpu_ready.json" >"$out/gpu_ready.md"
  fi
  echo "run_gpu_ready: exit status $status; results in $out"
  return "$status"
}

case "${1:-}" in
  prepare) shift; prepare "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 prepare [--without-pyarrow] | run [gpu_ready.py options]" >&2; exit 64 ;;
esac
