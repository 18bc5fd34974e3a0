"""Time to 99% on full MNIST, two recipes, each through our loop and through an idiomatic PyTorch loop on the same
recipe, over several seeds, in one run:
- the one-epoch recipe of chapter 09: `get_model('lenet')`, Adam (lr 0.01, betas 0.7 and 0.9) under one_cycle,
  batch 128, label smoothing 0.1, one epoch (goal on 2 CPU cores: a 99.0% mean in 5 s or less);
- the CNN recipe of the main job, `train('cnn')`: batch 256, 4 epochs of one-cycle momentum SGD.
Both use channels-last convolutions.

    python bench/speed.py [--data FOLDER] [--seeds 5] [--device auto] [--tricks] [--limit N]

Each time is the wall time of training, as the anchors time it: the data already in memory, normalizing it and moving it
to the device included, one evaluation on the validation set after each epoch included. A warm-up run of each recipe
on 1,024 images comes first (the CUDA context, oneDNN's and cuDNN's kernels chosen once per process).
--tricks adds the table of what made the CNN recipe fast, each step with its time and accuracy.
Full MNIST comes from get_data(data, full=True): --data, $KAIMING_NB_DATA, the cache, or a download.
--limit N trains on the first N training images only: a smoke test of the script, not a measurement.
"""
import argparse, statistics, time
from functools import partial
import torch, torch.nn.functional as F
from torch.utils.data import TensorDataset
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.init import init_weights_
from kaiming_nb.loss import cross_entropy
from kaiming_nb.training import Dataset, DataLoader, Optimizer, fit, get_model, one_cycle
from kaiming_nb.training import CheckFiniteCB, MetricsCB, ScheduleCB
from kaiming_nb.app import RECIPES, _get_device, train
from machine import machine_line

LENET = dict(epochs=1, lr=1e-2, bs=128)   # the one-epoch recipe: with Adam and label smoothing 0.1
SMOOTHING = {'lenet': 0.1, 'cnn': 0.}     # each recipe's label smoothing

def prepared(data, dev):
    "The 4 tensors normalized with the training statistics, on `dev`."
    x, y, xv, yv = data
    m, s = stats(x)
    return normalize(x, m, s).to(dev), y.to(dev), normalize(xv, m, s).to(dev), yv.to(dev)

def new_net(arch, dev, channels_last=True):
    "The recipe's model: the LeNet as PyTorch initializes it, the CNN Kaiming-initialized."
    model = get_model(arch) if arch == 'lenet' else init_weights_(get_model(arch), 'kaiming_normal')
    model = model.to(dev)
    return model.to(memory_format=torch.channels_last) if channels_last else model

def new_opt(arch, params, lr, ours=True):
    "The recipe's optimizer: Adam for the LeNet; for the CNN momentum SGD, ours or PyTorch's."
    if arch == 'lenet':
        return torch.optim.Adam(params, lr, betas=(0.7, 0.9))
    if ours:
        return Optimizer(params, lr, mom=0.9, wd=1e-4)
    return torch.optim.SGD(params, lr, momentum=0.9, weight_decay=1e-4)

def ours(data, seed, dev, arch, epochs, lr, bs, channels_last=True):
    "Our `fit` on the recipe (quiet: checks and metrics): the final validation accuracy."
    x, y, xv, yv = prepared(data, dev)
    with torch_settings(seed=seed):
        model = new_net(arch, dev, channels_last)
        opt = new_opt(arch, model.parameters(), lr)
        train_dl, valid_dl = DataLoader(Dataset(x, y), bs, shuffle=True, seed=seed), DataLoader(Dataset(xv, yv), 1024)
        cbs = [CheckFiniteCB(), MetricsCB(verbose=False), ScheduleCB(one_cycle(lr))]
        loss_func = partial(cross_entropy, smoothing=SMOOTHING[arch])
        hist = fit(epochs, model, loss_func, opt, train_dl, valid_dl, cbs=cbs)
    return hist.epochs[-1]['accuracy']

def main_job(data, seed, dev):
    "`train('cnn')`, the main job's function, on data in memory: the final validation accuracy."
    return train('cnn', data, seed=seed, device=dev, progress=False, verbose=False)[1].epochs[-1]['accuracy']

