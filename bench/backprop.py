"""One forward and backward pass of the 784-50-1 MLP on the full 50,000 x 784 MNIST batch: by hand vs autograd.

Run from the repository root:  python bench/backprop.py [--path FOLDER] [--runs 21] [--threads 1]

Full MNIST comes from get_data(path, full=True): --path, $KAIMING_NB_DATA, the cache, or a download.

Time: the median of `--runs` runs of each method in this process, interleaved round by round (so that load from other
jobs falls on all of them alike), after two warm-up runs. Peak memory: each method in a fresh subprocess (see `peak`).
"""
import argparse, json, os, statistics, subprocess, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.backprop import forward_and_backward, init_params
from machine import machine_line

def load(path):
    x, y, _, _ = get_data(path, full=True, verbose=False)
    return normalize(x, *stats(x)), y.float()

def methods(x, y):
    "name -> (clear, step): `clear` drops the last run's gradients (untimed), `step` runs one forward + backward pass."
    torch.manual_seed(0)
    ps = init_params()
    aps = [p.clone().requires_grad_() for p in ps]
    model = nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 1))
    def clear_manual():
        for t in (x, *ps): t.g = None
    def clear_auto():
        for p in aps: p.grad = None
    def autograd():
        w1, b1, w2, b2 = aps
        F.mse_loss((torch.relu(x @ w1 + b1) @ w2 + b2)[:, 0], y).backward()
    return {
        'manual':    (clear_manual, lambda: forward_and_backward(x, y, *ps)),
        'lesson':    (clear_manual, lambda: forward_and_backward(x, y, *ps, inp_grad=True, inplace=False)),
        'autograd':  (clear_auto, autograd),
        'nn.Module': (lambda: model.zero_grad(set_to_none=True), lambda: F.mse_loss(model(x)[:, 0], y).backward())}

DESCRIPTION = {
    'manual':    'forward_and_backward(x, y, *params): in-place ReLU, no gradient for the data',
    'lesson':    "the lesson's pass: ReLU not in place, data gradient computed "
                 "(matmul weight gradient: the broadcast needs 7.8 GB)",
    'autograd':  'the same model in PyTorch ops (x @ w + b, torch.relu, F.mse_loss), loss.backward()',
    'nn.Module': 'nn.Sequential(nn.Linear, nn.ReLU, nn.Linear), F.mse_loss, loss.backward(): the idiomatic way'}

def mib(key):
    "`key` (VmRSS, VmHWM) from /proc/self/status, in MiB."
    for line in open('/proc/self/status'):
        if line.startswith(key + ':'): return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status")

def peak(path, name):
    """In this (fresh) process: one warm-up pass, then the resident-memory high-water mark of one more pass above the
    RSS before it."""
    clear, step = methods(*load(path))[name]
    step()
    clear()
    before = mib('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')  # reset VmHWM to the current RSS (Linux >= 4.0)
    step()
    return dict(extra=mib('VmHWM') - before, total=mib('VmHWM'))

def measure_peak(path, name):
    "`peak(path, name)` in a fresh subprocess with this one's threads; `path` None: it finds full MNIST as `load` does."
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')   # the same $KAIMING_NB_DATA, so the same data
    where = [] if path is None else ['--path', os.fspath(path)]
    cmd = [sys.executable, __file__, *where, '--peak', name, '--threads', str(torch.get_num_threads())]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode: raise RuntimeError(f"peak-memory subprocess for {name} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def main(path, runs):
    print(machine_line())
    x, y = load(path)
    ms = methods(x, y)
    times = {k: [] for k in ms}
    for r in range(runs + 2):
        names = list(ms)[r % len(ms):] + list(ms)[:r % len(ms)]  # rotate the order every round
        for k in names:
            clear, step = ms[k]
            clear()
            t = time.perf_counter()
            step()
            dt = time.perf_counter() - t
            if r >= 2: times[k].append(dt)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f"One forward + backward pass of the 784-50-1 MLP on x {tuple(x.shape)} {x.dtype}; "
          f"torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    for k, d in DESCRIPTION.items():
        print(f"  {k:10s} {d}")
    print(f"\nTime: median of {runs} runs, interleaved, after 2 warm-up runs (min and max in brackets)")
    for k, v in times.items():
        print(f"  {k:10s} {med[k]:7.1f} ms ({min(v)*1e3:6.1f} - {max(v)*1e3:6.1f})   "
              f"{med[k]/med['autograd']:.2f}x autograd   {med[k]/med['nn.Module']:.2f}x nn.Module")
    pk = {k: measure_peak(path, k) for k in ms}
    print("\nPeak memory of one pass: each method in a fresh process with MALLOC_MMAP_THRESHOLD_=65536, "
          "so that every tensor buffer\n"
          "is its own mapping, handed back to the OS when freed, and resident memory follows the live tensors "
          "(without it glibc\n"
          "keeps freed blocks, and the figures depend on what earlier passes left behind). After a warm-up pass, "
          "/proc/self/clear_refs\n"
          "resets the high-water mark; 'extra' is VmHWM after one pass minus VmRSS before it "
          "(data, weights, libraries), 'total' VmHWM.")
    for k, v in pk.items():
        print(f"  {k:10s} extra {v['extra']:6.1f} MiB  total {v['total']:6.1f} MiB   "
              f"{v['extra']/pk['autograd']['extra']:.2f}x autograd   "
              f"{v['extra']/pk['nn.Module']['extra']:.2f}x nn.Module (extra)")
    print(f"\nmanual vs autograd: time {med['manual']/med['autograd']:.2f}x, "
          f"peak memory {pk['manual']['extra']/pk['autograd']['extra']:.2f}x "
          f"(extra; total {pk['manual']['total']/pk['autograd']['total']:.2f}x)")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--path',
                   help='folder with full MNIST (IDX files); default: $KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--runs', type=int, default=21)
    p.add_argument('--threads', type=int, default=1,
                   help="torch.set_num_threads; 0: torch's default. 1 by default: on a machine shared with other jobs, "
                        "multi-threaded timings measure the scheduler more than the code")
    p.add_argument('--peak', choices=list(DESCRIPTION), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if a.peak: print(json.dumps(peak(a.path, a.peak)))
    else: main(a.path, a.runs)
