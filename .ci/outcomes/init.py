"""Outcomes asserted in nbs/02_init.ipynb: each `run(seed)` recomputes a cell's numbers with the cell's seed replaced by
`seed`."""
import math
import torch, torch.nn as nn, torch.nn.functional as F
from torch.nn import init
from spread import Check, mnist
from kaiming_nb.core import torch_settings
from kaiming_nb.data import stats
from kaiming_nb.init import gain, init_weights_, layer_stats

NB = '02_init.ipynb'
def data():
    "`x_valid` normalized with the training statistics, its first 100 images `x` and their float labels `y`."
    _, _, x_valid, y_valid = mnist()
    return dict(x_valid=x_valid, y_valid=y_valid, x=x_valid[:100].view(-1, 1, 28, 28), y=y_valid[:100].float())

def run_conv(seed):
    "c0010, c0013, c0016: one default convolution, then Kaiming with a=1 and a=0, then the default again after a ReLU."
    x = data()['x']
    with torch_settings(seed=seed):
        l1 = nn.Conv2d(1, 32, 5)
        w_std, out_std = l1.weight.std().item(), l1(x).std().item()
        init.kaiming_normal_(l1.weight, a=1.)
        out_std_a1 = l1(x).std().item()
        init.kaiming_normal_(l1.weight, a=0)
        m_k, s_k = [v.item() for v in stats(F.leaky_relu(l1(x), 0))]
        torch.manual_seed(seed)
        l1 = nn.Conv2d(1, 32, 5)
        m_d, s_d = [v.item() for v in stats(F.leaky_relu(l1(x), 0))]
    return dict(w_std=w_std, out_std=out_std, out_std_a1=out_std_a1, m_k=m_k, s_k=s_k, m_d=m_d, s_d=s_d)

def run_relu_half(seed):
    "c0019: the mean square of a leaky ReLU of a million normal samples, relative to (1 + a^2) / 2."
    with torch_settings(seed=seed):
        z = torch.randn(1_000_000)
    return {f'rel_err_a{a}': (F.leaky_relu(z, a) ** 2).mean().item() / ((1 + a ** 2) / 2) - 1
            for a in (0., 0.1, 1.)}

def run_fan_out(seed):
    "c0029: Kaiming normal with mode='fan_out' on a (784, 50) weight used as x @ w, and with mode='fan_in'."
    x_valid = data()['x_valid']
    with torch_settings(seed=seed):
        w_out = init.kaiming_normal_(torch.empty(784, 50), mode='fan_out')
    with torch_settings(seed=seed):
        w_in = init.kaiming_normal_(torch.empty(784, 50))
    xw_out, xw_in = [F.relu(x_valid[:500] @ w).pow(2).mean().sqrt().item() for w in (w_out, w_in)]
    return dict(w_out_std=w_out.std().item(), xw_out=xw_out, xw_ratio=xw_in / xw_out)

def kaiming2_(x, a, use_fan_out=False):
    "The notebook's `kaiming2_`, the lesson's."
    nf, ni, *_ = x.shape
    rec_fs = x[0, 0].shape.numel()
    fan = nf * rec_fs if use_fan_out else ni * rec_fs
    std = gain(a) / math.sqrt(fan)
    bound = math.sqrt(3.) * std
    x.data.uniform_(-bound, bound)
    return x

def run_uniform_then_kaiming2(seed):
    "c0033: the std of 10,000 draws of U(-1, 1); c0037: then kaiming2_ with a=0 and a=sqrt(5) on the default conv."
    x = data()['x']
    with torch_settings(seed=seed):
        l1 = nn.Conv2d(1, 32, 5)
    with torch_settings(seed=seed):
        uniform_std = torch.zeros(10_000).uniform_(-1, 1).std().item()
        kaiming2_(l1.weight, a=0)
        s_k = F.relu(l1(x)).std().item()
        kaiming2_(l1.weight, a=math.sqrt(5))
        s_5 = F.relu(l1(x)).std().item()
    return dict(uniform_std=uniform_std, s_k=s_k, s_5=s_5)

