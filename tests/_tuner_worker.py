"""Subprocess helper for tests/test_tuning.py (not a test module).

Usage::

    python tests/_tuner_worker.py search   CACHE_DIR OUT_JSON MAX_TRIALS
    python tests/_tuner_worker.py mirrored CACHE_DIR OUT_JSON

``search`` runs :func:`cae_lib.tuning.search` (random, smoke profile) on the
synthetic data below; under ``KERASTUNER_*`` variables it is the chief or a
worker of a distributed search. ``mirrored`` splits the CPU into two logical
devices (before TensorFlow initialises), then trains one epoch with
:func:`cae_lib.training.run` and one search trial under a ``MirroredStrategy`` over
both. Each writes what it saw to ``OUT_JSON``.
"""

import json
import math
import sys


def synthetic_data():
    """100 random 4x4 colour fields per class, enlarged to 32x32 (same in every process)."""
    import numpy as np

    from cae_lib.data import CLASS_NAMES, CifarData

    rng = np.random.default_rng(7)
    small = rng.integers(0, 256, size=(1000, 4, 4, 3), dtype=np.uint8)
    images = small.repeat(8, axis=1).repeat(8, axis=2)
    labels = np.repeat(np.arange(10, dtype=np.int64), 100)
    return CifarData(images, labels, CLASS_NAMES, "synthetic 4x4 fields")


def _finite(x):
    return x is not None and math.isfinite(x)


def do_search(cache_dir, out, max_trials):
    from cae_lib import tuning

    result = tuning.search(
        "dist", kind="random", profile="smoke", data=synthetic_data(), cache_dir=cache_dir, max_trials=max_trials
    )
    payload = {
        "role": result.role,
        "path": str(result.path),
        "trials_run_here": result.trials_run_here,
        "trials": [{k: t[k] for k in ("trial_id", "status", "hyperparameters", "val_mse")} for t in result.trials],
    }
    with open(out, "w") as f:
        json.dump(payload, f)


def do_mirrored(cache_dir, out):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    from cae_lib import tuning
    from cae_lib.training import RunConfig, run

    data = synthetic_data()
    config = RunConfig(name="mirrored", profile="smoke", epochs=1, batch_size=16, loss="mse",
                       early_stopping_patience=None)
    result = run(config, data=data, cache_dir=cache_dir, strategy=strategy, verbose=0)
    variable = result.model.weights[0].value
    found = tuning.search("mirrored", kind="random", profile="smoke", data=data, cache_dir=cache_dir,
                          max_trials=1, strategy=strategy)
    payload = {
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
        "replicas": strategy.num_replicas_in_sync,
        "trained": result.trained,
        "epochs": result.epochs_this_call,
        "loss": result.history["loss"],
        "val_loss": result.history["val_loss"],
        "test_loss": result.test_metrics["keras_loss"],
        "variable_type": type(variable).__name__,
        "variable_devices": sorted(v.device for v in getattr(variable, "values", ())),
        "search_status": [t["status"] for t in found.trials],
        "search_val_mse": [t["val_mse"] for t in found.trials],
        "search_strategy": type(found.tuner.distribution_strategy).__name__,
        "finite": all(_finite(v) for v in result.history["loss"] + [result.test_metrics["keras_loss"]]),
    }
    with open(out, "w") as f:
        json.dump(payload, f)


if __name__ == "__main__":
    mode, cache_dir, out = sys.argv[1:4]
    if mode == "search":
        do_search(cache_dir, out, int(sys.argv[4]))
    elif mode == "mirrored":
        do_mirrored(cache_dir, out)
    else:
        raise SystemExit(f"unknown mode {mode!r}; use 'search' or 'mirrored'")