def pytorch(data, seed, dev, arch, epochs, lr, bs):
    "The recipe written the usual way: TensorDataset, torch's DataLoader and optimizer, OneCycleLR, F.cross_entropy."
    x, y, xv, yv = prepared(data, dev)
    with torch_settings(seed=seed):
        model = new_net(arch, dev)
        dl = torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)
        opt = new_opt(arch, model.parameters(), lr, ours=False)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * len(dl), pct_start=0.25,
                                                    div_factor=25, final_div_factor=1e4 / 25, cycle_momentum=False)
        for epoch in range(epochs):
            model.train()
            for xb, yb in dl:
                loss = F.cross_entropy(model(xb), yb, label_smoothing=SMOOTHING[arch])
                loss.backward()
                opt.step()
                opt.zero_grad()
                sched.step()
            model.eval()
            with torch.no_grad():
                preds = torch.cat([model(xb).argmax(1) for xb in xv.split(1024)])
    return (preds == yv).float().mean().item()

def timed(f, dev):
    "f()'s result and its wall time, the device synchronized at both ends."
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    sync()
    t = time.perf_counter()
    r = f()
    sync()
    return r, time.perf_counter() - t

def report(name, f, seeds, dev):
    "Run `f(seed)` for each seed, timed; print one line (mean time, mean and min accuracy); return the means."
    runs = [timed(lambda: f(s), dev) for s in range(seeds)]
    accs, secs = [a for a, _ in runs], [t for _, t in runs]
    print(f"{name:52s} {statistics.mean(secs):6.2f} s (min {min(secs):6.2f})   "
          f"accuracy mean {statistics.mean(accs):.4f} min {min(accs):.4f} over {seeds} seeds", flush=True)
    return statistics.mean(secs), statistics.mean(accs)

def compare(ours_name, ours_f, recipe_name, arch, recipe, data, seeds, dev, goal):
    "Our loop and PyTorch's on one recipe, one line each, then their ratio and the goal."
    t_ours, acc_ours = report(ours_name, ours_f, seeds, dev)
    t_torch, acc_torch = report(f"PyTorch, {recipe_name}", lambda s: pytorch(data, s, dev, arch, **recipe), seeds, dev)
    print(f"  time to {acc_ours:.2%} (mean over {seeds} seeds): {t_ours:.2f} s, {t_ours / t_torch:.2f}x PyTorch's "
          f"time ({t_torch:.2f} s to {acc_torch:.2%}); goal on 2 CPU cores: {goal}", flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', help='full MNIST; default: $KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--seeds', type=int, default=5)
    p.add_argument('--device', default='auto')
    p.add_argument('--tricks', action='store_true')
    p.add_argument('--limit', type=int, default=None, help='train on the first LIMIT images only (a smoke test)')
    a = p.parse_args()
    print(machine_line())
    dev = _get_device(a.device)
    x, y, xv, yv = get_data(a.data, full=True)
    data = x[:a.limit], y[:a.limit], xv, yv
    where = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'the CPU'
    print(f"on {dev} ({where}); {len(data[0]):,} training images")
    warm = tuple(t[:1024] for t in data)
    ours(warm, 0, dev, 'lenet', **LENET), main_job(warm, 0, dev)
    pytorch(warm, 0, dev, 'lenet', **LENET), pytorch(warm, 0, dev, 'cnn', **RECIPES['cnn'])
    compare('ours: fit, the one-epoch recipe', lambda s: ours(data, s, dev, 'lenet', **LENET), 'one-epoch recipe',
            'lenet', LENET, data, a.seeds, dev, "99.0% in 5 s or less")
    compare('ours: train(cnn), the main job', lambda s: main_job(data, s, dev), 'CNN recipe', 'cnn', RECIPES['cnn'],
            data, a.seeds, dev, "99.0%, and no slower than PyTorch")
    if not a.tricks:
        return
    print("what made the CNN recipe fast (our loop, each row adds one change to the one above):")
    rows = [('lesson recipe: batch 64, 8 epochs, lr 0.2', dict(epochs=8, lr=0.2, bs=64, channels_last=False)),
            ('batch 256, lr 0.4', dict(epochs=8, lr=0.4, bs=256, channels_last=False)),
            ('4 epochs', dict(epochs=4, lr=0.4, bs=256, channels_last=False)),
            ('channels-last convolutions (= the recipe)', dict(epochs=4, lr=0.4, bs=256, channels_last=True))]
    for name, kw in rows:
        report(name, lambda s: ours(data, s, dev, 'cnn', **kw), a.seeds, dev)

if __name__ == '__main__': main()
