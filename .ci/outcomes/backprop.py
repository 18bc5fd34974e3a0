"""Outcomes asserted in nbs/03_backprop.ipynb: each `run(seed)` recomputes a cell's numbers with the cell's seed
replaced by `seed`."""
import numpy as np, torch
from spread import Check, mnist, tolerance_used
from kaiming_nb.core import torch_settings
from kaiming_nb.backprop import init_params, lin, relu, mse, forward_and_backward, num_grad

NB = '03_backprop.ipynb'
def data():
    "The training images normalized with their own statistics, and their labels as floats, as the notebook has them."
    x_train, y_train, _, _ = mnist()
    return x_train, y_train.float()

def run_hidden_scale(seed):
    "c0014: the mean square of the hidden activations of the Kaiming-initialized MLP on the training images."
    x_train, _ = data()
    with torch_settings(seed=seed):
        w1, b1, w2, b2 = init_params(784, 50)
    return dict(hidden_ms=relu(lin(x_train, w1, b1)).pow(2).mean().item())

def run_rounding(seed):
    "c0020 and c0022: the same weight gradient as a broadcast sum, einsum and x.t() @ g, and in the two matmul layouts."
    x_train, _ = data()
    with torch_settings(seed=seed):
        gb = torch.randn(64, 50)
        gg = torch.randn(len(x_train), 50)
    xb = x_train[:64]
    outer = xb.unsqueeze(-1) * gb.unsqueeze(1)
    return dict(outer_vs_einsum=tolerance_used(outer.sum(0), torch.einsum('ni,nk->ik', xb, gb)),
                outer_vs_matmul=tolerance_used(outer.sum(0), xb.t() @ gb),
                layouts=tolerance_used(x_train.t() @ gg, (gg.t() @ x_train).t()))

def small_problem(seed):
    "c0047's float64 problem (16 rows, 6 inputs, 5 hidden units), with its gradients stored as `.g`."
    with torch_settings(seed=seed):
        xs, ys = torch.randn(16, 6, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
        ps64 = init_params(6, 5, torch.float64)
    forward_and_backward(xs, ys, *ps64, inp_grad=True)
    return xs, ys, ps64

def run_num_grad(seed):
    "c0047: every gradient of the small problem against central differences (eps=1e-6), as a share of the tolerance."
    xs, ys, ps64 = small_problem(seed)
    f = lambda: mse(lin(relu(lin(xs, *ps64[:2])), *ps64[2:]), ys)
    return dict(tolerance_used=max(tolerance_used(t.g, num_grad(f, t), rtol=1e-8, atol=1e-9) for t in (xs, *ps64)))

def run_num_err(seed):
    """c0049, asserted in c0050: the error of central differences against our float64 gradients, over eps, in both
    precisions; below the first eps that can push a pre-activation across the ReLU's kink, and above it."""
    xs, ys, ps64 = small_problem(seed)
    def num_err(dtype, eps):
        ts = [t.to(dtype) for t in (xs, *ps64)]
        f = lambda: mse(lin(relu(lin(ts[0], *ts[1:3])), *ts[3:]), ys.to(dtype))
        g = torch.cat([t.g.flatten() for t in (xs, *ps64)])
        numerical = torch.cat([num_grad(f, t, eps).flatten() for t in ts]).double()
        return ((numerical - g).abs().max() / g.abs().max()).item()
    epss = 10. ** np.arange(-10, 0.5, 0.5)
    e32, e64 = [np.array([num_err(dt, e) for e in epss]) for dt in (torch.float32, torch.float64)]
    at = lambda e: int(np.abs(np.log10(epss / e)).argmin())
    h = lin(xs, *ps64[:2])
    reach = torch.maximum(xs.abs().amax(1, keepdim=True), ps64[0].abs().amax(0)).clamp_min(1.)
    eps_kink = (h.abs() / reach).min().item()
    smooth = epss < eps_kink
    rounding = smooth & (epss < 1e-3)
    slope = np.polyfit(np.log10(epss[rounding]), np.log10(e64[rounding]), 1)[0]
    return dict(e64_at_1e_6=e64[at(1e-6)], e32_at_1e_6=e32[at(1e-6)], e64_times_eps_smooth=(e64 * epss)[smooth].max(),
                slope=slope, kink_precision=tolerance_used(e32[at(0.1):], e64[at(0.1):], rtol=0.01),
                eps_kink=eps_kink, e64_at_1e_2=e64[at(1e-2)])

CHECKS = [
    Check('backprop.hidden_scale', f'{NB}#c0014', run_hidden_scale, dict(hidden_ms=(0.5, 2))),
    Check('backprop.rounding', f'{NB}#c0020,c0022', run_rounding,
          dict(outer_vs_einsum=(None, 1), outer_vs_matmul=(None, 1), layouts=(None, 1)),
          note='share of test_near tolerance (default rtol=1e-3, atol=1e-5) used; fails above 1'),
    Check('backprop.num_grad', f'{NB}#c0047', run_num_grad, dict(tolerance_used=(None, 1)),
          note='share of the tolerance (rtol=1e-8, atol=1e-9) used, worst tensor; fails above 1'),
    Check('backprop.num_err', f'{NB}#c0050', run_num_err, dict(
        e64_at_1e_6=(None, 1e-9), e32_at_1e_6=(1e-2, None), e64_times_eps_smooth=(None, 1e-14),
        slope=(-1.1 - 1e-5, -0.9 + 1e-5), kink_precision=(None, 1)),
          note='kink_precision: share of the tolerance (rtol=0.01, atol=1e-5) used; eps_kink and e64_at_1e_2 (the old '
               'assertion, < 1e-12) are returned for information'),
]
