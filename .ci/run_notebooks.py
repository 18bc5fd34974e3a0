#!/usr/bin/env python
"""Run every notebook top to bottom as a learner's Jupyter does (Run All, through nbclient), offline, in a fresh home.

    python .ci/run_notebooks.py [--limit 120] [nbs/05_training.ipynb ...]

Each chapter runs in a new kernel, from nbs/, as Jupyter runs it: with an empty home folder (no cache), no
KAIMING_NB_DATA, downloads pointed at a closed port of 127.0.0.1 (offline), and the slow cells' switch off, so each
of them prints the one line that says how to run it. The notebooks are not changed: the executed copies are thrown
away. Fails on a cell's error, or on a chapter that takes over --limit seconds (the learner's promise: minutes).
"""
import argparse, os, sys, tempfile, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent

def learner_env(home):
    "The environment of a learner's first Run All: offline, no data configured, nothing cached, no slow cells."
    env = {k: v for k, v in os.environ.items() if k not in ('KAIMING_NB_DATA', 'KAIMING_NB_SLOW', 'IN_TEST')}
    return env | dict(HOME=str(home), XDG_CACHE_HOME=str(home / '.cache'), KAIMING_NB_MIRRORS='http://127.0.0.1:9/',
                      MPLBACKEND='module://matplotlib_inline.backend_inline')

def run(fn, env, timeout):
    "Execute notebook `fn` in a new kernel with `env`: its time in seconds, or the error's first lines."
    nb = nbformat.read(fn, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3',
                            resources={'metadata': {'path': str(fn.parent)}})
    saved = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)   # the kernel inherits this process's environment
    start = time.monotonic()
    try: client.execute()
    except CellExecutionError as e: return None, '\n'.join(str(e).strip().splitlines()[-6:])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return time.monotonic() - start, None

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='default: every notebook of nbs/')
    ap.add_argument('--limit', type=float, default=120., help='seconds a chapter may take (default 120)')
    args = ap.parse_args()
    fns = [Path(f).resolve() for f in args.notebooks] or sorted((ROOT / 'nbs').glob('[0-9i]*.ipynb'))
    problems, total = [], 0.
    with tempfile.TemporaryDirectory() as home:
        for fn in fns:
            secs, error = run(fn, learner_env(Path(home)), timeout=2 * args.limit)
            if error:
                problems.append(f'{fn.name}: {error}')
                print(f'{fn.name:24} FAILED')
                continue
            total += secs
            print(f'{fn.name:24} {secs:6.1f} s' + ('  (over the limit)' if secs > args.limit else ''))
            if secs > args.limit: problems.append(f'{fn.name}: {secs:.0f} s, over the limit of {args.limit:g} s')
    print(f'{len(fns)} notebooks run as Jupyter runs them, offline, in {total:.0f} s')
    if problems:
        print('\n'.join(['FAILED:', *problems]))
        sys.exit(1)

if __name__ == '__main__': main()
