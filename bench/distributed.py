"""Data parallelism on full MNIST: the main job's CNN recipe, one epoch, in one run.

- 1 process of 2 threads (`train`, as `kaiming_nb_train` runs it) against 2 processes of 1 thread each (`launch`,
  as `kaiming_nb_train --nproc 2` runs it), with the same global batch and schedule;
- at the same settings, our `DataParallel` against torch's `DistributedDataParallel` (DDP);
- and, for the ceiling, 2 processes that do not average their gradients at all: timing only, not a valid training
  (each rank trains its own model on half the data).

Prints samples/s of the epoch (training only, as `fit` times it), the validation accuracy of each run, the median over
--runs (run in turn, interleaved), the ratios, and the machine. Full MNIST comes from get_data(data, full=True):
--data, $KAIMING_NB_DATA, the cache, or a download.

    python bench/distributed.py [--data FOLDER] [--runs 3] [--arch cnn]
"""
import argparse, os, platform, statistics
import torch
from torch.nn.parallel import DistributedDataParallel
from kaiming_nb.core import torch_settings
from kaiming_nb.data import get_data
from kaiming_nb.distributed import World, OneProcess, launch
from kaiming_nb.app import train_rank
from machine import machine_line

class TorchDDP(World):
    "A `World` whose model is wrapped by torch's DDP instead of our `DataParallel`."
    def wrap(self, model): return DistributedDataParallel(model)

class NoSync(World):
    "A `World` whose ranks never average their gradients: the time of the computation alone."
    def wrap(self, model): return model

def train_rank_as(world, kind, **kwargs):
    "`train_rank` on `world`, as a `kind` of `World`."
    return train_rank(kind(world.rank, world.size, world.device), **kwargs)

def one_process(**kwargs):
    "`train_rank` in this process, on 2 threads."
    with torch_settings(threads=2):
        return [train_rank(OneProcess(), **kwargs)]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', help='full MNIST; default: $KAIMING_NB_DATA, the cache, a download')
    p.add_argument('--runs', type=int, default=3, help='runs of each setting, interleaved; the median is reported')
    p.add_argument('--arch', default='cnn', help='mlp or cnn')
    a = p.parse_args()
    print(machine_line())
    n = len(get_data(a.data, full=True, verbose=False)[0])   # fails here, at once, if full MNIST is not found
    job = dict(arch=a.arch, data=a.data, full=True, epochs=1, progress=False, verbose=False)
    settings = {'1 process x 2 threads': lambda: one_process(**job),
                '2 processes x 1 thread, ours': lambda: launch(train_rank, 2, threads=1, **job),
                '2 processes x 1 thread, DDP': lambda: launch(train_rank_as, 2, TorchDDP, threads=1, **job),
                '2 processes x 1 thread, no sync': lambda: launch(train_rank_as, 2, NoSync, threads=1, **job)}
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {os.cpu_count()} cores ({cpu}); {a.arch}, its recipe's batch, 1 epoch on "
          f"{n:,} images; median of {a.runs} runs")
    speed = {k: [] for k in settings}
    accs = {k: [] for k in settings}
    for _ in range(a.runs):
        for k, run in settings.items():
            hist, _ = run()[0]
            speed[k].append(n / hist.epochs[0]['secs'])
            accs[k].append(hist.epochs[0]['accuracy'])
    median = {k: statistics.median(v) for k, v in speed.items()}
    for k in settings:
        print(f"{k:32s} {median[k]:>8,.0f} samples/s   valid accuracy {', '.join(f'{x:.4f}' for x in accs[k])}")
    print(f"2 processes / 1 process: {median['2 processes x 1 thread, ours'] / median['1 process x 2 threads']:.2f}x "
          f"(ours), {median['2 processes x 1 thread, DDP'] / median['1 process x 2 threads']:.2f}x (DDP)")
    print(f"ours / DDP: {median['2 processes x 1 thread, ours'] / median['2 processes x 1 thread, DDP']:.2f}x")
    print(f"the ceiling, 2 processes without communication / 1 process: "
          f"{median['2 processes x 1 thread, no sync'] / median['1 process x 2 threads']:.2f}x")

if __name__ == '__main__': main()
