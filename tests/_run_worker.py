"""Train one tiny run in its own process, optionally killing itself (SIGKILL) at a chosen stage.

Used by tests/test_training.py to interrupt a run the way a power cut or ``kill -9`` would:

    python tests/_run_worker.py CACHE_DIR [STAGE]

STAGE is one of: none, epoch (inside the second epoch), between (after the
second epoch's checkpoint), checkpoint (while the second epoch's checkpoint
is half written), trained (after training, before the test metrics),
metrics (while computing them), artifacts (after the first artifact),
manifest (while writing the manifest). On success the worker prints one
JSON line with the run's history and test metrics.
"""

from __future__ import annotations

import json
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def tiny_data():
    import cv2
    import numpy as np

    from cae_lib.data import CLASS_NAMES, CifarData

    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, size=(1000, 4, 4, 3), dtype=np.uint8)
    images = np.stack([cv2.resize(im, (32, 32), interpolation=cv2.INTER_LINEAR) for im in small])
    return CifarData(images, np.repeat(np.arange(10), 100), CLASS_NAMES, "synthetic smooth fields")


def config(name="killed"):
    import dataclasses

    from cae_lib import profiles
    from cae_lib.models import CAESpec
    from cae_lib.training import RunConfig

    # three epochs: lift the smoke profile's cap of two (the key records the profile's settings)
    profiles.PROFILES["smoke"] = dataclasses.replace(profiles.PROFILES["smoke"], max_epochs=None)
    return RunConfig(
        name=name, profile="smoke", model=CAESpec(filters=(4, 6)), loss="mse", epochs=3, batch_size=16,
        learning_rate=3e-3, early_stopping_patience=2, metrics=("mse",),
    )


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def arm(stage: str):
    """Install the kill switch for ``stage``; return extra callbacks for the run."""
    import keras

    from cae_lib import cache, evaluation, metrics

    if stage == "epoch":

        class Kill(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if self.epoch == 1 and batch == 3:
                    _die()

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch

        return [Kill()]
    if stage == "between":

        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    _die()

        return [Kill()]
    if stage == "checkpoint":
        original = cache.save_model
        calls = []

        def half_written(model, path):
            calls.append(path)
            if len(calls) == 2:
                with open(path.with_name(f".{path.stem}.tmp-{os.getpid()}.keras"), "wb") as f:
                    f.write(b"PK\x03\x04 half a zip")
                _die()
            original(model, path)

        cache.save_model = half_written
    elif stage == "trained":
        evaluation.evaluate_model = lambda *a, **k: _die()
    elif stage == "metrics":
        metrics.reconstruction_metrics = lambda *a, **k: _die()
    elif stage == "artifacts":
        original_json = cache.write_json

        def after_first(path, obj):
            original_json(path, obj)
            if path.name == "config.json":
                _die()

        cache.write_json = after_first
    elif stage == "manifest":
        original_bytes = cache.write_bytes

        def torn(path, payload):
            if path.name == "manifest.json":
                with open(path.with_name(f".{path.name}.tmp-{os.getpid()}"), "wb") as f:
                    f.write(payload[: len(payload) // 2])
                _die()
            original_bytes(path, payload)

        cache.write_bytes = torn
    return []


def main():
    cache_dir = sys.argv[1]
    stage = sys.argv[2] if len(sys.argv) > 2 else "none"
    from cae_lib.training import run

    extra = arm(stage)
    result = run(config(), data=tiny_data(), cache_dir=cache_dir, callbacks=tuple(extra))
    print(json.dumps({"history": result.history, "test": result.test_metrics, "trained": result.trained}))


if __name__ == "__main__":
    main()
