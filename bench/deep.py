"""The depth experiment of chapter 06 on full MNIST: plain MLPs (and a plain CNN) without normalization or residual
connections, initialized by PyTorch's default, Kaiming and LSUV, trained for a fixed budget of epochs; prints the table,
one row per net and init. Then, for one configuration, our training loop (`depth_run`: fit with its callbacks,
DataLoader, clipping, one_cycle) against the idiomatic PyTorch one (TensorDataset, torch.utils.data.DataLoader,
torch.optim.SGD, clip_grad_norm_, OneCycleLR), same init, same seed, in the same process.

    python bench/deep.py [--data FOLDER] [--depths mlp:10,mlp:20,mlp:50,mlp:100,cnn:20] [--epochs 10]
                         [--cnn-epochs 2] [--lr 0.016] [--max-norm 0] [--compare mlp:50:kaiming_normal:2]
"""
import argparse, math, time
import torch, torch.nn as nn, torch.nn.functional as F
from torch.utils.data import TensorDataset
from kaiming_nb.core import torch_settings, format_table
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.loss import accuracy
from kaiming_nb.init import init_weights_
from kaiming_nb.deep import depth_experiment, depth_run, plain_mlp
from machine import machine_line

def pytorch_run(depth, init, data, epochs, lr, mom, bs, width, max_norm, seed):
    "The same run as `depth_run('mlp', ...)`, the way PyTorch's tutorials write it: its DataLoader, SGD, OneCycleLR."
    x, y, xv, yv = data
    c0, w0, lr = time.process_time(), time.perf_counter(), lr or 1.6 / depth
    with torch_settings(seed=seed):
        model = init_weights_(plain_mlp(depth, width), init, xb=x[:512])
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom)
    dl = torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True,
                                     generator=torch.Generator().manual_seed(seed))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(dl), pct_start=0.25,
                                                anneal_strategy='cos', cycle_momentum=False, div_factor=25.,
                                                final_div_factor=1e4)
    for epoch in range(epochs):
        model.train()
        for xb, yb in dl:
            F.cross_entropy(model(xb), yb).backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            opt.step()
            sched.step()
            opt.zero_grad()
    model.eval()
    with torch.no_grad():
        hits = sum(accuracy(model(xv[i:i + 1000]), yv[i:i + 1000]).item() * len(yv[i:i + 1000])
                   for i in range(0, len(xv), 1000))
    acc = hits / len(xv)
    return dict(acc=acc, cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', help='folder with the MNIST IDX files; default: get_data(full=True): '
                                  '$KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--depths', default='mlp:10,mlp:20,mlp:50,mlp:100,cnn:20', help='comma-separated arch:depth')
    p.add_argument('--inits', default='default,kaiming_normal,lsuv')
    p.add_argument('--epochs', type=int, default=10, help='epochs of the MLPs')
    p.add_argument('--cnn-epochs', type=int, default=2)
    p.add_argument('--lr', type=float, default=None, help='peak learning rate; default: 1.6 / depth')
    p.add_argument('--mom', type=float, default=0.9)
    p.add_argument('--bs', type=int, default=128)
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--max-norm', type=float, default=1., help='gradient clipping; 0: none')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--compare', default='mlp:50:kaiming_normal:2',
                   help="mlp:depth:init:epochs of the MLP run both ways (ours, PyTorch's); '' to skip")
    a = p.parse_args()
    print(machine_line(1))
    x, y, xv, yv = get_data(a.data, full=True)
    m, s = stats(x)
    data = (normalize(x, m, s), y, normalize(xv, m, s), yv)
    kw = dict(lr=a.lr, mom=a.mom, bs=a.bs, width=a.width, max_norm=a.max_norm or math.inf, seed=a.seed)
    runs = [(arch, int(d)) for arch, d in (r.split(':') for r in a.depths.split(','))]
    print(f"torch {torch.__version__}, 1 thread, denormals flushed; {len(x):,} training images; width {a.width}, "
          f"batch {a.bs}, one_cycle(lr={a.lr or '1.6 / depth'}), momentum {a.mom}, gradient clipping at norm "
          f"{a.max_norm or 'none'}; {a.epochs} epochs for the MLPs, {a.cnn_epochs} for the CNN")
    w0 = time.perf_counter()
    rows = depth_experiment(data, runs, a.inits.split(','), epochs={'mlp': a.epochs, 'cnn': a.cnn_epochs}, **kw)
    cols = ['arch', 'depth', 'init', 'std', 'std_batch', 'acc', 'cpu_s', 'wall_s']
    print(f"\n{format_table(rows, cols, fmt='.4g')}")
    print(f"total: {sum(r['cpu_s'] for r in rows):.0f} s CPU, {time.perf_counter() - w0:.0f} s wall")
    if a.compare:
        _, d, init, ep = a.compare.split(':')
        d, ep = int(d), int(ep)
        with torch_settings(threads=1, flush_denormal=True):
            ours = depth_run('mlp', d, init, data, ep, **kw)
            theirs = pytorch_run(d, init, data, ep, **kw)
        print(f"\nmlp depth {d}, {init} init, {ep} epochs: ours (fit, DataLoader, clipping, one_cycle) "
              f"{ours['cpu_s']:.1f} s CPU, {ours['wall_s']:.1f} s wall, accuracy {ours['acc']:.4f}; "
              f"PyTorch (DataLoader, SGD, clip_grad_norm_, OneCycleLR) {theirs['cpu_s']:.1f} s CPU, "
              f"{theirs['wall_s']:.1f} s wall, accuracy {theirs['acc']:.4f}; "
              f"ours / PyTorch time: {ours['cpu_s'] / theirs['cpu_s']:.2f}x")

if __name__ == '__main__': main()
