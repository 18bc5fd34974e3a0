#!/usr/bin/env bash
# A lean install: `pip install kaiming_nb` into a fresh virtual environment brings only what the library uses.
# Fails past MAX_PACKAGES, or on a web framework or server (what an unpinned fastprogress 1.1 pulls in).
set -euo pipefail
cd "$(dirname "$0")/.."
# measured 2026-12: 25 with torch 2.13.0 CPU, pip and setuptools included; 2 spare for new sub-dependencies
MAX_PACKAGES=27
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check torch==2.13.0
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check .
packages=$("$venv/bin/python" -m pip list --format freeze --disable-pip-version-check | cut -d= -f1)
count=$(echo "$packages" | wc -l)
echo "a fresh install of kaiming_nb (with torch) holds $count packages: $(echo $packages)"
if echo "$packages" | grep -qiE '^(python-fasthtml|starlette|uvicorn|httpx|anyio)$'; then
  echo "a web framework or server is installed: pin what pulls it in"; exit 1
fi
[ "$count" -le "$MAX_PACKAGES" ] || { echo "more than $MAX_PACKAGES packages: what pulled in the new ones?"; exit 1; }

# As Colab meets a chapter: a fresh environment with torch and Jupyter but no kaiming_nb, a copy of the chapter in an
# empty folder, and Run All; its first cell installs the package (here the wheel built from this tree, not GitHub).
colab=$(mktemp -d)
trap 'rm -rf "$venv" "$colab"' EXIT
python -m venv "$colab/venv"
"$colab/venv/bin/python" -m pip install --quiet --disable-pip-version-check torch==2.13.0 ipykernel nbclient
"$colab/venv/bin/python" -m ipykernel install --prefix "$colab/venv" --name python3 > /dev/null   # this venv's kernel
"$colab/venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$colab/wheel" .
mkdir "$colab/chapters"
cp nbs/01_data.ipynb nbs/05_training.ipynb "$colab/chapters"
KAIMING_NB_SOURCE="file://$(ls "$colab"/wheel/kaiming_nb-*.whl)" \
  "$colab/venv/bin/python" .ci/run_notebooks.py --limit 180 "$colab"/chapters/*.ipynb
check='import kaiming_nb, sys; assert kaiming_nb.__file__.startswith(sys.prefix), kaiming_nb.__file__'
(cd / && "$colab/venv/bin/python" -c "$check")   # the chapters ran on the installed wheel, not on this tree
