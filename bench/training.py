"""One epoch of the lesson's MLP (784-50-10, SGD lr 0.1, batch 64) on full MNIST: our DataLoader + Optimizer + fit
against idiomatic PyTorch (TensorDataset + torch.utils.data.DataLoader(shuffle=True) + torch.optim.SGD), in one
process. Prints samples per second, the ratio of the medians, and the final validation accuracies; then, round by round,
each run against the PyTorch run of its round (median and range: the machine's speed drifts over minutes, and the
ratio of runs side by side drifts less); with --cnn, also the time for the CNN recipe to reach 99%.

    python bench/training.py [--data FOLDER] [--runs 9] [--cnn] [--limit N]

Our fit runs with the callbacks a quiet run uses: CheckFiniteCB and MetricsCB (no progress bars, no printing); the
row 'no checks' leaves CheckFiniteCB out, to show what the checks cost; the row 'no callbacks' is the bare loop, the
fastest that any loop of ours with checks added could be.
Full MNIST comes from get_data(data, full=True): --data, $KAIMING_NB_DATA, the cache, or a download.
--limit N trains on the first N training images only: a smoke test of the script, not a measurement.
"""
import argparse, statistics, time
import torch, torch.nn.functional as F
from torch.utils.data import TensorDataset
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.loss import cross_entropy, accuracy
from kaiming_nb.training import Dataset, DataLoader, Optimizer, fit, get_model, CheckFiniteCB, MetricsCB
from machine import machine_line

def quiet(checks=True):
    "The callbacks of a quiet run; without `checks`, no `CheckFiniteCB`."
    return [CheckFiniteCB(), MetricsCB(verbose=False)] if checks else [MetricsCB(verbose=False)]

def spread_line(values, unit, digits=2):
    "The median of `values` and their range, as one line."
    return f"{statistics.median(values):5.{digits}f}{unit}, from {min(values):.{digits}f} to {max(values):.{digits}f}"

def ours(x, y, xv, yv, loss_func, seed, cbs=None):
    "Our loop with `cbs` (None: `quiet()`): the trained model."
    torch.manual_seed(seed)
    model = get_model('mlp')
    train_dl = DataLoader(Dataset(x, y), 64, shuffle=True, seed=seed)
    fit(1, model, loss_func, Optimizer(model.parameters(), lr=0.1), train_dl, DataLoader(Dataset(xv, yv), 1024),
        cbs=quiet() if cbs is None else cbs)
    return model

def pytorch(x, y, xv, yv, seed):
    "The PyTorch loop: the trained model."
    torch.manual_seed(seed)
    model = get_model('mlp')
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True):
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    with torch.no_grad():
        for xb, yb in torch.utils.data.DataLoader(TensorDataset(xv, yv), batch_size=1024):
            F.cross_entropy(model(xb), yb)
    return model

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', help='full MNIST; default: $KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--runs', type=int, default=9)
    p.add_argument('--cnn', action='store_true')
    p.add_argument('--limit', type=int, default=None, help='train on the first LIMIT images only (a smoke test)')
    a = p.parse_args()
    print(machine_line())
    x, y, xv, yv = get_data(a.data, full=True)
    x, y = x[:a.limit], y[:a.limit]
    m, s = stats(x)
    x, xv = normalize(x, m, s), normalize(xv, m, s)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(x):,} training images, one epoch, "
          f"batch 64; median of {a.runs} runs, interleaved")
    runs = {'ours (cross_entropy)': lambda sd: ours(x, y, xv, yv, cross_entropy, sd),
            'ours (F.cross_entropy)': lambda sd: ours(x, y, xv, yv, F.cross_entropy, sd),
            'ours, no checks': lambda sd: ours(x, y, xv, yv, cross_entropy, sd, quiet(checks=False)),
            'ours, no callbacks': lambda sd: ours(x, y, xv, yv, cross_entropy, sd, []),
            'PyTorch': lambda sd: pytorch(x, y, xv, yv, sd)}
    times, accs = {k: [] for k in runs}, {k: [] for k in runs}
    for r in range(a.runs):
        for k, f in runs.items():
            t = time.perf_counter()
            model = f(r)
            times[k].append(time.perf_counter() - t)
            with torch.no_grad():
                accs[k].append(accuracy(model(xv), yv).item())
    base = len(x) / statistics.median(times['PyTorch'])
    for k in runs:
        sps = len(x) / statistics.median(times[k])
        spread = statistics.stdev(accs[k]) if a.runs > 1 else 0.
        print(f"{k:24s} {sps:>10,.0f} samples/s  {sps / base:5.2f}x PyTorch   valid accuracy "
              f"{statistics.mean(accs[k]):.4f} ± {spread:.4f} over {a.runs} runs "
              f"(min {min(accs[k]):.4f}, max {max(accs[k]):.4f})")
    print("round by round (each run against the PyTorch run of its round; the machine's speed drifts between rounds):")
    for k in runs:
        if k != 'PyTorch':
            print(f"  {k:24s} {spread_line([p / t for p, t in zip(times['PyTorch'], times[k])], 'x PyTorch')}")
    checks = [1 - t / c for t, c in zip(times['ours, no checks'], times['ours (cross_entropy)'])]
    print(f"  {'the checks cost':24s} {spread_line([100 * c for c in checks], '% of the unchecked samples/s', 1)}")
    torch.manual_seed(0)
    vdl = DataLoader(Dataset(xv, yv), 1024)
    torch.manual_seed(0)
    model = get_model('mlp')
    fit(1, model, F.cross_entropy, Optimizer(model.parameters(), lr=0.1),
        torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True), vdl, cbs=quiet())
    same = all(torch.equal(p, q) for p, q in zip(model.parameters(), pytorch(x, y, xv, yv, 0).parameters()))
    print(f"our fit + Optimizer fed torch's DataLoader, same seed: weights bit-identical to the PyTorch loop's: {same} "
          "(so accuracy differences above come from the batch order alone)")
    if a.cnn:
        from kaiming_nb.app import train   # the main job, chapter 09
        t = time.perf_counter()
        model, hist, _ = train('cnn', a.data, progress=False, verbose=False, full=True)
        for e in hist.epochs:
            print(f"cnn epoch {e['epoch']}: valid accuracy {e['accuracy']:.4f}")
        print(f"cnn recipe: {time.perf_counter() - t:.0f} s for {len(hist.epochs)} epochs, "
              f"final valid accuracy {hist.epochs[-1]['accuracy']:.4f}")

if __name__ == '__main__': main()
