"""Time to quality: the plain Keras recipe against cae_lib's defaults, side by side on the same data and seed.

    python bench/bench_training.py            # the full comparison (CAE_DATA or Keras' CIFAR-10)
    python bench/bench_training.py --quick    # seconds, on a subset: a plumbing check, no ratio judged

Both train the given CAE on the training part of the book's split and are
validated on its validation part after every epoch:

- **plain**: NumPy arrays straight into ``model.fit``, batch 32, Adam 1e-3,
  20 epochs, Keras' own shuffling (the recipe of Keras' autoencoder tutorial);
- **cae_lib**: :func:`cae_lib.training.run` with the library's defaults
  (:class:`cae_lib.training.RunConfig`: batch size, learning-rate schedule,
  early stopping, the seeded input pipeline), MSE loss.

For each it prints images/s (median of the epochs after the first), wall time
per epoch, the validation MSE after each epoch and the total wall time, then
the ratio **time for cae_lib to reach the plain recipe's final validation MSE
/ the plain recipe's total time**. It also measures the training images/s of
the book's colorization and restoration models. It writes ``bench/results/
training.json`` and ``training.md`` (or ``--out``) and says the device,
thread settings and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras


class EpochClock(keras.callbacks.Callback):
    """Records each epoch's wall time, the time since ``start`` and the validation MSE."""

    def __init__(self, start: float):
        super().__init__()
        self.start = start
        self.rows: list[dict] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        logs = logs or {}
        val = logs.get("val_mse", logs.get("val_loss"))
        self.rows.append({"epoch": epoch + 1, "seconds": now - self.t0, "elapsed": now - self.start,
                          "val_mse": float(val)})


