"""Runs: train once, load afterwards; keys, atomic artifacts, resume, seeds.

Every test trains on a small synthetic data set (100 smooth random images per
class) in a temporary cache folder, in the smoke profile (40/10/10 images per
class, at most two epochs).
"""

import dataclasses
import json
import warnings

import numpy as np
import pytest

from cae_lib.data import CLASS_NAMES, CifarData
from cae_lib.models import CAESpec, colorization_spec
from cae_lib.runs import CACHE_STAMP, RunConfig, run, run_dir, task_data

pytestmark = pytest.mark.slow


def _smooth_images(n, seed):
    """Random 4x4 colour fields bilinearly enlarged to 32x32: learnable, not constant."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(n, 4, 4, 3), dtype=np.uint8)
    return np.stack([cv2.resize(im, (32, 32), interpolation=cv2.INTER_LINEAR) for im in small])


@pytest.fixture(scope="module")
def tiny_data():
    per_class = 100
    labels = np.repeat(np.arange(10, dtype=np.int64), per_class)
    images = _smooth_images(len(labels), seed=1)
    return CifarData(images=images, labels=labels, class_names=CLASS_NAMES, source="synthetic smooth fields")


def _config(**kw):
    base = dict(name="t", profile="smoke", epochs=1, batch_size=16, learning_rate=1e-2, early_stopping_patience=None)
    base.update(kw)
    return RunConfig(**base)


# --------------------------------------------------------------------------- config


def test_config_round_trips_through_json():
    cfg = _config(model=CAESpec(filters=(4, 6), pooling="avg"), loss="mse", metrics=("mse",))
    again = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


def test_profile_defaults_to_environment(monkeypatch):
    monkeypatch.setenv("CAE_PROFILE", "smoke")
    assert RunConfig(name="x").profile == "smoke"
    monkeypatch.setenv("CAE_PROFILE", "huge")
    with pytest.raises(ValueError, match="CAE_PROFILE"):
        RunConfig(name="x")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(task="segment"), "task"),
        (dict(loss="hinge"), "loss"),
        (dict(optimizer="lbfgs"), "optimizer"),
        (dict(epochs=0), "epochs"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(name="a b"), "name"),
        (dict(task="colorize"), "input and 2 output channels"),
        (dict(task="colorize", model=colorization_spec(), loss="binary_crossentropy"), "mse"),
        (dict(model=colorization_spec()), "3 input and 3 output"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _config(**kwargs)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown RunConfig keys"):
        RunConfig.from_dict({"name": "x", "lr": 0.1})


def test_key_depends_on_config_data_and_stamp():
    cfg = _config()
    assert cfg.key("abc") == _config().key("abc")
    assert cfg.key("abc") != cfg.key("abd")
    assert cfg.key("abc") != _config(seed=1).key("abc")
    assert cfg.key("abc") != _config(model=CAESpec(pooling="avg")).key("abc")
    assert CACHE_STAMP.startswith("cae_lib-")


def test_key_depends_on_the_profiles_settings(monkeypatch):
    from cae_lib import profiles

    before = _config().key("abc")
    monkeypatch.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], train_per_class=41))
    assert _config().key("abc") != before


# --------------------------------------------------------------------------- data


def test_task_data_smoke_profile_is_stratified_and_scaled(tiny_data):
    d = task_data("reconstruct", "smoke", data=tiny_data)
    assert d.x_train.shape == (400, 32, 32, 3) and d.x_val.shape == (100, 32, 32, 3)
    assert d.y_train is d.x_train  # one copy for reconstruction
    assert d.x_train.dtype == np.float32 and d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(tiny_data.labels[d.test_index], minlength=10), [10] * 10)
    assert not set(d.train_index) & set(d.test_index)
    np.testing.assert_allclose(d.x_test[0], tiny_data.images[d.test_index[0]] / 255.0, atol=1e-7)


def test_task_data_colorize_shapes(tiny_data):
    d = task_data("colorize", "smoke", data=tiny_data)
    assert d.x_train.shape == (400, 32, 32, 1) and d.y_train.shape == (400, 32, 32, 2)
    assert d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0
    assert d.y_train.min() >= -1.0 and d.y_train.max() <= 1.0


# --------------------------------------------------------------------------- training and cache


def _untrained_loss(cfg, data):
    import keras

    from cae_lib.models import build_cae

    keras.utils.set_random_seed(cfg.seed)
    model = build_cae(cfg.model)
    model.compile(loss=cfg.loss)
    return model.evaluate(data.x_test, data.y_test, verbose=0)


def test_run_trains_lowers_loss_then_loads(tiny_data, tmp_path):
    cfg = _config()
    first = run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert first.trained and first.epochs_this_call == 1
    for name in ("config.json", "history.json", "metrics.json", "model.keras", "manifest.json"):
        assert (first.path / name).is_file(), name
    assert not (first.path / "backup").exists()
    before = _untrained_loss(cfg, task_data("reconstruct", "smoke", data=tiny_data))
    assert first.test_metrics["keras_loss"] < before
    assert set(first.history) >= {"loss", "val_loss", "mse", "accuracy", "epoch_seconds"}
    assert first.train_seconds > 0

    second = run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert not second.trained and second.epochs_this_call == 0
    assert second.path == first.path
    assert second.train_seconds == pytest.approx(first.train_seconds)  # the stored time, not a new one
    assert second.history == json.loads((first.path / "history.json").read_text())
    x = np.full((2, 32, 32, 3), 0.5, np.float32)
    np.testing.assert_allclose(second.model.predict(x, verbose=0), first.model.predict(x, verbose=0), atol=1e-6)


def test_changed_config_retrains_in_its_own_folder(tiny_data, tmp_path):
    a = run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0)
    b = run(_config(loss="mse"), data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert b.trained and b.path != a.path
    assert run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0).trained is False


def test_retrain_switch(tiny_data, tmp_path, monkeypatch):
    run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0, retrain=True).trained
    monkeypatch.setenv("CAE_RETRAIN", "1")
    assert run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0).trained


@pytest.mark.parametrize("artifact", ["model.keras", "history.json", "manifest.json"])
def test_truncated_artifact_is_reported_kept_and_retrained(tiny_data, tmp_path, artifact):
    first = run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0)
    target = first.path / artifact
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="unusable"):
        again = run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert again.trained
    broken = [p for p in tmp_path.iterdir() if ".broken-" in p.name]
    assert len(broken) == 1 and (broken[0] / artifact).exists()  # moved aside, not deleted


def test_interrupted_run_resumes_from_last_epoch(tiny_data, tmp_path):
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("simulated interruption after epoch 2")

    cfg = _config(epochs=3, name="resume")
    with pytest.MonkeyPatch.context() as mp:
        # The smoke profile caps epochs at 2; lift the cap for this test only.
        from cae_lib import profiles

        mp.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], max_epochs=None))
        with pytest.raises(KeyboardInterrupt):
            run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0, callbacks=(Crash(),))
        path = run_dir(cfg, tiny_data.fingerprint, tmp_path)
        assert (path / "backup").exists() and not (path / "manifest.json").exists()
        resumed = run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert resumed.trained
    assert resumed.epochs_this_call == 1  # only the third epoch was trained again
    assert len(resumed.history["loss"]) == 3
    assert not (path / "backup").exists()


def test_resumed_run_restores_the_best_epoch_from_before_the_interruption(tiny_data, tmp_path):
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("simulated interruption after epoch 2")

    class Diverge(keras.callbacks.Callback):
        """After the resume, a huge learning rate makes the third epoch worse than the first two."""

        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate.assign(5.0)

    cfg = _config(epochs=3, name="resume_best", early_stopping_patience=5, learning_rate=3e-3, loss="mse")
    with pytest.MonkeyPatch.context() as mp:
        from cae_lib import profiles

        mp.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], max_epochs=None))
        with pytest.raises(KeyboardInterrupt):
            run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0, callbacks=(Crash(),))
        resumed = run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0, callbacks=(Diverge(),))
        arrays = task_data("reconstruct", "smoke", data=tiny_data)
    val_loss = resumed.history["val_loss"]
    assert len(val_loss) == 3 and resumed.epochs_this_call == 1
    assert int(np.argmin(val_loss)) < 2, val_loss  # the best epoch is one trained before the interruption
    restored = resumed.model.evaluate(arrays.x_val, arrays.y_val, batch_size=len(arrays.x_val), verbose=0)
    restored = restored[0] if isinstance(restored, list) else restored
    assert restored == pytest.approx(min(val_loss), rel=1e-4)
    assert not (resumed.path / "best_weights.partial.npz").exists()


def test_same_config_same_seed_agree(tiny_data, tmp_path):
    a = run(_config(), data=tiny_data, cache_dir=tmp_path / "a", verbose=0)
    b = run(_config(), data=tiny_data, cache_dir=tmp_path / "b", verbose=0)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(a.history["val_loss"], b.history["val_loss"], rtol=1e-5)


def test_colorization_run(tiny_data, tmp_path):
    cfg = _config(name="color", task="colorize", model=colorization_spec(filters=(4, 8)), loss="mse", metrics=("mae",))
    result = run(cfg, data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert result.model.output_shape == (None, 32, 32, 2)
    for key in ("keras_loss", "psnr_global_db", "ssim"):
        assert np.isfinite(result.test_metrics[key]), key


def test_no_warnings_on_cached_load(tiny_data, tmp_path):
    run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run(_config(), data=tiny_data, cache_dir=tmp_path, verbose=0)