def run_default_conv(seed):
    "c0048: a default nn.Conv2d(1, 32, 5): its largest weight and its std."
    with torch_settings(seed=seed):
        c = nn.Conv2d(1, 32, 5)
    return dict(max_abs=c.weight.abs().max().item(), w_std=c.weight.std().item())

def run_mlp10(seed):
    "c0051: the per-layer factor of the std through ten default Linear + ReLU layers, biases zeroed."
    x_valid = data()['x_valid']
    with torch_settings(seed=seed):
        mlp10 = nn.Sequential(nn.Linear(784, 256), nn.ReLU(),
                              *[l for _ in range(9) for l in (nn.Linear(256, 256), nn.ReLU())])
    for l in mlp10[::2]: nn.init.zeros_(l.bias)
    h, sds = x_valid[:256], []
    with torch.no_grad():
        for l in mlp10:
            h = l(h)
            if isinstance(l, nn.ReLU): sds.append(h.std().item())
    return dict(ratio=(sds[-1] / sds[0]) ** (1 / 9))

def get_cnn():
    "The notebook's `get_cnn`."
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 1, 3, stride=2, padding=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(0))

def run_lesson_cnn(seed):
    "c0055: the lesson's CNN, default then Kaiming uniform: the output's std and the first layer's weight gradient's."
    x, y = data()['x'], data()['y']
    def out_and_grad(m):
        m.zero_grad()
        t = m(x)
        F.mse_loss(t, y).backward()
        return t.std().item(), m[0].weight.grad.std().item()
    with torch_settings(seed=seed):
        cnn = get_cnn()
        out_d, grad_d = out_and_grad(cnn)
        for l in cnn:
            if isinstance(l, nn.Conv2d):
                init.kaiming_uniform_(l.weight)
                l.bias.data.zero_()
        out_k, grad_k = out_and_grad(cnn)
    return dict(out_d=out_d, grad_d=grad_d, out_k=out_k, grad_k=grad_k)

def run_xavier_relu(seed):
    "c0058 and c0061: x_valid @ w with Xavier's 1/sqrt(n), then with Kaiming's sqrt(2/n), through a ReLU."
    x_valid = data()['x_valid']
    with torch_settings(seed=seed):
        t = x_valid @ (torch.randn(784, 50) / math.sqrt(784))
    with torch_settings(seed=seed):
        t_k = x_valid @ (torch.randn(784, 50) * math.sqrt(2 / 784))
    relu_k = t_k.clamp_min(0.)
    return dict(xavier_mean=t.mean().item(), xavier_std=t.std().item(),
                xavier_relu_mean=t.clamp_min(0.).mean().item(), xavier_relu_std=t.clamp_min(0.).std().item(),
                kaiming_relu_ms=relu_k.pow(2).mean().item(), kaiming_relu_mean=relu_k.mean().item(),
                kaiming_shifted_mean=(relu_k - 0.5).mean().item())

class Net(nn.Module):
    "The notebook's `Net`."
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(16, 10)
        self.body = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(inplace=True), nn.Flatten(),
                                  nn.Linear(4 * 13 * 13, 16), nn.ReLU())
    def forward(self, x): return self.head(self.body(x))

def run_zeros(seed):
    """c0071 and c0073, asserted in c0074: layer_stats of Net after init_weights_ (Kaiming normal): the exact zeros
    after the conv (a count), the fraction of zeros after its ReLU, and that fraction averaged over 40 draws, seeds
    40*seed to 40*seed + 39 (the notebook's 0 to 39 for seed 0)."""
    x, y_valid = data()['x'], data()['y_valid']
    net = Net()
    with torch_settings(seed=seed):
        init_weights_(net)
    ls = layer_stats(net, x, y_valid[:100], F.cross_entropy)
    with torch.no_grad(): zeros_conv_count = (net.body[0](x) == 0).sum().item()
    zeros_relu = []
    for draw in range(40 * seed, 40 * seed + 40):
        with torch_settings(seed=draw):
            zeros_relu.append(layer_stats(init_weights_(net), x)[1]['zeros'])
    mean_zeros_relu = sum(zeros_relu) / len(zeros_relu)
    return dict(zeros_conv_count=zeros_conv_count, zeros_relu=ls[1]['zeros'], mean_zeros_relu=mean_zeros_relu)

