#!/usr/bin/env bash
# The GPU run of issue 27, in one call of at most 10 minutes, everything it prints also written under $OUT:
#   1. .ci/check_cuda.py: the library on the GPU against PyTorch on the same GPU;
#   2. bench/speed.py on the GPU (a warm-up first): time to 99% on full MNIST, ours and PyTorch's;
#   3. an isometric plain CNN of 10,000 layers for a fixed budget of steps: its accuracy and time.
#
#   bash bench/gpu.sh --prepare   here, once: the wheels the GPU machine lacks and full MNIST, into .gpu/ (ignored)
#   bash bench/gpu.sh             there (the device tool: command "bash bench/gpu.sh", carry [".gpu"])
#   TINY=1 bash bench/gpu.sh      here, on the CPU, with tiny sizes: the script itself tested, in about a minute
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(command -v python3 || command -v python)

if [ "${1:-}" = --prepare ]; then
  rm -rf .gpu && mkdir -p .gpu/wheels
  # the GPU machine has torch, numpy and matplotlib (Python 3.12), not these: the library's other two needs
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    -d .gpu/wheels "fastcore>=1.12.3,<2" "fastprogress>=1.0.3,<1.1"
  "$py" - <<'PY'
import os, shutil, sys
from pathlib import Path
from kaiming_nb.data import get_data, mnist_cache
get_data(full=True)   # full MNIST through get_data's own sources, verified: $KAIMING_NB_DATA, the cache, a download
src = Path(os.environ.get('KAIMING_NB_DATA') or mnist_cache())
if not src.is_dir():
    sys.exit(f"gpu.sh --prepare: {src} is not an IDX folder; set KAIMING_NB_DATA to one")
shutil.copytree(src, '.gpu/mnist', ignore=shutil.ignore_patterns('*.md'))
PY
  du -sh .gpu; exit 0
fi

if [ -d .gpu/wheels ]; then   # on the GPU machine: nothing can be fetched there
  "$py" -m pip install -q --no-index --no-deps --no-compile --target /tmp/kaiming_nb_site .gpu/wheels/*.whl
  export PYTHONPATH=/tmp/kaiming_nb_site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 MPLBACKEND=Agg
[ -d .gpu/mnist ] && export KAIMING_NB_DATA=$PWD/.gpu/mnist
out=${OUT:-$(mktemp -d)}
if [ -n "${TINY:-}" ]; then   # the CPU, tiny sizes: a test of the script, not a measurement
  dev=cpu; seeds=1; limit="--limit 1024"; cnn=cnn:20:1; steps=8
else
  dev=cuda; seeds=5; limit=""; cnn=cnn:10000:1; steps=300
fi
echo "gpu.sh: $(date -u +%FT%TZ), $(uptime)" | tee "$out/gpu.txt"
command -v nvidia-smi > /dev/null && nvidia-smi | tee -a "$out/gpu.txt"
t=$SECONDS
"$py" .ci/check_cuda.py "$dev" 2>&1 | tee "$out/check_cuda.txt"
echo "check_cuda: $((SECONDS - t)) s" | tee -a "$out/gpu.txt"
t=$SECONDS
# shellcheck disable=SC2086
"$py" bench/speed.py --device "$dev" --seeds "$seeds" $limit 2>&1 | tee "$out/speed.txt"
echo "speed: $((SECONDS - t)) s" | tee -a "$out/gpu.txt"
t=$SECONDS
"$py" bench/isometry.py --device "$dev" --rows "$cnn" --inits isometric --steps "$steps" --no-jacobian 2>&1 \
  | tee "$out/isometry.txt"
echo "isometry: $((SECONDS - t)) s" | tee -a "$out/gpu.txt"
