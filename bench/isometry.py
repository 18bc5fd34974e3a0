"""The depth record of chapter 08: plain nets (no normalization, no residual connections) on full MNIST, trained by
their initialization alone. One row per net and init: 'isometric' (tanh at criticality, orthogonal or delta-orthogonal
weights), Kaiming's normal init and PyTorch's default (ReLU nets), with the time and the accuracy after each epoch. A
net still at chance after its first epoch stops there. Then the speed of our `jacobian` against torch.func's jacrev
under vmap, the idiomatic PyTorch way, on the same net in the same run.

    python bench/isometry.py [--data FOLDER] [--rows mlp:1000:10,cnn:100:4] [--inits isometric,kaiming_normal,default]
                             [--lr 0.01] [--cnn-lr 0.05] [--bs 128] [--threads 1] [--device cpu] [--steps N]
                             [--no-jacobian]

--steps N trains on the first N batches' worth of images only (a fixed budget, for a GPU run or a smoke test).
A deeper net needs a smaller learning rate: the CNN's 0.05 suits depth 100 to 200, but leaves depth 1,000 at chance
after one epoch; at 0.01, four epochs (--rows cnn:1000:4 --cnn-lr 0.01 --threads 2) reach 98.0% in 27 minutes
(chapter 08, "The depth record"). The 1,000-layer MLP's sixteen epochs (--rows mlp:1000:16 --threads 2) reach 97.0% in
30 to 32 minutes; at --bs 256, the peak learning rate 0.02 did not settle.
"""
import argparse, platform, time
import torch
from kaiming_nb.core import torch_settings, format_table
from kaiming_nb.data import get_data, normalize, stats
from kaiming_nb.init import init_weights_
from kaiming_nb.isometry import jacobian
from kaiming_nb.deep import plain_mlp, depth_run
from machine import machine_line

def jacobian_speed(depth=1000, width=128, n=4):
    "Seconds for the Jacobian of a plain tanh net at `depth`, ours and torch.func's, and their largest difference."
    net = init_weights_(plain_mlp(depth, width, width, width), 'isometric').double()
    x = torch.randn(n, width, dtype=torch.float64)
    t0 = time.perf_counter()
    ours = jacobian(net, x)
    t1 = time.perf_counter()
    theirs = torch.func.vmap(torch.func.jacrev(lambda xi: net(xi[None])[0]))(x)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, (ours - theirs).abs().max().item()

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data',
                   help='MNIST IDX folder; default: get_data(full=True): $KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--rows', default='mlp:1000:10,cnn:100:4', help='comma-separated arch:depth:epochs')
    p.add_argument('--inits', default='isometric,kaiming_normal,default')
    p.add_argument('--lr', type=float, default=0.01, help="peak learning rate of the MLPs")
    p.add_argument('--cnn-lr', type=float, default=0.05, help="peak learning rate of the CNNs")
    p.add_argument('--bs', type=int, default=128, help="batch size")
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu', help="where the nets train: cpu, cuda, cuda:N")
    p.add_argument('--steps', type=int, default=None, help="train on the first STEPS * BS images only")
    p.add_argument('--no-jacobian', action='store_true', help="skip the Jacobian's timing")
    a = p.parse_args()
    if a.bs < 1: p.error(f"--bs must be at least 1, got {a.bs}")
    print(machine_line(a.threads))
    x, y, xv, yv = get_data(a.data, full=True)
    m, s = stats(x)
    n = None if a.steps is None else a.steps * a.bs
    data = tuple(t.to(a.device) for t in (normalize(x[:n], m, s), y[:n], normalize(xv, m, s), yv))
    where = torch.cuda.get_device_name(a.device) if a.device.startswith('cuda') else platform.processor()
    print(f"{where or platform.machine()}, torch {torch.__version__}, {a.threads} thread(s), "
          f"denormals flushed; {len(data[0]):,} training images; width 128, batch {a.bs}, momentum 0.9, "
          "clipping at norm 1, one-cycle", flush=True)
    rows = []
    with torch_settings(threads=a.threads, flush_denormal=True):
        for arch, depth, epochs in (r.split(':') for r in a.rows.split(',')):
            for init in a.inits.split(','):
                lr = a.lr if arch == 'mlp' else a.cnn_lr
                r = depth_run(arch, int(depth), init, data, int(epochs), lr=lr, bs=a.bs, seed=a.seed, give_up=0.2,
                              verbose=True)
                r['lr'] = lr
                r['minutes'] = r['wall_s'] / 60
                r['accs'] = ' '.join(f'{v:.4f}' for v in r['accs'])
                rows.append(r)
                print(format_table([r], ['arch', 'depth', 'init', 'lr', 'epochs', 'acc', 'minutes'], fmt='.4g'),
                      flush=True)
        if not a.no_jacobian:
            ours, theirs, diff = jacobian_speed()
    print(f"\n{format_table(rows, ['arch', 'depth', 'init', 'lr', 'epochs', 'acc', 'minutes', 'accs'], fmt='.4g')}")
    print(f"total {sum(r['wall_s'] for r in rows) / 60:.1f} minutes")
    if a.no_jacobian:
        return
    print(f"\nJacobian of a 1,000-layer tanh net, 4 samples of width 128, float64: ours {ours:.2f} s, torch.func "
          f"vmap(jacrev) {theirs:.2f} s, ratio {theirs / ours:.2f}x; largest difference {diff:.1e}")

if __name__ == '__main__': main()
