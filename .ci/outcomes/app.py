"""Outcomes asserted in nbs/09_app.ipynb: each `run(seed)` recomputes a cell's numbers,
with the cell's seed (the default of `train` and `kaiming_nb_train`, 42) replaced by `seed`. The ranks run the
library's functions (a new process imports what it runs)."""
import tempfile
from functools import partial
from pathlib import Path
import torch
from spread import Check
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.loss import cross_entropy
from kaiming_nb.training import Dataset, DataLoader, fit, get_model, one_cycle, CheckFiniteCB, MetricsCB, ScheduleCB
from kaiming_nb.distributed import OneProcess, launch
from kaiming_nb.app import train, train_rank, load_model

NB = '09_app.ipynb'
QUIET = dict(progress=False, verbose=False)

def run_train(arch, **kw):
    "c0077, c0079, c0081: the main job."
    def run(seed):
        model, hist, ls = train(arch, seed=seed, **QUIET, **kw)
        return dict(accuracy=hist.epochs[-1]['accuracy'])
    return run

def run_train_cnn(seed):
    "c0077, c0079: the CNN for 2 epochs, and how much better it does than the MLP for 3 (`train`'s defaults)."
    mlp_acc = run_train('mlp', subset=True)(seed)['accuracy']
    acc = run_train('cnn', subset=True, epochs=2, lr=0.2, bs=64)(seed)['accuracy']
    return dict(accuracy=acc, over_mlp=acc - mlp_acc)

def run_lenet_full(seed):
    "f0004: the one-epoch recipe (LeNet, Adam, label smoothing 0.1) on full MNIST."
    x, y, xv, yv = get_data(full=True, verbose=False)
    m, s = stats(x)
    x, xv = normalize(x, m, s), normalize(xv, m, s)
    with torch_settings(seed=seed):
        model = get_model('lenet').to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.7, 0.9))
        train_dl = DataLoader(Dataset(x, y), 128, shuffle=True, seed=seed)
        cbs = [CheckFiniteCB(), MetricsCB(verbose=False), ScheduleCB(one_cycle(0.01))]
        hist = fit(1, model, partial(cross_entropy, smoothing=0.1), opt, train_dl, DataLoader(Dataset(xv, yv), 1024),
                   cbs=cbs)
    return dict(accuracy=hist.epochs[-1]['accuracy'])

def run_main_job(seed):
    "d0085: the main job on 1 and 2 processes, the MLP for 3 epochs and the CNN for 2: how far apart."
    out = {}
    for arch in ('mlp', 'cnn'):
        job = dict(arch=arch, epochs=3 if arch == 'mlp' else 2, subset=True, seed=seed, **QUIET)
        one = train_rank(OneProcess(), **job)[0].epochs[-1]
        two = launch(train_rank, 2, **job)[0][0].epochs[-1]
        out[f'{arch}_valid_loss_diff'] = abs(two['valid_loss'] - one['valid_loss'])
        out[f'{arch}_accuracy_diff'] = abs(two['accuracy'] - one['accuracy'])
    return out

def run_resume(seed):
    """d0095, d0098: a checkpoint of 2 processes (`--nproc 2`, 1 epoch) trained on for 1 epoch in one process, and
    one of one process (d0095's `cli.pt`: 2 epochs) trained on for 1 epoch in 2: the accuracy lost (negative:
    gained); and how far the saved model's `predict` is from the accuracy it saved."""
    _, _, x_valid, y_valid = get_data(subset=True, verbose=False)   # raw pixels, as `predict` takes them
    with tempfile.TemporaryDirectory() as tmp:
        two_fn, one_fn = Path(tmp)/'two.pt', Path(tmp)/'cli.pt'
        launch(train_rank, 2, subset=True, epochs=1, seed=seed, device='cpu', save=two_fn, **QUIET)  # --nproc 2
        clf = load_model(two_fn)
        two_saved = clf.meta['metrics']['accuracy']
        predict_diff = abs((clf.predict(x_valid) == y_valid).float().mean().item() - two_saved)
        _, hist, _ = train(subset=True, epochs=1, resume=two_fn, seed=seed, **QUIET)
        two_to_one = two_saved - hist.epochs[0]['accuracy']
        train(subset=True, epochs=2, device='cpu', seed=seed, save=one_fn, **QUIET)   # d0095's command line
        one_saved = load_model(one_fn).meta['metrics']['accuracy']
        hist, _ = launch(train_rank, 2, subset=True, epochs=1, resume=one_fn, seed=seed, **QUIET)[0]
        one_to_two = one_saved - hist.epochs[0]['accuracy']
    return dict(predict_diff=predict_diff, two_to_one_accuracy_lost=two_to_one, one_to_two_accuracy_lost=one_to_two)

CHECKS = [
    Check('app.train_mlp', f'{NB}#c0077', run_train('mlp', subset=True), dict(accuracy=(0.92, None))),
    Check('app.train_cnn', f'{NB}#c0077,c0079', run_train_cnn, dict(accuracy=(0.95, None), over_mlp=(0, None)),
          note='over_mlp: the CNN after 2 epochs minus the MLP after 3 (c0077), same seed'),
    Check('app.train_cnn_full', f'{NB}#c0081', run_train('cnn', full=True), dict(accuracy=(0.985, None)),
          slow=True),
    Check('app.lenet_full', f'{NB}#f0004', run_lenet_full, dict(accuracy=(0.985, None)), slow=True),
    Check('app.main_job', f'{NB}#d0085', run_main_job,
          dict(mlp_valid_loss_diff=(None, 5e-3), mlp_accuracy_diff=(None, 5e-3), cnn_accuracy_diff=(None, 0.02)),
          note='test_close of the last epoch of 2 processes against 1'),
    Check('app.resume', f'{NB}#d0095,d0098', run_resume,
          dict(predict_diff=(None, 1e-6), two_to_one_accuracy_lost=(None, 0.01), one_to_two_accuracy_lost=(None, 0.01)),
          note='accuracy_lost: the saved accuracy minus that after 1 more epoch (the test: gained > -0.01)'),
]