def environment() -> dict:
    import keras
    import numpy as np

    info = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }
    try:
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        info["devices"] = [d.device_type for d in tf.config.list_physical_devices()]
        info["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads() or "default (all cores)"
        info["inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads() or "default"
    except ImportError:
        pass
    return info


def write_results(out: str, stem: str, result: dict, text: str) -> None:
    """Write ``result`` as ``<out>/<stem>.json`` and ``text`` as ``<out>/<stem>.md``, and print ``text``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (folder / f"{stem}.md").write_text(text + "\n")
    print(text)


def images_per_second(rows, n_images) -> float:
    later = [r["seconds"] for r in rows[1:]] or [rows[0]["seconds"]]
    return n_images / statistics.median(later)


def plain(data, epochs, batch_size=32):
    from cae_lib.models import given_cae

    keras.utils.set_random_seed(0)
    model = given_cae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mse"])
    clock = EpochClock(time.perf_counter())
    model.fit(data.x_train, data.x_train, batch_size=batch_size, epochs=epochs, shuffle=True,
              validation_data=(data.x_val, data.x_val), callbacks=[clock], verbose=0)
    return clock.rows


def library(config, data_obj, cache_dir):
    from cae_lib.training import run

    clock = EpochClock(time.perf_counter())
    run(config, data=data_obj, cache_dir=cache_dir, retrain=True, callbacks=(clock,))
    return clock.rows


def time_to_reach(rows, target) -> float | None:
    for r in rows:
        if r["val_mse"] <= target:
            return r["elapsed"]
    return None


def throughput(config, data_obj, steps: int) -> float:
    """Training images/s of a model over ``steps`` batches (after one warm-up batch)."""
    from cae_lib import tasks
    from cae_lib.training import compile_model

    arrays = tasks.task_data(config.task, config.profile, data=data_obj)
    model = compile_model(config, tasks.steps_per_epoch(len(arrays.x_train), config.batch_size), arrays)
    batches = tasks.training_batches(arrays.x_train, arrays.y_train, batch_size=config.batch_size, seed=0,
                                     corrupt=config.task.corrupt)
    model.fit(batches, steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
    t0 = time.perf_counter()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return steps * config.batch_size / (time.perf_counter() - t0)


def markdown(result) -> str:
    from cae_lib.tables import markdown_table

    lines = [f"Benchmark of {result['environment']['date']} ({result['mode']}), "
             f"{result['environment']['cpu_count']} cores, {result['environment'].get('devices')}, "
             f"Keras {result['environment']['keras']} on {result['environment']['backend']}", ""]
    rows = [
        {"recipe": name, "images/s": r["images_per_s"], "s / epoch": r["seconds_per_epoch"],
         "epochs": len(r["epochs"]), "final val MSE": r["epochs"][-1]["val_mse"], "total s": r["total_seconds"]}
        for name, r in result["recipes"].items()
    ]
    lines.append(markdown_table(rows, floatfmt={"images/s": ".0f", "s / epoch": ".1f", "final val MSE": ".5f",
                                                "total s": ".0f"}))
    lines += ["", "Time for each recipe to reach the plain recipe's final validation MSE, as a share of the "
              "plain recipe's total time:", ""]
    lines.append(markdown_table([{"recipe": k, "ratio": "not reached" if v is None else v}
                                 for k, v in result["ratios"].items()], floatfmt=".3f"))
    if result["throughput"]:
        lines += ["", markdown_table([{"model": k, "training images/s": v} for k, v in result["throughput"].items()],
                                     floatfmt=".0f")]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a subset and two epochs: seconds, no ratio judged")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"), help="folder for JSON and Markdown")
    parser.add_argument("--source", help="CIFAR-10 copy (default CAE_DATA, else Keras' download)")
    parser.add_argument("--cache", default=None, help="scratch run cache (default: a temporary folder)")
    parser.add_argument("--override", action="append", default=[],
                        help="JSON of RunConfig fields to try besides the defaults (repeatable; for tuning)")
    args = parser.parse_args(argv)

    import tempfile

    from cae_lib import experiments, tasks
    from cae_lib.data import load_data
    from cae_lib.models import CAESpec
    from cae_lib.training import RunConfig

    profile = "smoke" if args.quick else "full"
    epochs = 2 if args.quick else 20
    data_obj = load_data(args.source)
    data = tasks.task_data("reconstruct", profile, data=data_obj)
    cache_dir = args.cache or tempfile.mkdtemp(prefix="cae-bench-")
    base = RunConfig(name="bench_given", model=CAESpec(), loss="mse", metrics=("mse",), profile=profile)
    configs = [base] + [base.with_overrides(**json.loads(o)) for o in args.override]

    recipes = {"plain (batch 32, Adam 1e-3)": plain(data, epochs)}
    for i, config in enumerate(configs):
        label = "cae_lib defaults" if i == 0 else f"cae_lib + {args.override[i - 1]}"
        recipes[f"{label} (batch {config.batch_size}, {config.lr_schedule} lr {config.learning_rate:g})"] = library(
            config, data_obj, cache_dir
        )
    out = {}
    for name, rows in recipes.items():
        out[name] = {
            "epochs": rows,
            "images_per_s": images_per_second(rows, len(data.x_train)),
            "seconds_per_epoch": statistics.median(r["seconds"] for r in rows),
            "total_seconds": rows[-1]["elapsed"],
        }
    plain_rows = recipes["plain (batch 32, Adam 1e-3)"]
    ratios = {}
    for name, rows in recipes.items():
        reached = time_to_reach(rows, plain_rows[-1]["val_mse"])
        out[name]["time_to_plain_quality"] = reached
        ratios[name] = None if reached is None else reached / plain_rows[-1]["elapsed"]
    ratio = list(ratios.values())[1]
    steps = 3 if args.quick else 30
    throughput_rows = {
        name: throughput(experiments.experiment(name, profile=profile), data_obj, steps)
        for name in getattr(experiments, "BENCH_MODELS", ())
    }
    result = {"mode": "quick" if args.quick else "full", "environment": environment(), "recipes": out,
              "ratio": ratio, "ratios": ratios, "throughput": throughput_rows}
    write_results(args.out, "training", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
