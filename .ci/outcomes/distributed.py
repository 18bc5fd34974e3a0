"""Outcomes asserted in nbs/07_distributed.ipynb: each `run(seed)` recomputes a cell's numbers,
with the cell's seed replaced by `seed`. The ranks run the library's functions (a new process imports what it runs)."""
import copy, tempfile
from pathlib import Path
import torch
from spread import Check
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data
from kaiming_nb.training import OneProcess, get_model, train
from kaiming_nb.distributed import SYNCS, launch, train_steps, compare_syncs, train_rank

NB = '07_distributed.ipynb'

def run_syncs(seed):
    "d0062: 20 steps of the MLP, 1 process against 2 ranks synchronized each way: the largest weight difference."
    x, y, _, _ = get_data(subset=True, verbose=False)
    x, y = x[:20 * 64], y[:20 * 64]
    with torch_settings(seed=seed):
        mlp = get_model('mlp')
    one, _ = train_steps(OneProcess(), copy.deepcopy(mlp), x, y, sync=None, seed=seed)
    two = launch(compare_syncs, 2, mlp, x, y, seed=seed)[0]
    return {f'{sync}_diff': max((two[sync][0][k] - one[k]).abs().max().item() for k in one) for sync in SYNCS}

def run_main_job(seed):
    "d0085: the main job on 1 and 2 processes, the MLP for 3 epochs and the CNN for 2: how far apart."
    out = {}
    for arch in ('mlp', 'cnn'):
        job = dict(arch=arch, epochs=3 if arch == 'mlp' else 2, subset=True, progress=False, verbose=False, seed=seed)
        one = train_rank(OneProcess(), **job)[0].epochs[-1]
        two = launch(train_rank, 2, **job)[0][0].epochs[-1]
        out[f'{arch}_valid_loss_diff'] = abs(two['valid_loss'] - one['valid_loss'])
        out[f'{arch}_accuracy_diff'] = abs(two['accuracy'] - one['accuracy'])
    return out

def run_resume(seed):
    "d0098: one epoch on 2 processes, saved, then one more in one process: the accuracy lost (negative: gained)."
    with tempfile.TemporaryDirectory() as tmp:
        fn = Path(tmp) / 'two.pt'
        launch(train_rank, 2, subset=True, epochs=1, seed=seed, save=fn, progress=False, verbose=False)
        saved = torch.load(fn, weights_only=True)['meta']['metrics']['accuracy']
        _, hist, _ = train(subset=True, epochs=1, resume=fn, progress=False, verbose=False)
    return dict(accuracy_lost=saved - hist.epochs[0]['accuracy'])

CHECKS = [
    Check('distributed.syncs', f'{NB}#d0062', run_syncs, {f'{sync}_diff': (None, 1e-6) for sync in SYNCS},
          note='test_close(eps=1e-6) of every weight against one process'),
    Check('distributed.main_job', f'{NB}#d0085', run_main_job,
          dict(mlp_valid_loss_diff=(None, 5e-3), mlp_accuracy_diff=(None, 5e-3), cnn_accuracy_diff=(None, 0.02))),
    Check('distributed.resume', f'{NB}#d0098', run_resume, dict(accuracy_lost=(None, 0.01))),
]
