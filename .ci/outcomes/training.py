"""Outcomes asserted in nbs/05_training.ipynb: each `run(seed)` recomputes a cell's numbers,
with the cell's seed replaced by `seed`."""
import math
import torch, torch.nn as nn
from spread import Check, mnist, tolerance_used
from kaiming_nb.core import torch_settings
from kaiming_nb.loss import cross_entropy, accuracy
from kaiming_nb.training import Optimizer, Dataset, DataLoader, fit, evaluate, CheckFiniteCB, MetricsCB

NB = '05_training.ipynb'
LR, EPOCHS, BS, NH = 0.2, 2, 64, 50   # the notebook's `lr, epochs, bs` and `nh`

def valid_acc(model):
    "The notebook's `valid_acc`."
    _, _, x_valid, y_valid = mnist()
    with torch.no_grad(): return accuracy(model(x_valid), y_valid).item()

class Model(nn.Module):
    "The notebook's first `Model`: layers in a plain list."
    def __init__(self, n_in, nh, n_out):
        super().__init__()
        self.layers = [nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out)]
    def __call__(self, x):
        for l in self.layers: x = l(x)
        return x

class MLP(nn.Module):
    "The notebook's `MLP`."
    def __init__(self, n_in, nh, n_out):
        super().__init__()
        self.l1, self.l2, self.relu = nn.Linear(n_in, nh), nn.Linear(nh, n_out), nn.ReLU()
    def forward(self, x): return self.l2(self.relu(self.l1(x)))

class SequentialModel(nn.Module):
    "The notebook's `SequentialModel`."
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
    def forward(self, x):
        for l in self.layers: x = l(x)
        return x

def new_mlp(): return nn.Sequential(nn.Linear(784, NH), nn.ReLU(), nn.Linear(NH, 10))

def fit_basic(model, epochs=EPOCHS):
    "The notebook's `fit_basic` (c0022)."
    x_train, y_train, _, _ = mnist()
    n = len(x_train)
    for epoch in range(epochs):
        for i in range(0, n, BS):
            s = slice(i, min(n, i + BS))
            loss = cross_entropy(model(x_train[s]), y_train[s])
            loss.backward()
            with torch.no_grad():
                for p in model.parameters(): p -= p.grad * LR
                model.zero_grad()

def run_init_loss(seed):
    "c0008-c0009: the loss of the untrained `Model` on the first 64 training images."
    x_train, y_train, _, _ = mnist()
    with torch_settings(seed=seed):
        model = Model(784, NH, 10)
    return dict(loss=cross_entropy(model(x_train[:64]), y_train[:64]).item())

def run_bare(seed):
    "c0008, c0012, c0014: the bare loop, by hand layer by layer, from the `Model` of c0008."
    x_train, y_train, _, _ = mnist()
    n = len(x_train)
    with torch_settings(seed=seed):
        model = Model(784, NH, 10)
    for epoch in range(EPOCHS):
        for i in range(0, n, BS):
            s = slice(i, min(n, i + BS))
            loss = cross_entropy(model(x_train[s]), y_train[s])
            loss.backward()
            with torch.no_grad():
                for l in model.layers:
                    if hasattr(l, 'weight'):
                        l.weight -= l.weight.grad * LR
                        l.bias -= l.bias.grad * LR
                        l.weight.grad.zero_()
                        l.bias.grad.zero_()
    return dict(valid_acc=valid_acc(model))

def run_fit_basic(make):
    "c0022, c0024, c0025: `fit_basic` on the model `make()` builds."
    def run(seed):
        with torch_settings(seed=seed):
            model = make()
        fit_basic(model)
        return dict(valid_acc=valid_acc(model))
    return run

class CourseOptimizer():
    "The notebook's first, the course's, `Optimizer` (y0001)."
    def __init__(self, params, lr=0.5):
        self.params = list(params)
        self.lr = lr

    def step(self):
        with torch.no_grad():
            for p in self.params:
                p -= p.grad * self.lr

    def zero_grad(self):
        for p in self.params:
            p.grad.data.zero_()

class CourseDataLoader():
    "The notebook's first, the course's, `DataLoader` (y0008): batches in order."
    def __init__(self, ds, bs):
        self.ds = ds
        self.bs = bs
    def __iter__(self):
        for i in range(0, len(self.ds), self.bs):
            yield self.ds[i:i + self.bs]

