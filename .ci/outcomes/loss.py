"""Outcomes asserted in nbs/04_loss.ipynb: each `run(seed)` recomputes a cell's numbers with the cell's seed replaced by
`seed`."""
import math
import torch, torch.nn as nn, torch.nn.functional as F
from spread import Check, mnist, tolerance_used
from kaiming_nb.core import torch_settings
from kaiming_nb.loss import log_softmax, logsumexp, softmax, cross_entropy, accuracy

NB = '04_loss.ipynb'
def data():
    "The subset, normalized with the training statistics, as the notebook has it."
    return dict(zip(('x_train', 'y_train', 'x_valid', 'y_valid'), mnist()))

def get_model(seed):
    "The notebook's `get_model`, its seed 42 replaced by `seed`."
    with torch_settings(seed=seed):
        return nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))

def run_untrained(seed):
    "c0006, asserted in c0030 and c0035: the untrained model's loss and accuracy on the first 1,000 training images."
    d = data()
    with torch.no_grad(): pred = get_model(seed)(d['x_train'][:1000])
    yb = d['y_train'][:1000]
    return dict(loss=cross_entropy(pred, yb).item(), accuracy=accuracy(pred, yb).item())

def log_softmax_naive(x): return (x.exp() / x.exp().sum(-1, keepdim=True)).log()
def log_softmax_diff(x): return x - x.exp().sum(-1, keepdim=True).log()

def run_stability(seed):
    "c0017, asserted in c0018: random logits in float32, bfloat16 and float16 through the naive versions and ours."
    with torch_settings(seed=seed):
        big = torch.randn(64, 10) * 1e4
        small_half = (torch.randn(64, 10) * 30).half()
    cases = [big, big.bfloat16(), big.clamp(-6e4, 6e4).half(), small_half]
    naive_finite, used = 0, 0.
    for x in cases:
        naive_finite += sum(bool(f(x).double().isfinite().all()) for f in (log_softmax_naive, log_softmax_diff))
        tol = dict(rtol=torch.finfo(x.dtype).eps, atol=1e-6)
        xd = x.double()
        used = max(used, tolerance_used(log_softmax(x).double(), F.log_softmax(xd, -1), **tol),
                   tolerance_used(logsumexp(x).double(), xd.logsumexp(-1), **tol),
                   tolerance_used(softmax(x).double(), F.softmax(xd, -1), **tol))
    return dict(naive_finite=naive_finite, ours_tolerance_used=used)

def train(seed, lr=0.25, bs=64):
    """The notebook's `train`: one pass of SGD with our loss on the 156 full mini-batches of the first 10,000 training
    images; and the largest share of `test_near`'s tolerance that the gap to PyTorch's gradients (same weights, same
    batch) uses at any step."""
    d = data()
    model = get_model(seed)
    used = 0.
    for i in range(0, 10_000 // bs * bs, bs):
        xb, yb = d['x_train'][i:i + bs], d['y_train'][i:i + bs]
        cross_entropy(model(xb), yb).backward()
        reference = torch.autograd.grad(F.cross_entropy(model(xb), yb), list(model.parameters()))
        used = max([used] + [tolerance_used(p.grad, g) for p, g in zip(model.parameters(), reference)])
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad.zero_()
    return model, used

def run_train(seed):
    "c0043: our loss trains the model; PyTorch's gives the same gradients at every step; the accuracy at the end."
    d = data()
    model, used = train(seed)
    with torch.no_grad(): preds = model(d['x_valid'])
    loss_gap = tolerance_used(cross_entropy(preds, d['y_valid']), F.cross_entropy(preds, d['y_valid']))
    return dict(grads_tolerance_used=used, loss_tolerance_used=loss_gap, accuracy=accuracy(preds, d['y_valid']).item())

CHECKS = [
    Check('loss.untrained', f'{NB}#c0030,c0035', run_untrained, dict(
        loss=(math.log(10) - 0.2, math.log(10) + 0.2), accuracy=(0.1 - 0.1, 0.1 + 0.1))),
    Check('loss.stability', f'{NB}#c0018', run_stability, dict(naive_finite=(None, 0.5), ours_tolerance_used=(None, 1)),
          note='naive_finite: finite results of the two naive versions over the 4 cases, a count (== 0 written as '
               '< 0.5); ours_tolerance_used: share of the tolerance (rtol=eps of the dtype, atol=1e-6) used, worst '
               'case'),
    Check('loss.train', f'{NB}#c0043', run_train, dict(
        grads_tolerance_used=(None, 1), loss_tolerance_used=(None, 1), accuracy=(0.88, None)),
          note='*_tolerance_used: share of the test_near tolerance (rtol=1e-3, atol=1e-5) used; fails above 1'),
]
