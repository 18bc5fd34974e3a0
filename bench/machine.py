"""The line every benchmark prints first: the CPU, torch and its threads, and the load average, with a warning."""
import os, platform, torch

def _cpu_name():
    "The CPU's model name from /proc/cpuinfo, or what `platform` knows."
    try:
        with open('/proc/cpuinfo') as f:
            return next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()

def machine_line(threads=None, # the threads the benchmark uses; None: torch's
                ):
    "The CPU, cores, torch and threads, the 1-minute load average; a warning if the machine was busy at the start."
    load, cores, threads = os.getloadavg()[0], os.cpu_count(), threads or torch.get_num_threads()
    line = (f"{_cpu_name()}, {cores} cores, torch {torch.__version__}, {threads} thread{'s' * (threads != 1)}; "
            f"load average {load:.2f} at the start")
    if load >= cores / 2:
        line += (f"\nwarning: the machine is busy (load average {load:.2f} on {cores} cores): times taken beside other "
                 "work can be off by 3-4x; run benchmarks alone")
    return line
