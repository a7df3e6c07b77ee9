"""Command line: ``cae`` (or ``python -m cae_lib``).

Examples::

    cae list
    cae data --source ../shared/data/cifar10-jpeg.zip
    CAE_DATA=../shared/data/cifar10-jpeg.zip cae train given_bce --profile smoke
    cae train --all                      # fill the cache for the whole book
    cae tune latent_search --kind hyperband --budget 1024

Every error is one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

PROFILE_CHOICES = ("full", "smoke")


def _cmd_list(args) -> int:
    from cae_lib import experiments

    for name in experiments.names():
        print(f"{name:16s} {experiments.describe(name)}")
    for name in experiments.SEARCHES:
        print(f"{name:16s} keras-tuner search ({experiments.search_settings(name)})")
    return 0


def _cmd_data(args) -> int:
    from cae_lib.data import describe_source, load_data, split_indices

    t0 = time.perf_counter()
    data = load_data(args.source)
    seconds = time.perf_counter() - t0
    split = split_indices(data.labels)
    print(f"source:      {describe_source(data)}")
    print(f"images:      {data.images.shape} {data.images.dtype}, loaded in {seconds:.1f} s")
    print(f"fingerprint: {data.fingerprint}")
    print(f"split:       train {len(split.train)}, validation {len(split.val)}, test {len(split.test)}")
    return 0


def _train_one(name: str, args, data) -> None:
    from cae_lib import experiments
    from cae_lib.training import run

    overrides = {} if args.epochs is None else {"epochs": args.epochs}
    config = experiments.experiment(name, profile=args.profile, **overrides)
    t0 = time.perf_counter()
    result = run(config, data=data, cache_dir=args.cache, retrain=args.retrain or None, verbose=args.verbose)
    seconds = time.perf_counter() - t0
    status = "trained" if result.trained else "loaded from cache"
    print(f"run:        {config.name} ({config.profile} profile, {result.epochs_run} epochs)")
    print(f"cache:      {result.path}")
    print(f"status:     {status} in {seconds:.1f} s (training wall time {result.train_seconds:.1f} s)")
    if not args.all:
        print("test metrics:")
        print(json.dumps(result.test_metrics, indent=2, sort_keys=True))
    else:
        print(f"test PSNR:  {result.test_metrics.get('psnr_global_db', float('nan')):.2f} dB (global)")


def _cmd_train(args) -> int:
    from cae_lib import experiments
    from cae_lib.data import load_data

    if args.all == bool(args.names):
        raise ValueError("name the runs to train, or pass --all for every run of the book (see `cae list`)")
    names = experiments.names() if args.all else args.names
    for name in names:
        experiments.describe(name)  # an unknown name fails before anything trains
    data = load_data(args.source)
    for name in names:
        _train_one(name, args, data)
    if args.all:
        for name in experiments.SEARCHES:
            _tune(name, args, data)
    return 0


def _tune(name: str, args, data, **overrides) -> None:
    from cae_lib import experiments, tuning
    from cae_lib.training import run

    settings = experiments.search_settings(name) if name in experiments.SEARCHES else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    result = tuning.search(name, profile=args.profile, data=data, cache_dir=args.cache, **settings)
    print(f"search:     {result.name} ({result.kind}, {result.role}), {len(result.trials)} trials, folder {result.path}")
    for t in result.trials if overrides.get("verbose") else ():
        score = "-" if t["val_mse"] is None else f"{t['val_mse']:.5f}"
        print(f"  trial {t['trial_id']:>4} {t['status']:9s} latent {t['latent_size']:5d} "
              f"params {t['params']:7d} val_mse {score}")
    if result.best is not None and result.role != "worker":
        if args.all or getattr(args, "train_best", False):
            best = run(result.best, data=data, cache_dir=args.cache, verbose=args.verbose)
            print(f"best run:   {best.config.name}, test PSNR {best.test_metrics['psnr_global_db']:.2f} dB")
        else:
            print("best configuration:")
            print(json.dumps(result.best.to_dict(), indent=2, sort_keys=True))


def _cmd_tune(args) -> int:
    from cae_lib.data import load_data

    budget = None if args.no_budget else args.budget
    _tune(
        args.name, args, load_data(args.source), kind=args.kind, latent_budget=budget,
        max_trials=args.max_trials, max_epochs=args.max_epochs, overwrite=args.overwrite or None,
        seed=args.seed, verbose=args.verbose,
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cae", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--profile", choices=PROFILE_CHOICES, help="default: CAE_PROFILE, else full")
        p.add_argument("--source", help="a CIFAR-10 copy (default: CAE_DATA, else Keras' download)")
        p.add_argument("--cache", help="cache folder (default: CAE_CACHE, else ~/.cache/cae_lib/runs)")

    sub.add_parser("list", help="list the book's runs and searches").set_defaults(func=_cmd_list)

    p = sub.add_parser("data", help="load CIFAR-10 and print the split sizes")
    p.add_argument("--source", help="a CIFAR-10 copy (default: CAE_DATA, else Keras' download)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train (or load from the cache) runs and print their test metrics")
    p.add_argument("names", nargs="*", metavar="NAME", help="run names (see `cae list`)")
    p.add_argument("--all", action="store_true", help="every run and search of the book, skipping cached ones")
    common(p)
    p.add_argument("--epochs", type=int, help="override the runs' epochs")
    p.add_argument("--retrain", action="store_true", help="train even if a run is cached")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="0 silent, 1 a progress bar per epoch (default), 2 one line per epoch")
    p.set_defaults(func=_cmd_train)

    from cae_lib.models import CAESpec

    given = CAESpec().latent_size
    p = sub.add_parser("tune", help="keras-tuner search under a latent budget (resumes a stored search)")
    p.add_argument("name", help="search name (names its cache folder); `latent_search` is the book's")
    p.add_argument("--kind", help="hyperband (default), random or bayesian")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=int, default=given, help=f"largest latent size (default {given}, the given net's)")
    budget.add_argument("--no-budget", action="store_true", help="no latent-size limit")
    common(p)
    p.add_argument("--max-trials", type=int, help="trial budget (default: the profile's)")
    p.add_argument("--max-epochs", type=int, help="most epochs per trial (default: the profile's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="start the search again")
    p.add_argument("--train-best", action="store_true", help="then train the best architecture like any run")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=_cmd_tune, all=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return args.func(args)
    except KeyError as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
    except (ValueError, OSError, RuntimeError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted: a run resumes from its last completed epoch when started again", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