def run_lesson_cnn_stats(seed):
    "c0081: layer_stats of the lesson's CNN, default then Kaiming uniform."
    x, y = data()['x'], data()['y']
    with torch_settings(seed=seed):
        cnn = get_cnn()
        ls_d = layer_stats(cnn, x, y, F.mse_loss)
        ls_k = layer_stats(init_weights_(cnn, 'kaiming_uniform'), x, y, F.mse_loss)
    conv = [i for i, d in enumerate(ls_d) if d['layer'] == 'Conv2d']
    return dict(max_conv_std_ratio_default=max(ls_d[j]['std'] / ls_d[i]['std'] for i, j in zip(conv, conv[1:])),
                last_conv_std_ratio=ls_k[conv[-1]]['std'] / ls_d[conv[-1]]['std'],
                first_grad_std_ratio=ls_k[0]['grad_std'] / ls_d[0]['grad_std'])

SCHEMES = ('default', 'xavier_normal', 'kaiming_normal')
_models = {}

def deep_models():
    "The notebook's 50-layer MLP and 20-layer CNN (their initial weights do not matter: each scheme redraws them)."
    if not _models:
        _models['mlp'] = nn.Sequential(*[l for i in range(50)
                                         for l in (nn.Linear(784 if i == 0 else 256, 256), nn.ReLU())])
        _models['cnn'] = nn.Sequential(*[l for i in range(20)
                                         for l in (nn.Conv2d(1 if i == 0 else 64, 64, 3, padding=1), nn.ReLU())])
    return _models['mlp'], _models['cnn']

def relu_stats(model, xb, seed):
    "The notebook's `relu_stats`."
    res = {}
    for s in SCHEMES:
        with torch_settings(seed=seed):
            res[s] = [d for d in layer_stats(init_weights_(model, s), xb) if d['layer'] == 'ReLU']
    return res

def output_spread(model, scheme, xb, seed):
    "The notebook's `spread`: the std across the batch of the output, relative to its overall std."
    with torch_settings(seed=seed):
        init_weights_(model, scheme)
    with torch.no_grad(): o = model(xb)
    return (o.std(0).mean() / o.std()).item()

def run_depth(seed):
    """c0084 (asserted in c0086 and, for seeds 0-9, in c0092) and c0088: the std after the last ReLU of the 50-layer MLP
    and of the 20-layer CNN, per scheme; the MLP's output spread across the batch."""
    mlp, deep_cnn = deep_models()
    xb = data()['x_valid'][:256]
    deep, deep_c = relu_stats(mlp, xb, seed), relu_stats(deep_cnn, data()['x'][:8], seed)
    k50, d50 = deep['kaiming_normal'][-1]['std'], deep['default'][-1]['std']
    log2_x50_ratio = math.log2(deep['xavier_normal'][-1]['std'] / deep['xavier_normal'][0]['std'])
    return dict(k50=k50, d50=d50, log2_x50_ratio=log2_x50_ratio,
                cnn_k20=deep_c['kaiming_normal'][-1]['std'], cnn_x20=deep_c['xavier_normal'][-1]['std'],
                cnn_d20=deep_c['default'][-1]['std'],
                spread_default=output_spread(mlp, 'default', xb, seed),
                spread_kaiming=output_spread(mlp, 'kaiming_normal', xb, seed),
                k50_each=k50, d50_each=d50, log2_x50_ratio_each=log2_x50_ratio)

def near_bounds(b, rtol=1e-3, atol=1e-5):
    "The interval that `test_near(v, b, rtol, atol)` accepts: |v - b| <= atol + rtol * |b|."
    return (b - atol - rtol * abs(b), b + atol + rtol * abs(b))

LOG2_X50 = near_bounds(-24.5, atol=3)
FLOAT32_0_2 = torch.tensor(0.2).item()

