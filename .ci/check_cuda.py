#!/usr/bin/env python
"""The library on a CUDA GPU, against PyTorch on the same GPU: run by hand on a machine with one
(`python .ci/check_cuda.py`; `python .ci/check_cuda.py cpu` runs the same checks on the CPU, to try the script itself).

The notebooks' tests run on the CPU; this checks the paths they cannot: init on the device tensors (bit for bit against
`torch.nn.init`, same CUDA generator), hand-written gradients, cross-entropy at +-1e4 in half precision, the optimizer
against `torch.optim.SGD`, `fit` (with its metrics summed on the GPU)/`evaluate`/`layer_stats` with the model on the
GPU and the data on the CPU, the deep chapter's hooks and LSUV (`init_weights_(model, 'lsuv', xb)`), and the app's
main job (`train(device=...)`, `save`, `load_model`). It prints one line per check and exits 1 if any fails;
without CUDA it says so and exits 0.
"""
import math, pathlib, sys, tempfile, time, warnings
import torch, torch.nn.functional as F
from torch import nn
from kaiming_nb.core import _near, model_device
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.init import kaiming_normal_, kaiming_uniform_, xavier_normal_, init_weights_, layer_stats
from kaiming_nb.backprop import init_params, forward_and_backward, lin, relu, mse
from kaiming_nb.loss import cross_entropy
from kaiming_nb.training import Optimizer, Dataset, DataLoader, fit, evaluate, get_model, CheckFiniteCB, MetricsCB
from kaiming_nb.deep import ActivationStats
from kaiming_nb.app import train, load_model

dev, failed = torch.device(sys.argv[1] if len(sys.argv) > 1 else 'cuda'), []
if dev.type == 'cuda' and not torch.cuda.is_available():
    sys.exit(print("check_cuda: no CUDA device; nothing checked") or 0)
print(f"check_cuda: {torch.cuda.get_device_name() if dev.type == 'cuda' else dev}, torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}")

def check(name, ok, detail=''):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok: failed.append(name)

def same_draw(ours, theirs, shape, **kw):
    "Our init and torch's, each from the same seed: bit-identical?"
    torch.manual_seed(0)
    a = ours(torch.empty(shape, device=dev), **kw)
    torch.manual_seed(0)
    b = theirs(torch.empty(shape, device=dev), **kw)
    return torch.equal(a, b)

for f, g in ((kaiming_normal_, nn.init.kaiming_normal_), (kaiming_uniform_, nn.init.kaiming_uniform_),
             (xavier_normal_, nn.init.xavier_normal_)):
    check(f"{f.__name__} on the device == torch's", all(same_draw(f, g, s) for s in ((256, 784), (64, 32, 3, 3))))

xt, yt, xv, yv = get_data(subset=True)
m, s = stats(xt)
xt, xv = normalize(xt, m, s), normalize(xv, m, s)

# Hand-written backprop on the GPU against autograd there.
torch.manual_seed(0)
ws = [w.to(dev) for w in init_params()]
x, y = xt[:4096].to(dev), yt[:4096].float().to(dev)
forward_and_backward(x, y, *ws)
ref = [w.clone().requires_grad_() for w in ws]
mse(lin(relu(lin(x, ref[0], ref[1])), ref[2], ref[3]), y).backward()
check("forward_and_backward on the device == autograd", all(_near(w.g, r.grad) for w, r in zip(ws, ref)))

# Cross-entropy stays finite and right at +-1e4 in every float dtype.
logits = torch.tensor([[1e4, -1e4, 0.], [-1e4, 1e4, 0.]], device=dev)
targ = torch.tensor([1, 1], device=dev)
for dt in (torch.float32, torch.float16, torch.bfloat16):
    ce = cross_entropy(logits.to(dt), targ)
    check(f"cross_entropy at +-1e4 in {dt} on the device",
          ce.isfinite().item() and math.isclose(ce.item(), 1e4, rel_tol=1e-2), f"{ce.item():g}")
p = torch.randn(512, 10, device=dev, requires_grad=True)
check("cross_entropy on the device == F.cross_entropy",
      _near(cross_entropy(p, yt[:512].to(dev)), F.cross_entropy(p, yt[:512].to(dev))))

# Our SGD against torch's, 20 steps on the GPU.
torch.manual_seed(0)
a = nn.Linear(784, 10).to(dev)
b = nn.Linear(784, 10).to(dev)
b.load_state_dict(a.state_dict())
oa = Optimizer(a.parameters(), 0.1, mom=0.9, wd=1e-4)
ob = torch.optim.SGD(b.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
for i in range(20):
    for mdl, opt in ((a, oa), (b, ob)):
        opt.zero_grad()
        F.cross_entropy(mdl(x[i*64:(i+1)*64]), yt[i*64:(i+1)*64].to(dev)).backward()
        opt.step()
check("Optimizer on the device == torch.optim.SGD (20 steps)",
      all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())))

