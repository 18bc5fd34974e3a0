#!/usr/bin/env python
"""Measure the spread of every asserted outcome of training or of random draws, and its margin to the asserted bound.

Each module in .ci/outcomes/ (one per chapter) defines `CHECKS`, a list of `Check`s. A check recomputes, for a given
seed, what a notebook cell computes and asserts (with the cell's seed replaced by that seed), and lists the bounds the
cell asserts. This script runs every check under seeds × ATEN_CPU_CAPABILITY × torch threads, each capability and thread
count in a fresh process (the capability is read when torch is imported), and prints, per asserted quantity: the bounds,
the observed min and max over all runs, and the margin (the distance from the observed range to the nearest bound;
negative: a run fails).

    python .ci/spread.py                                # all: seeds 0-9 x {default, avx2, native} x {1, 2} threads
    python .ci/spread.py --only deep.watch --seeds 0-2  # some checks, fewer seeds
    python .ci/spread.py --slow                         # the checks of #|slow cells too (full MNIST: see get_data)
    python .ci/spread.py --save runs.json               # keep the raw values; --load runs.json prints the table again
"""
import argparse, functools, importlib.util, json, math, os, subprocess, sys, time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

@dataclass
class Check:
    "What one notebook cell asserts on a random or trained outcome."
    name: str            # 'chapter.what', e.g. 'deep.watch'
    cell: str            # where the assertion is: 'notebook.ipynb#cell-id'
    run: object          # run(seed) -> {quantity: float}
    bounds: dict         # quantity -> (low, high); None for an open side; both inclusive
    slow: bool = False   # needs full MNIST
    note: str = ''       # what the bounds stand for, if not obvious

@functools.lru_cache
def mnist(full=False):
    """x_train, y_train, x_valid, y_valid normalized with the training statistics, as the notebooks have them: the
    subset, or full MNIST."""
    from kaiming_nb.data import get_data, normalize, stats
    x, y, xv, yv = get_data(full=full, subset=not full, verbose=False)
    m, s = stats(x)
    return normalize(x, m, s), y, normalize(xv, m, s), yv

def tolerance_used(a, b, rtol=1e-3, atol=1e-5):
    "The largest |a - b| / (atol + rtol |b|): the share of `test_near(a, b, rtol, atol)`'s tolerance used (fails > 1)."
    import torch
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return ((a - b).abs() / (atol + rtol * b.abs())).max().item()

def load_checks(only=None):
    """The `Check`s of .ci/outcomes/*.py, in file order; with `only` (names or chapter prefixes), just those chapters'
    files."""
    checks = []
    for fn in sorted((HERE/'outcomes').glob('*.py')):
        if only and not any(w.split('.')[0] == fn.stem for w in only): continue
        spec = importlib.util.spec_from_file_location(f'outcomes_{fn.stem}', fn)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        checks += mod.CHECKS
    return checks

def parse_seeds(s):
    "'0-9' or '0,3,5' as a list of ints."
    if '-' in s:
        lo, hi = s.split('-')
        return list(range(int(lo), int(hi) + 1))
    return [int(v) for v in s.split(',')]

def worker(names, seeds, threads):
    "Run the checks `names` for `seeds` in this process, on `threads` threads; print one JSON line per run."
    import torch
    torch.set_num_threads(threads)
    cap = torch.backends.cpu.get_cpu_capability()
    for c in load_checks(names):
        if c.name not in names: continue
        for seed in seeds:
            t = time.perf_counter()
            values = {k: float(v) for k, v in c.run(seed).items()}
            print(json.dumps(dict(name=c.name, seed=seed, cap=cap, threads=threads, values=values,
                                  s=time.perf_counter() - t)), flush=True)

def run_all(names, seeds, caps, threads, save=None):
    "Spawn one worker per capability and thread count; return all the runs (and write them to `save` as they come)."
    runs = []
    for cap in caps:
        for n in threads:
            env = dict(os.environ, OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
            if cap == 'native': env.pop('ATEN_CPU_CAPABILITY', None)
            else: env['ATEN_CPU_CAPABILITY'] = cap
            cmd = [sys.executable, __file__, '--worker', '--only', ','.join(names),
                   '--seeds', ','.join(map(str, seeds)), '--threads', str(n)]
            print(f"[{cap}, {n} thread{'s' * (n > 1)}] {len(names)} checks x {len(seeds)} seeds ...",
                  file=sys.stderr, flush=True)
            out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
            runs += [json.loads(l) for l in out.stdout.splitlines() if l.startswith('{')]
            if save: Path(save).write_text(json.dumps(runs))
            if out.returncode:
                sys.exit(f"worker failed: {' '.join(cmd)} (ATEN_CPU_CAPABILITY={cap}); runs so far: {save}")
    return runs

def fmt(v): return '-' if v is None else f"{v:.4g}"

def table(checks, runs):
    "Per asserted quantity: bounds, observed min and max, margin; and whether every run is inside."
    rows, ok = [], True
    for c in checks:
        rs = [r for r in runs if r['name'] == c.name]
        if not rs: continue
        for k, (lo, hi) in c.bounds.items():
            vs = [r['values'][k] for r in rs]
            vmin, vmax = min(vs), max(vs)
            gaps = ([vmin - lo] if lo is not None else []) + ([hi - vmax] if hi is not None else [])
            margin = min(gaps) if not any(math.isnan(v) for v in vs) else float('nan')
            ok &= margin > 0
            combos = sorted({(r['cap'], r['threads']) for r in rs})
            seeds = sorted({r['seed'] for r in rs})
            rows.append((f"{c.name}:{k}", f"[{fmt(lo)}, {fmt(hi)}]", fmt(vmin), fmt(vmax), fmt(margin),
                         f"{len(vs)} ({len(seeds)} seeds x {len(combos)})", c.cell))
    head = ('quantity', 'asserted', 'min', 'max', 'margin', 'runs', 'cell')
    w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    print('\n'.join(' | '.join(s.ljust(n) for s, n in zip(r, w)) for r in [head] + rows))
    return ok

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--only', help='comma-separated check names or chapter prefixes (deep, deep.watch)')
    p.add_argument('--seeds', default='0-9')
    p.add_argument('--caps', default='default,avx2,native',
                   help="ATEN_CPU_CAPABILITY values; native: torch's choice for this CPU")
    p.add_argument('--threads', default='1,2')
    p.add_argument('--slow', action='store_true', help='include the checks of #|slow cells (full MNIST)')
    p.add_argument('--save', help='write the raw runs to this JSON file')
    p.add_argument('--load', help='print the table of runs saved by --save (several files: comma-separated)')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    checks = load_checks(a.only.split(',') if a.only else None)
    if a.only:
        want = a.only.split(',')
        checks = [c for c in checks if any(c.name == w or c.name.startswith(w + '.') for w in want)]
    elif not a.slow: checks = [c for c in checks if not c.slow]
    names = [c.name for c in checks]
    if a.worker: return worker(names, parse_seeds(a.seeds), int(a.threads))
    if a.load: runs = [r for f in a.load.split(',') for r in json.loads(Path(f).read_text())]
    else:
        t = time.perf_counter()
        runs = run_all(names, parse_seeds(a.seeds), a.caps.split(','), [int(n) for n in a.threads.split(',')], a.save)
        print(f"{len(runs)} runs in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    if a.save: Path(a.save).write_text(json.dumps(runs))
    import platform, torch
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, native capability "
          f"{torch.backends.cpu.get_cpu_capability()}, torch {torch.__version__}")
    sys.exit(0 if table(checks, runs) else 1)

if __name__ == '__main__': main()