CHECKS = [
    Check('init.conv', f'{NB}#c0011,c0014,c0017', run_conv, dict(
        w_std=near_bounds(0.115, rtol=0.1), out_std=(None, 0.85), out_std_a1=near_bounds(1.1, rtol=0.35),
        m_k=near_bounds(0.5, rtol=0.4), s_k=near_bounds(1., rtol=0.4), m_d=near_bounds(0.22, rtol=0.4),
        s_d=near_bounds(0.4, rtol=0.4))),
    Check('init.relu_half', f'{NB}#c0020', run_relu_half, {f'rel_err_a{a}': (-0.02, 0.02) for a in (0., 0.1, 1.)},
          note='mean square / ((1 + a^2) / 2) - 1; test_near rtol=0.02 (its atol 1e-5 neglected)'),
    Check('init.fan_out', f'{NB}#c0030', run_fan_out, dict(
        w_out_std=near_bounds(math.sqrt(2 / 784), rtol=0.02), xw_out=near_bounds(1., rtol=0.3),
        xw_ratio=near_bounds(math.sqrt(784 / 50)))),
    Check('init.uniform_kaiming2', f'{NB}#c0033,c0038', run_uniform_then_kaiming2, dict(
        uniform_std=near_bounds(1 / math.sqrt(3), rtol=0.02), s_k=near_bounds(1., rtol=0.4),
        s_5=near_bounds(0.4, rtol=0.4))),
    Check('init.default_conv', f'{NB}#c0049', run_default_conv, dict(
        max_abs=(0.19, FLOAT32_0_2), w_std=near_bounds(1 / math.sqrt(75), rtol=0.1)),
          note="max_abs <= 0.2 is compared in float32: the upper bound is the sampling range's edge, not statistical"),
    Check('init.mlp10', f'{NB}#c0052', run_mlp10, dict(ratio=near_bounds(1 / math.sqrt(6), rtol=0.08))),
    Check('init.lesson_cnn', f'{NB}#c0056', run_lesson_cnn, dict(
        out_d=(None, 0.05), grad_d=(None, 0.1), out_k=(0.05, None), grad_k=(0.1, None))),
    Check('init.xavier_relu', f'{NB}#c0059,c0062', run_xavier_relu, dict(
        xavier_mean=near_bounds(0., atol=0.35), xavier_std=near_bounds(1., rtol=0.15),
        xavier_relu_mean=near_bounds(1 / math.sqrt(2 * math.pi), rtol=0.5),
        xavier_relu_std=near_bounds(math.sqrt(1 / 2 - 1 / (2 * math.pi)), rtol=0.3),
        kaiming_relu_ms=near_bounds(1., rtol=0.6), kaiming_relu_mean=near_bounds(1 / math.sqrt(math.pi), rtol=0.5),
        kaiming_shifted_mean=near_bounds(0., atol=0.3))),
    Check('init.zeros', f'{NB}#c0074', run_zeros, dict(
        zeros_conv_count=(None, 0.5), zeros_relu=(0, 1), mean_zeros_relu=(0.35, 0.65)),
          note='zeros_conv_count: a count of exact zeros, == 0 written as < 0.5'),
    Check('init.layer_stats_cnn', f'{NB}#c0082', run_lesson_cnn_stats, dict(
        max_conv_std_ratio_default=(None, 1), last_conv_std_ratio=(4, None), first_grad_std_ratio=(4, None))),
    Check('init.depth', f'{NB}#c0086,c0089,c0092', run_depth, dict(
        k50=(0.1, 10), d50=(0.005, 0.1), log2_x50_ratio=LOG2_X50,
        cnn_k20=(0.03, 30), cnn_x20=(None, 3e-3), cnn_d20=(None, 0.1),
        spread_default=(None, 1e-4), spread_kaiming=(0.05, None),
        k50_each=(0.1, 10), d50_each=(0.005, 0.1), log2_x50_ratio_each=LOG2_X50),
          note="the *_each quantities are c0092's, asserted there for each of the seeds 0-9: the spread's seeds 0-9"),
]
