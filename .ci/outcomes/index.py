"""Outcomes asserted in nbs/index.ipynb: each `run(seed)` recomputes a cell's numbers,
with the cell's seed replaced by `seed`."""
import torch.nn as nn
from spread import Check
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.init import init_weights_, layer_stats
from kaiming_nb.backprop import lin, relu, mse, init_params, forward_and_backward
from kaiming_nb.deep import depth_experiment

NB = 'index.ipynb'
_data = []

def data():
    "The subset, as the notebook has it: raw, and its training statistics."
    if not _data:
        x, y, xv, yv = get_data(subset=True, verbose=False)
        _data.extend([(x, y, xv, yv), stats(x)])
    return _data

def run_init_std(seed):
    "c0010: the std after the last ReLU of a 50-layer MLP, per init scheme."
    (x_train, y_train, x_valid, y_valid), (m, s) = data()
    xb = normalize(x_valid[:256], m, s)
    with torch_settings(seed=seed):
        mlp = nn.Sequential(*[l for i in range(50) for l in (nn.Linear(784 if i == 0 else 256, 256), nn.ReLU())])
    last = {}
    for scheme in ('default', 'xavier_normal', 'kaiming_normal'):
        with torch_settings(seed=seed):
            relus = [d for d in layer_stats(init_weights_(mlp, scheme), xb) if d['layer'] == 'ReLU']
        last[scheme] = relus[-1]['std']
    return dict(std_kaiming=last['kaiming_normal'], std_xavier=last['xavier_normal'], std_default=last['default'])

def run_backprop(seed):
    "c0012: the hand-written gradient of w1 against autograd's: the worst ratio of difference to test_near's tolerance."
    (x_train, y_train, x_valid, y_valid), (m, s) = data()
    xs, ys = normalize(x_valid[:256], m, s), y_valid[:256].float()
    with torch_settings(seed=seed):
        w1, b1, w2, b2 = init_params()
    forward_and_backward(xs, ys, w1, b1, w2, b2)
    ws = [w.clone().requires_grad_() for w in (w1, b1, w2, b2)]
    mse(lin(relu(lin(xs, ws[0], ws[1])), ws[2], ws[3]), ys).backward()
    a, b = w1.g.double(), ws[0].grad.double()
    return dict(near_ratio=((a - b).abs() / (1e-5 + 1e-3 * b.abs())).max().item())

def run_depth(seed):
    "c0019-c0020: the 30-layer MLPs of `depth_experiment`, 3 epochs on the subset (the 10-layer rows are not asserted)."
    (x_train, y_train, x_valid, y_valid), (m, s) = data()
    d = normalize(x_train, m, s), y_train, normalize(x_valid, m, s), y_valid
    rows = depth_experiment(d, runs=[('mlp', 30)], epochs=3, verbose=False, seed=seed)
    acc = {r['init']: r['acc'] for r in rows}
    return dict(acc_default_30=acc['default'], acc_kaiming_30=acc['kaiming_normal'], acc_lsuv_30=acc['lsuv'])

CHECKS = [
    Check('index.init_std', f'{NB}#c0010', run_init_std, dict(
        std_kaiming=(0.1, None), std_xavier=(None, 1e-6), std_default=(None, 0.1))),
    Check('index.backprop', f'{NB}#c0012', run_backprop, dict(near_ratio=(None, 1)),
          note="test_near(w1.g, autograd's): |a - b| <= 1e-5 + 1e-3 |b| everywhere, i.e. the ratio is at most 1"),
    Check('index.depth', f'{NB}#c0020', run_depth, dict(
        acc_default_30=(None, 0.2), acc_kaiming_30=(0.75, None), acc_lsuv_30=(0.75, None))),
]
