"""Command line: ``python -m cae_lib`` (or ``cae``).

Examples::

    python -m cae_lib list
    CAE_DATA=../shared/data/cifar10-jpeg.zip python -m cae_lib train given_bce --profile smoke
    python -m cae_lib data --source ../shared/data/cifar10-jpeg.zip
    python -m cae_lib tune latent_search --kind hyperband --budget 1024
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _cmd_list(args) -> int:
    from cae_lib import experiments

    for name in experiments.names():
        print(f"{name:14s} {experiments.describe(name)}")
    return 0


def _cmd_data(args) -> int:
    from cae_lib.data import split_indices
    from cae_lib.runs import load_data

    t0 = time.perf_counter()
    data = load_data(args.source)
    seconds = time.perf_counter() - t0
    split = split_indices(data.labels)
    print(f"source:      {data.source}")
    print(f"images:      {data.images.shape} {data.images.dtype}, loaded in {seconds:.1f} s")
    print(f"fingerprint: {data.fingerprint}")
    print(f"split:       train {len(split.train)}, validation {len(split.val)}, test {len(split.test)}")
    return 0


def _cmd_train(args) -> int:
    from cae_lib import experiments
    from cae_lib.runs import load_data, run

    overrides = {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    config = experiments.experiment(args.name, profile=args.profile, **overrides)
    data = load_data(args.source)
    t0 = time.perf_counter()
    result = run(config, data=data, cache_dir=args.cache, retrain=args.retrain or None)
    seconds = time.perf_counter() - t0
    print(f"run:        {config.name} ({config.profile} profile, {result.epochs_run} epochs)")
    print(f"cache:      {result.path}")
    print(f"status:     {'trained' if result.trained else 'loaded from cache'} in {seconds:.1f} s "
          f"(training wall time {result.train_seconds:.1f} s)")
    print("test metrics:")
    print(json.dumps(result.test_metrics, indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m cae_lib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the book's experiments").set_defaults(func=_cmd_list)

    p = sub.add_parser("data", help="load CIFAR-10 and print the split sizes")
    p.add_argument("--source", help="a CIFAR-10 copy (default: CAE_DATA, else Keras' download)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train (or load from cache) one experiment and print its test metrics")
    p.add_argument("name", help="experiment name (see `list`)")
    p.add_argument("--profile", choices=["full", "smoke"], help="default: CAE_PROFILE, else full")
    p.add_argument("--source", help="a CIFAR-10 copy (default: CAE_DATA, else Keras' download)")
    p.add_argument("--cache", help="run cache folder (default: CAE_CACHE, else ~/.cache/cae_lib/runs)")
    p.add_argument("--epochs", type=int, help="override the experiment's epochs")
    p.add_argument("--retrain", action="store_true", help="train even if the run is cached")
    p.set_defaults(func=_cmd_train)

    sub.add_parser(
        "tune", help="keras-tuner search (see `python -m cae_lib tune --help`)", add_help=False
    ).set_defaults(func=None)

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["tune"]:
        from cae_lib import tuning

        return tuning.main(argv[1:])
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
