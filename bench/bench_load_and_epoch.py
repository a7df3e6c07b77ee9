"""Time loading CIFAR-10 and one training epoch of each book experiment.

Usage (from the repository root):
    CAE_DATA=../shared/data/cifar10-jpeg.zip .venv/bin/python bench/bench_load_and_epoch.py [NAME ...]

Prints the data load time, then for each experiment (default: all) the wall
time of one epoch on the full training split, in a throw-away cache folder.
Timing lives here, never in the tests.
"""

import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(names):
    from cae_lib import experiments
    from cae_lib.data import load_cifar10
    from cae_lib.runs import run

    t0 = time.perf_counter()
    data = load_cifar10()
    print(f"load_cifar10: {time.perf_counter() - t0:.2f} s ({data.source})")
    with tempfile.TemporaryDirectory() as cache:
        for name in names or experiments.names():
            config = experiments.experiment(name, profile="full", epochs=1)
            result = run(config, data=data, cache_dir=cache, verbose=0)
            print(f"{name:14s} one epoch: {result.train_seconds:7.1f} s   params {result.model.count_params()}")


if __name__ == "__main__":
    main(sys.argv[1:])
