"""Time to 99% on full MNIST: the CNN recipe (`train('cnn')`: batch 256, 4 epochs of one-cycle momentum SGD,
channels-last convolutions) through our loop against an idiomatic PyTorch loop on the same recipe,
over several seeds, in one run.

    python bench/speed.py [--data FOLDER] [--seeds 5] [--device auto] [--tricks] [--limit N]

Each time is the wall time of training, as the anchors time it: the data already in memory, normalizing it and moving it
to the device included, one evaluation on the validation set after each epoch included. On a GPU, one warm-up run
comes first. --tricks adds the table of what made the recipe fast, each step with its time and accuracy.
Full MNIST comes from get_data(data, full=True): --data, $KAIMING_NB_DATA, the cache, or a download.
--limit N trains on the first N training images only: a smoke test of the script, not a measurement.
"""
import argparse, platform, statistics, time
import torch, torch.nn.functional as F
from torch.utils.data import TensorDataset
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.init import init_weights_
from kaiming_nb.loss import cross_entropy
from kaiming_nb.training import Dataset, DataLoader, Optimizer, fit, get_model, one_cycle
from kaiming_nb.training import CheckFiniteCB, MetricsCB, ScheduleCB
from kaiming_nb.app import RECIPES, _get_device, train

def ours(data, seed, dev):
    "`train`, the main job's function, on data in memory: the final validation accuracy."
    return train('cnn', data, seed=seed, device=dev, progress=False, verbose=False)[1].epochs[-1]['accuracy']

def pytorch(data, seed, dev, epochs, lr, bs):
    "The same recipe written the usual way: TensorDataset, torch's DataLoader, SGD and OneCycleLR, F.cross_entropy."
    x, y, xv, yv = data
    m, s = stats(x)
    x, xv, y, yv = normalize(x, m, s).to(dev), normalize(xv, m, s).to(dev), y.to(dev), yv.to(dev)
    with torch_settings(seed=seed):
        model = init_weights_(get_model('cnn'), 'kaiming_normal').to(dev).to(memory_format=torch.channels_last)
        dl = torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)
        opt = torch.optim.SGD(model.parameters(), lr, momentum=0.9, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * len(dl), pct_start=0.25,
                                                    div_factor=25, final_div_factor=1e4 / 25, cycle_momentum=False)
        for epoch in range(epochs):
            model.train()
            for xb, yb in dl:
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
                sched.step()
            model.eval()
            with torch.no_grad():
                preds = torch.cat([model(xb).argmax(1) for xb in xv.split(1024)])
    return (preds == yv).float().mean().item()

def trick(data, seed, dev, epochs, lr, bs, channels_last):
    "Our loop on one variant of the recipe: the final validation accuracy."
    x, y, xv, yv = data
    m, s = stats(x)
    x, xv, y, yv = normalize(x, m, s).to(dev), normalize(xv, m, s).to(dev), y.to(dev), yv.to(dev)
    with torch_settings(seed=seed):
        model = init_weights_(get_model('cnn'), 'kaiming_normal').to(dev)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        opt = Optimizer(model.parameters(), lr, mom=0.9, wd=1e-4)
        train_dl, valid_dl = DataLoader(Dataset(x, y), bs, shuffle=True, seed=seed), DataLoader(Dataset(xv, yv), 1024)
        cbs = [CheckFiniteCB(), MetricsCB(verbose=False), ScheduleCB(one_cycle(lr))]   # a quiet run's callbacks
        hist = fit(epochs, model, cross_entropy, opt, train_dl, valid_dl, cbs=cbs)
    return hist.epochs[-1]['accuracy']

def timed(f, dev):
    "f()'s result and its wall time, the device synchronized at both ends."
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    sync()
    t = time.perf_counter()
    r = f()
    sync()
    return r, time.perf_counter() - t

def report(name, runs):
    "One line: mean time, mean and min accuracy."
    accs, secs = [a for a, _ in runs], [t for _, t in runs]
    print(f"{name:44s} {statistics.mean(secs):6.2f} s (min {min(secs):6.2f})   "
          f"accuracy mean {statistics.mean(accs):.4f} "
          f"min {min(accs):.4f} over {len(runs)} seeds", flush=True)
    return statistics.mean(secs), statistics.mean(accs)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', help='full MNIST; default: $KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--seeds', type=int, default=5)
    p.add_argument('--device', default='auto')
    p.add_argument('--tricks', action='store_true')
    p.add_argument('--limit', type=int, default=None, help='train on the first LIMIT images only (a smoke test)')
    a = p.parse_args()
    dev = _get_device(a.device)
    x, y, xv, yv = get_data(a.data, full=True)
    data = x[:a.limit], y[:a.limit], xv, yv
    r = RECIPES['cnn']
    cpu = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    where = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else cpu
    print(f"torch {torch.__version__} on {dev} ({where}); {len(data[0]):,} training images; recipe {r}")
    if dev.type == 'cuda':
        timed(lambda: ours(data, 0, dev), dev)   # warm-up: CUDA context, cuDNN's choice of kernels
    t_ours, acc_ours = report('ours: train(cnn)', [timed(lambda: ours(data, s, dev), dev) for s in range(a.seeds)])
    t_torch, acc_torch = report('PyTorch: DataLoader + SGD + OneCycleLR',
                                [timed(lambda: pytorch(data, s, dev, **r), dev) for s in range(a.seeds)])
    print(f"time to {acc_ours:.2%} (mean over {a.seeds} seeds): {t_ours:.2f} s, {t_ours / t_torch:.2f}x PyTorch's time "
          f"({t_torch:.2f} s to {acc_torch:.2%}); goal on 2 CPU cores: 99.0% in 15 s or less")
    if not a.tricks:
        return
    print("what made it fast (our loop, each row adds one change to the one above):")
    rows = [('lesson recipe: batch 64, 8 epochs, lr 0.2', dict(epochs=8, lr=0.2, bs=64, channels_last=False)),
            ('batch 256, lr 0.4', dict(epochs=8, lr=0.4, bs=256, channels_last=False)),
            ('4 epochs', dict(epochs=4, lr=0.4, bs=256, channels_last=False)),
            ('channels-last convolutions (= the recipe)', dict(epochs=4, lr=0.4, bs=256, channels_last=True))]
    for name, kw in rows:
        report(name, [timed(lambda: trick(data, s, dev, **kw), dev) for s in range(a.seeds)])

if __name__ == '__main__': main()