# fit, evaluate and layer_stats with the model on the GPU, the data on the CPU.
torch.manual_seed(0)
model = init_weights_(get_model('cnn'), 'kaiming_normal').to(dev)
train_dl, valid_dl = DataLoader(Dataset(xt, yt), 64, shuffle=True, seed=0), DataLoader(Dataset(xv, yv), 512)
t = time.perf_counter()
hist = fit(1, model, cross_entropy, Optimizer(model.parameters(), 0.1, mom=0.9), train_dl, valid_dl,
           cbs=[CheckFiniteCB(), MetricsCB(verbose=False)])   # fit's default callbacks, without bars and printing
loss, acc = evaluate(model, cross_entropy, valid_dl)
check("fit + evaluate: CNN on the device, data on CPU", model_device(model) == dev and acc > 0.9,
      f"accuracy {acc:.4f} after 1 epoch, {time.perf_counter() - t:.1f} s")
check("fit's metrics, summed on the device, == evaluate's", abs(hist.epochs[-1]['accuracy'] - acc) < 1e-6
      and abs(hist.epochs[-1]['valid_loss'] - loss) < 1e-4 * max(1, abs(loss)),
      f"fit: accuracy {hist.epochs[-1]['accuracy']:.4f}, valid loss {hist.epochs[-1]['valid_loss']:.5f}; "
      f"evaluate: {acc:.4f}, {loss:.5f}")
ls = layer_stats(model, xt[:64], yt[:64], cross_entropy)
check("layer_stats on a model on the device",
      len(ls) > 5 and all(math.isfinite(d['std']) and d['grad_std'] is not None for d in ls))

# The deep chapter (06): activation statistics over training, and LSUV, on the GPU.
layers = [l for i in range(20) for l in (nn.Linear(784 if i == 0 else 100, 100), nn.ReLU())]
deep = nn.Sequential(*layers, nn.Linear(100, 10)).to(dev)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    init_weights_(deep, 'lsuv', xb=xt[:512].to(dev))   # lsuv_init_(deep, xb), through the one init entry
with torch.no_grad(): h = deep(xt[:512].to(dev))   # LSUV's last step: the output layer, to std 1 and mean 0
check("init_weights_(model, 'lsuv', xb) on the device: output std 1, mean 0",
      abs(h.std().item() - 1) < 0.02 and abs(h.mean().item()) < 0.02 and not w,
      f"std {h.std().item():.4f}, mean {h.mean().item():.4f}, {len(w)} warnings")
with ActivationStats(deep) as st:
    fit(1, deep, cross_entropy, Optimizer(deep.parameters(), 0.05, mom=0.9),
        DataLoader(Dataset(xt, yt), 128, shuffle=True, seed=0), valid_dl, cbs=[CheckFiniteCB()])
n = len(DataLoader(Dataset(xt, yt), 128))
pt = st.param_table()
check("ActivationStats on the device",
      all(len(r['std']) == n for r in st.stats) and all(math.isfinite(r['update']) for r in pt),
      f"{len(st.stats)} modules x {n} batches, last layer update:data 10^{pt[-1]['update']:.2f}")

# The main job on the device: the data moved there once, batches drawn there in the CPU's order; a model saved, loaded.
order = lambda d: torch.cat([yb.cpu() for _, yb in DataLoader(Dataset(xt.to(d), yt.to(d)), 256, shuffle=True, seed=7)])
check("DataLoader on the device: the CPU's batch order, same seed", torch.equal(order(dev), order('cpu')))
with tempfile.TemporaryDirectory() as tmp:
    fn = pathlib.Path(tmp)/'m.pt'
    t = time.perf_counter()
    model, hist, _ = train('cnn', subset=True, epochs=1, device=str(dev), save=fn, progress=False, verbose=False)
    raw = get_data(subset=True, verbose=False)[2][:512]
    same = (load_model(fn, device=str(dev)).predict(raw) == load_model(fn).predict(raw)).float().mean().item()
    check("train(device) + save + load_model + predict", model_device(model).type == dev.type and same > 0.99,
          f"accuracy {hist.epochs[-1]['accuracy']:.4f} after 1 epoch, {time.perf_counter() - t:.1f} s; "
          f"predictions as on the CPU: {same:.1%}")

print(f"check_cuda: {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ''))
sys.exit(1 if failed else 0)
