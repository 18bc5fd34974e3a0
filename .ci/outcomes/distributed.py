"""Outcomes asserted in nbs/07_distributed.ipynb: each `run(seed)` recomputes a cell's numbers,
with the cell's seed replaced by `seed`. The ranks run the library's functions (a new process imports what it runs)."""
import copy
from spread import Check
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data
from kaiming_nb.training import get_model
from kaiming_nb.distributed import OneProcess, launch, fit_parallel, _SYNCS, _compare_syncs

NB = '07_distributed.ipynb'

def run_syncs(seed):
    """d0062: 20 steps of the MLP, 1 process against 2 ranks synchronized each way: the largest weight difference, and
    the differences of the metrics."""
    x, y, xv, yv = get_data(subset=True, verbose=False)
    data = (x[:20 * 64], y[:20 * 64], xv[:999], yv[:999])
    with torch_settings(seed=seed):
        mlp = get_model('mlp')
    one, one_hist = fit_parallel(OneProcess(), copy.deepcopy(mlp), data, sync=None, seed=seed)
    two = launch(_compare_syncs, 2, mlp, data, seed=seed)[0]
    out = {}
    for sync in _SYNCS:
        weights, hist, _ = two[sync]
        out[f'{sync}_diff'] = max((weights[k] - one[k]).abs().max().item() for k in one)
        for m in ('train_loss', 'valid_loss'):
            out[f'{sync}_{m}_diff'] = abs(hist.epochs[0][m] - one_hist.epochs[0][m])
    return out

CHECKS = [
    Check('distributed.syncs', f'{NB}#d0062', run_syncs,
          {f'{sync}_{q}': (None, eps) for sync in _SYNCS
           for q, eps in (('diff', 1e-6), ('train_loss_diff', 1e-5), ('valid_loss_diff', 1e-5))},
          note='test_close of every weight (eps=1e-6) and of the losses (eps=1e-5) against one process'),
]