def course_fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    "The notebook's course `fit` (y0011), without its printing."
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss = loss_func(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with torch.no_grad():
            tot_loss, tot_acc, count = 0., 0., 0
            for xb, yb in valid_dl:
                preds = model(xb)
                n = len(xb)
                count += n
                tot_loss += loss_func(preds, yb).item() * n
                tot_acc += accuracy(preds, yb).item() * n
    return tot_loss / count, tot_acc / count

def run_optimizer(seed):
    "c0030: two epochs (`epochs`) with the course's `Optimizer`."
    x_train, y_train, _, _ = mnist()
    n = len(x_train)
    with torch_settings(seed=seed):
        model = new_mlp()
    opt = CourseOptimizer(model.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        for i in range(0, n, BS):
            s = slice(i, min(n, i + BS))
            loss = cross_entropy(model(x_train[s]), y_train[s])
            loss.backward()
            opt.step()
            opt.zero_grad()
    return dict(valid_acc=valid_acc(model))

def run_course_vs_ours(seed):
    "y0003: 10 steps of the course's `Optimizer` and of ours (lr 0.1), from the same start: `test_near`'s share used."
    x_train, y_train, _, _ = mnist()
    models = []
    for opt_class in (CourseOptimizer, Optimizer):
        with torch_settings(seed=seed):
            model = new_mlp()
        opt = opt_class(model.parameters(), lr=0.1)
        for i in range(10):
            cross_entropy(model(x_train[i * BS:(i + 1) * BS]), y_train[i * BS:(i + 1) * BS]).backward()
            opt.step()
            opt.zero_grad()
        models.append([p.detach() for p in model.parameters()])
    return dict(tolerance_used=max(tolerance_used(p, q) for p, q in zip(*models)))

def run_course_fit(seed):
    "y0012: the course's `fit`, `DataLoader` (batches in order) and `Optimizer`, two epochs."
    x_train, y_train, x_valid, y_valid = mnist()
    with torch_settings(seed=seed):
        model = new_mlp()
    train_dl = CourseDataLoader(Dataset(x_train, y_train), BS)
    valid_dl = CourseDataLoader(Dataset(x_valid, y_valid), 1000)
    loss, acc = course_fit(EPOCHS, model, cross_entropy, CourseOptimizer(model.parameters(), LR), train_dl, valid_dl)
    return dict(valid_acc=acc)

def run_fit(seed):
    "c0049, c0050, c0054: `fit` for 3 epochs with momentum; then `evaluate` in one batch and in batches of 1,999."
    x_train, y_train, x_valid, y_valid = mnist()
    train_ds, valid_ds = Dataset(x_train, y_train), Dataset(x_valid, y_valid)
    with torch_settings(seed=seed):
        model = new_mlp()
    train_dl, valid_dl = DataLoader(train_ds, BS, shuffle=True, seed=seed), DataLoader(valid_ds, BS * 2)
    hist = fit(3, model, cross_entropy, Optimizer(model.parameters(), lr=0.02, mom=0.9), train_dl, valid_dl,
               cbs=[CheckFiniteCB(), MetricsCB(verbose=False)])   # c0049's default callbacks, without bars and printing
    vl_full, acc_full = evaluate(model, cross_entropy, DataLoader(valid_ds, len(valid_ds)))
    vl_odd, acc_odd = evaluate(model, cross_entropy, DataLoader(valid_ds, len(valid_ds) - 1))
    return dict(accuracy=hist.epochs[-1]['accuracy'],
                train_loss_drop=hist.epochs[0]['train_loss'] - hist.epochs[-1]['train_loss'],
                valid_loss_diff=abs(vl_odd - vl_full), accuracy_diff=abs(acc_odd - acc_full))

def run_torch_pieces(seed):
    "c0056: `fit` with PyTorch's `DataLoader` (shuffled by torch's global generator) and `SGD`."
    x_train, y_train, x_valid, y_valid = mnist()
    train_ds, valid_ds = Dataset(x_train, y_train), Dataset(x_valid, y_valid)
    with torch_settings(seed=seed):
        model = new_mlp()
        h = fit(2, model, cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1),
                torch.utils.data.DataLoader(train_ds, BS, shuffle=True), torch.utils.data.DataLoader(valid_ds, 256),
                cbs=[CheckFiniteCB(), MetricsCB(verbose=False)])
    return dict(accuracy=h.epochs[-1]['accuracy'])

CHECKS = [
    Check('training.init_loss', f'{NB}#c0009', run_init_loss, dict(loss=(math.log(10) - 0.25, math.log(10) + 0.25))),
    Check('training.bare_loop', f'{NB}#c0014', run_bare, dict(valid_acc=(0.88, None))),
    Check('training.mlp_module', f'{NB}#c0022', run_fit_basic(lambda: MLP(784, NH, 10)), dict(valid_acc=(0.88, None))),
    Check('training.module_list', f'{NB}#c0024',
          run_fit_basic(lambda: SequentialModel([nn.Linear(784, NH), nn.ReLU(), nn.Linear(NH, 10)])),
          dict(valid_acc=(0.88, None))),
    Check('training.sequential', f'{NB}#c0025', run_fit_basic(new_mlp), dict(valid_acc=(0.88, None))),
    Check('training.optimizer', f'{NB}#c0030', run_optimizer, dict(valid_acc=(0.88, None))),
    Check('training.course_optimizer', f'{NB}#y0003', run_course_vs_ours, dict(tolerance_used=(None, 1))),
    Check('training.course_fit', f'{NB}#y0012', run_course_fit, dict(valid_acc=(0.88, None))),
    Check('training.fit', f'{NB}#c0050,c0054', run_fit, dict(
        accuracy=(0.91, None), train_loss_drop=(0, None), valid_loss_diff=(None, 1e-5), accuracy_diff=(None, 1e-6))),
    Check('training.torch_pieces', f'{NB}#c0056', run_torch_pieces, dict(accuracy=(0.75, None))),
]
