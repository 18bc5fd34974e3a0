#!/usr/bin/env bash
# The checks and tests of CI, after the install: .ci/run (this machine) and .github/workflows/test.yaml both run
# this file, so the two cannot drift. From the repository root, with kaiming_nb installed (pip install -e ".[dev]").
# Full MNIST is found as a user's code finds it (KAIMING_NB_DATA, the cache, a download: see get_data); the slow suite
# needs it, and fails with a message saying how to get it when none of these has it.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg
# nbdev_test runs one notebook per core, each with one torch thread (kaiming_nb.core sees to it, unless
# OMP_NUM_THREADS is set): the README's `nbdev_test` is tested as a newcomer types it.

# The notebooks must be clean, and the library in sync with them.
nbdev_clean
if [ -n "$(git status --porcelain -- nbs)" ]; then
  echo "nbdev_clean changed these notebooks: run nbdev_clean and commit."; git status --porcelain -- nbs; exit 1
fi
nbdev_export
if [ -n "$(git status --porcelain -- kaiming_nb)" ]; then
  echo "nbdev_export changed the library: it is out of sync with the notebooks."
  git status --porcelain -- kaiming_nb; git diff -- kaiming_nb | head -50; exit 1
fi

# The code is the lesson: ruff (ruff.toml) checks the library, the notebooks, bench/ and .ci/: lines of at most 120
# characters, one statement per line, no unused import.
ruff check

# The notebook cells whose asserted outcomes .ci/outcomes/ restates (for .ci/spread.py) must match their copies.
python .ci/mirrors.py

# Full MNIST only through get_data's own sources: nothing in nbs/, bench/ or the library names a machine's folder.
if grep -rn "shared/data" nbs bench kaiming_nb; then
  echo "a machine's data folder is named above: use get_data(full=True)"; exit 1
fi

# Each chapter's export cell does nothing outside the repository (on Colab, say): .ci/check_install.sh runs two
# chapters there; this checks the guard in all of them.
unguarded=$(grep -l "nbdev_export()" nbs/*.ipynb | xargs grep -L "isfile('../settings.ini')" || true)
if [ -n "$unguarded" ]; then echo "an export cell runs nbdev_export() unguarded in: $unguarded"; exit 1; fi

# The docs site, as far as it can be checked without Quarto (the header of .ci/check_docs.py says what).
python .ci/check_docs.py

# The README is made from nbs/index.ipynb (python .ci/readme.py), as nbdev_readme would with Quarto: it must not drift.
python .ci/readme.py --check

# The README's first command (its install step is done): the main job, offline; then its example of a model you keep.
kaiming_nb_train --epochs 1 --no-progress
keep=$(mktemp -d)
kaiming_nb_train --epochs 1 --no-progress --subset --device cpu --save "$keep/m.pt" > /dev/null
python - "$keep/m.pt" <<'PY'
import sys
from kaiming_nb.data import get_data
from kaiming_nb.app import load_model
x_train, y_train, x_valid, y_valid = get_data(subset=True, verbose=False)
pred = load_model(sys.argv[1]).predict(x_valid[:5])
print(f"load_model(m.pt).predict(x_valid[:5]): {pred.tolist()}, labels {y_valid[:5].tolist()}")
assert pred.shape == (5,), pred.shape
PY
rm -rf "$keep"
# The main job on two processes (README): it prints one set of metrics, rank 0's
kaiming_nb_train --epochs 1 --no-progress --subset --nproc 2 | grep -c "^final validation accuracy" | grep -qx 1

# The README's test command, then the same suite where machines differ. Each line: a name, then its environment
# and flags.
nbs=$(find nbs -name '*.ipynb' -not -name '_*' -not -path '*/_*' -not -path '*/.*' | wc -l)
passed=0; failed=0
suite() {
  local name=$1; shift
  local nbs=${SUITE_NBS:-$nbs}   # how many notebooks the suite runs: all, unless SUITE_NBS says fewer
  echo "=== nbdev_test: $name"
  local log; log=$(mktemp)
  local t=$SECONDS
  if env "$@" 2>&1 | tee "$log"; then
    passed=$((passed + nbs)); echo "--- $name: $nbs notebooks passed in $((SECONDS - t)) s"
  else
    local f; f=$(sed -n '/Tests Failed On The Following Notebooks/,$p' "$log" | grep -c '\.ipynb' || true)
    f=$((f > 0 ? f : 1)); failed=$((failed + f)); passed=$((passed + nbs - f)); echo "--- $name: $f notebooks failed"
  fi
  rm -f "$log"
}
# as the README says, with whatever data this machine has (in this repository's CI, KAIMING_NB_DATA is full MNIST)
suite "default" nbdev_test
# no data configured, and every notebook in one process, one after another: a global setting leaked by one
# fails the next
suite "one process, no KAIMING_NB_DATA" -u KAIMING_NB_DATA nbdev_test --n_workers 0
# another CPU, as far as one machine can be one: PyTorch's unvectorized kernels, and 2 threads per notebook
suite "ATEN_CPU_CAPABILITY=default, 2 threads" ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=2 nbdev_test
# a busy machine: two CPU-bound processes beside the chapters that start processes and servers of their own, whose
# tests must wait for events (a rank running, a line printed), never for time
busy() { python -c "while True: pass" & busy_pids="${busy_pids:-} $!"; }
busy; busy
trap 'kill ${busy_pids:-} 2>/dev/null || true' EXIT
SUITE_NBS=3 suite "under load (2 busy processes), 01, 07 and 09" nbdev_test --file_re "^0[179]_.*ipynb$"
kill $busy_pids 2>/dev/null || true; wait $busy_pids 2>/dev/null || true; busy_pids=
# a learner's Run All: every chapter in a new kernel as Jupyter runs it, offline, in an empty home, with torch's own
# threads; each slow cell prints how to run it instead. The limit catches a slow cell that runs by mistake.
echo "=== Run All, as Jupyter runs it"
if env -u OMP_NUM_THREADS python .ci/run_notebooks.py --limit 180; then passed=$((passed + nbs))
else failed=$((failed + 1)); fi
# full MNIST: the exact split, the 99% CNN, the depth table
suite "slow (full MNIST)" nbdev_test --flags slow
# the GPU run's script, on the CPU with tiny sizes, so that the one run on a GPU works the first time
echo "=== bench/gpu.sh on the CPU, tiny sizes"
t=$SECONDS
if TINY=1 OUT=$(mktemp -d) bash bench/gpu.sh > /dev/null; then echo "--- bench/gpu.sh passed in $((SECONDS - t)) s"
else failed=$((failed + 1)); echo "--- bench/gpu.sh failed"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
