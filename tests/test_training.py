"""Training runs: config, wiring, train once and load afterwards, and a cache that survives every accident.

Every test trains on a small synthetic data set (smooth random colour fields,
50 or 100 per class) in a temporary cache folder, in the smoke profile.
Interruptions are real: a worker process (tests/_run_worker.py) kills itself
with SIGKILL at a chosen stage, and the rerun is compared with a run that was
never interrupted.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from cae_lib import cache, metrics, tasks
from cae_lib.data import CLASS_NAMES, CifarData, split_digest, split_indices
from cae_lib.models import CAESpec, colorization_spec
from cae_lib.tasks import Colorize, Denoise
from cae_lib.training import ARTIFACTS, CACHE_STAMP, OPTIMIZERS, RunConfig, locate, retrain_requested, run, run_dir

pytestmark = pytest.mark.slow
WORKER = Path(__file__).with_name("_run_worker.py")
ROOT = Path(__file__).resolve().parent.parent


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
    return CifarData(_smooth_images(len(labels), seed=1), labels, CLASS_NAMES, "synthetic smooth fields")


def _config(**kw):
    base = dict(name="t", profile="smoke", epochs=1, batch_size=16, learning_rate=1e-2, early_stopping_patience=None)
    base.update(kw)
    return RunConfig(**base)


def _split(data):
    return split_digest(split_indices(data.labels))


# --------------------------------------------------------------------------- config


def test_config_round_trips_through_json():
    cfg = _config(model=CAESpec(filters=(4, 6), pooling="avg"), loss="mse", metrics=("mse",), lr_schedule="cosine")
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
        (dict(lr_schedule="step"), "lr_schedule"),
        (dict(epochs=0), "epochs"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(learning_rate=float("nan")), "learning_rate"),
        (dict(name="a b"), "name"),
        (dict(name=".."), "name"),
        (dict(task="colorize"), "input and 2 output channels"),
        (dict(task=Colorize(), model=colorization_spec(), loss="binary_crossentropy"), "mse"),
        (dict(model=colorization_spec()), "3 input and 3 output"),
        (dict(task="denoise"), r"Denoise\(sigma=...\)"),
        (dict(early_stopping_patience=0), "patience"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _config(**kwargs)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown RunConfig keys"):
        RunConfig.from_dict({"name": "x", "lr": 0.1})


def test_every_listed_optimizer_is_one_keras_builds():
    import keras

    for name in OPTIMIZERS:
        opt = keras.optimizers.get({"class_name": name, "config": {"learning_rate": 0.01}})
        assert type(opt).__name__.lower() == name


def test_key_depends_on_config_data_split_and_stamp():
    cfg = _config()
    assert cfg.key("abc", "s1") == _config().key("abc", "s1")
    assert cfg.key("abc", "s1") != cfg.key("abd", "s1")
    assert cfg.key("abc", "s1") != cfg.key("abc", "s2")
    assert cfg.key("abc", "s1") != _config(seed=1).key("abc", "s1")
    assert cfg.key("abc", "s1") != _config(model=CAESpec(pooling="avg")).key("abc", "s1")
    assert CACHE_STAMP.startswith("cae_lib-")


def test_key_depends_on_the_profiles_settings(monkeypatch):
    from cae_lib import profiles

    before = _config().key("abc", "s")
    monkeypatch.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], train_per_class=41))
    assert _config().key("abc", "s") != before


def test_key_ignores_the_searchs_budget(monkeypatch):
    from cae_lib import profiles

    before = _config().key("abc", "s")
    smoke = profiles.PROFILES["smoke"]
    changed = dataclasses.replace(smoke, tuner_max_trials=smoke.tuner_max_trials + 1,
                                  tuner_max_epochs=smoke.tuner_max_epochs + 1, tuner_train_per_class=7)
    monkeypatch.setitem(profiles.PROFILES, "smoke", changed)
    assert _config().key("abc", "s") == before


@pytest.mark.parametrize("value, expected", [("1", True), ("on", True), ("YES", True), ("", False), ("off", False)])
def test_retrain_switch_reads_yes_and_no(monkeypatch, value, expected):
    monkeypatch.setenv("CAE_RETRAIN", value)
    assert retrain_requested() is expected


def test_retrain_switch_refuses_other_words(monkeypatch):
    monkeypatch.setenv("CAE_RETRAIN", "maybe")
    with pytest.raises(ValueError, match="CAE_RETRAIN='maybe'"):
        retrain_requested()


# --------------------------------------------------------------------------- wiring


@pytest.mark.parametrize("loss", ["binary_crossentropy", "mse", "mae"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_config_reaches_the_compiled_model(tiny_data, tmp_path, loss, optimizer):
    import keras

    cfg = _config(loss=loss, optimizer=optimizer, learning_rate=0.0125, batch_size=20, metrics=("mse",))
    result = run(cfg, data=tiny_data, cache_dir=tmp_path)
    model = result.model
    assert type(model.optimizer).__name__.lower() == optimizer
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.0125)
    assert model.loss == loss
    n_train = len(tasks.task_data("reconstruct", "smoke", data=tiny_data).x_train)
    assert int(model.optimizer.iterations.numpy()) == tasks.steps_per_epoch(n_train, 20)  # batches of 20
    data = tasks.task_data("reconstruct", "smoke", data=tiny_data)
    pred = model.predict(data.x_test, verbose=0)
    reference = {"binary_crossentropy": metrics.bce, "mse": metrics.mse, "mae": metrics.mae}[loss]
    assert result.test_metrics["keras_loss"] == pytest.approx(reference(data.y_test, pred), rel=1e-4)


def test_cosine_schedule_warms_up_then_decays(tiny_data, tmp_path):
    import keras

    from cae_lib.training import learning_rate_schedule

    cfg = _config(lr_schedule="cosine", warmup_epochs=1, epochs=2, learning_rate=0.01, loss="mse")
    steps = tasks.steps_per_epoch(400, 16)
    schedule = learning_rate_schedule(cfg, steps)
    values = [float(keras.ops.convert_to_numpy(schedule(s))) for s in (0, steps // 2, steps, 2 * steps)]
    assert values[0] < values[1] < values[2] == pytest.approx(0.01, rel=1e-3) and values[3] < 1e-6
    result = run(cfg, data=tiny_data, cache_dir=tmp_path)
    trained_lr = float(keras.ops.convert_to_numpy(result.model.optimizer.learning_rate))
    assert trained_lr == pytest.approx(values[3], abs=1e-6)  # the optimizer followed the schedule to its end


# --------------------------------------------------------------------------- train, load, retrain


def _untrained_loss(cfg, data):
    import keras

    from cae_lib.models import build_cae

    keras.utils.set_random_seed(cfg.seed)
    model = build_cae(cfg.model)
    model.compile(loss=cfg.loss)
    return model.evaluate(data.x_test, data.y_test, verbose=0)


def test_run_trains_lowers_loss_then_loads(tiny_data, tmp_path):
    cfg = _config()
    first = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert first.trained and first.epochs_this_call == 1
    for name in ("config.json", "history.json", "metrics.json", "model.keras", "manifest.json"):
        assert (first.path / name).is_file(), name
    assert not (first.path / "progress").exists()
    before = _untrained_loss(cfg, tasks.task_data("reconstruct", "smoke", data=tiny_data))
    assert first.test_metrics["keras_loss"] < before
    assert set(first.history) >= {"loss", "val_loss", "mse", "accuracy", "epoch_seconds"}
    assert first.train_seconds > 0
    manifest = json.loads((first.path / "manifest.json").read_text())
    assert manifest["key"] == first.key and manifest["config_hash"] == cfg.config_hash()

    second = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert not second.trained and second.epochs_this_call == 0
    assert second.path == first.path
    assert second.train_seconds == pytest.approx(first.train_seconds)  # the stored time, not a new one
    assert second.history == json.loads((first.path / "history.json").read_text())
    x = np.full((2, 32, 32, 3), 0.5, np.float32)
    np.testing.assert_allclose(second.model.predict(x, verbose=0), first.model.predict(x, verbose=0), atol=1e-6)


def test_changed_config_retrains_in_its_own_folder(tiny_data, tmp_path):
    a = run(_config(), data=tiny_data, cache_dir=tmp_path)
    b = run(_config(loss="mse"), data=tiny_data, cache_dir=tmp_path)
    assert b.trained and b.path != a.path
    assert run(_config(), data=tiny_data, cache_dir=tmp_path).trained is False


def test_another_split_is_another_run(tiny_data, tmp_path):
    a = run(_config(), data=tiny_data, cache_dir=tmp_path)
    b = run(_config(split_seed=1), data=tiny_data, cache_dir=tmp_path)
    assert b.trained and a.path != b.path
    assert a.path == run_dir(_config(), tiny_data.fingerprint, _split(tiny_data), tmp_path)


def test_retrain_switch(tiny_data, tmp_path, monkeypatch):
    run(_config(), data=tiny_data, cache_dir=tmp_path)
    assert run(_config(), data=tiny_data, cache_dir=tmp_path, retrain=True).trained
    monkeypatch.setenv("CAE_RETRAIN", "1")
    assert run(_config(), data=tiny_data, cache_dir=tmp_path).trained


def test_interrupted_retrain_keeps_the_previous_run_until_the_new_one_finishes(tiny_data, tmp_path):
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt("interrupted retrain")

    first = run(_config(), data=tiny_data, cache_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run(_config(), data=tiny_data, cache_dir=tmp_path, retrain=True, callbacks=(Crash(),))
    previous = first.path.with_name(first.path.name + ".previous")
    assert (previous / "manifest.json").is_file()  # the old run is still there, whole
    finished = run(_config(), data=tiny_data, cache_dir=tmp_path, retrain=True)
    assert finished.trained and not previous.exists()


@pytest.mark.parametrize("artifact", ["model.keras", "history.json", "manifest.json"])
def test_truncated_artifact_is_reported_kept_and_retrained(tiny_data, tmp_path, artifact):
    first = run(_config(), data=tiny_data, cache_dir=tmp_path)
    target = first.path / artifact
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="unusable"):
        again = run(_config(), data=tiny_data, cache_dir=tmp_path)
    assert again.trained
    broken = [p for p in tmp_path.iterdir() if ".broken-" in p.name]
    assert len(broken) == 1 and (broken[0] / artifact).exists()  # moved aside, not deleted


def test_altered_file_of_the_same_size_is_caught_by_its_sha256(tiny_data, tmp_path):
    first = run(_config(), data=tiny_data, cache_dir=tmp_path)
    target = first.path / "metrics.json"
    text = target.read_text()
    digit = next(i for i, c in enumerate(text) if c.isdigit() and c != "9")
    target.write_text(text[:digit] + str(int(text[digit]) + 1) + text[digit + 1 :])  # same size, other content
    assert target.stat().st_size == len(text.encode())
    with pytest.warns(RuntimeWarning, match="SHA-256"):
        assert run(_config(), data=tiny_data, cache_dir=tmp_path).trained


def test_a_folder_renamed_to_another_configuration_is_refused(tiny_data, tmp_path):
    a = run(_config(), data=tiny_data, cache_dir=tmp_path)
    other = _config(learning_rate=5e-3)
    target = run_dir(other, tiny_data.fingerprint, _split(tiny_data), tmp_path)
    shutil.copytree(a.path, target)
    with pytest.warns(RuntimeWarning, match="copied or renamed"):
        b = run(other, data=tiny_data, cache_dir=tmp_path)
    assert b.trained


def test_no_warnings_on_cached_load(tiny_data, tmp_path):
    run(_config(), data=tiny_data, cache_dir=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run(_config(), data=tiny_data, cache_dir=tmp_path)


def test_same_config_same_seed_agree(tiny_data, tmp_path):
    a = run(_config(), data=tiny_data, cache_dir=tmp_path / "a")
    b = run(_config(), data=tiny_data, cache_dir=tmp_path / "b")
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(a.history["val_loss"], b.history["val_loss"], rtol=1e-5)


def test_colorization_run(tiny_data, tmp_path):
    cfg = _config(name="color", task=Colorize(), model=colorization_spec(filters=(4, 8)), loss="mse", metrics=("mae",))
    result = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert result.model.output_shape == (None, 32, 32, 2)
    for key in ("keras_loss", "psnr_global_db", "ssim", "colourfulness_pred"):
        assert np.isfinite(result.test_metrics[key]), key


def test_denoising_run_beats_its_noisy_input(tiny_data, tmp_path):
    cfg = _config(name="den", task=Denoise(0.2), loss="mse", epochs=2, learning_rate=3e-3)
    result = run(cfg, data=tiny_data, cache_dir=tmp_path)
    data = tasks.task_data(Denoise(0.2), "smoke", data=tiny_data)
    noisy = metrics.psnr_global(data.y_test, data.x_test)
    assert result.test_metrics["psnr_global_db"] > noisy


# --------------------------------------------------------------------------- interruptions


def _worker(cache_dir, stage="none", check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(cache_dir), stage], capture_output=True, text=True, env=env, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])
    return proc


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return _worker(tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("stage", ["epoch", "between", "checkpoint", "trained", "metrics", "artifacts", "manifest"])
def test_a_run_killed_at_any_stage_ends_as_the_uninterrupted_one(tmp_path, uninterrupted, stage):
    killed = _worker(tmp_path, stage, check=False)
    assert killed.returncode == -9, (stage, killed.returncode, killed.stderr[-1500:])
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1 and not (folders[0] / "manifest.json").exists()
    resumed = _worker(tmp_path)
    assert resumed["trained"]
    assert resumed["history"].keys() == uninterrupted["history"].keys()
    for key in ("loss", "val_loss", "mse", "val_mse"):
        np.testing.assert_allclose(resumed["history"][key], uninterrupted["history"][key], rtol=1e-5, err_msg=key)
    for key, value in uninterrupted["test"].items():
        assert resumed["test"][key] == pytest.approx(value, rel=1e-5), key
    assert not [p for p in tmp_path.iterdir() if ".broken-" in p.name]
    assert not (folders[0] / "progress").exists()


def _weight_callbacks(spoiled_epoch: int, crash_after: int | None = None):
    """Callbacks that record each epoch's end weights, spoil one epoch's and optionally stop after one.

    Spoiling sets every weight to large random values after each batch of ``spoiled_epoch`` (0-based),
    so that epoch's validation loss is far worse and the best epoch is not the last.
    """
    import keras

    ends = {}

    class Spoil(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == spoiled_epoch:
                rng = np.random.default_rng(batch)
                self.model.set_weights([rng.normal(0, 5, w.shape).astype(w.dtype) for w in self.model.get_weights()])

        def on_epoch_end(self, epoch, logs=None):
            ends[epoch] = [w.copy() for w in self.model.get_weights()]
            if epoch == crash_after:
                raise KeyboardInterrupt(f"stop after epoch {epoch + 1}")

    return ends, (Spoil(),)


def _assert_weights_equal(model, expected, what):
    got = model.get_weights()
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b, err_msg=what)


def test_early_stopping_ends_with_the_best_epochs_weights_not_the_last(tiny_data, tmp_path):
    cfg = _config(epochs=2, early_stopping_patience=5, loss="mse")
    ends, spoil = _weight_callbacks(spoiled_epoch=1)
    result = run(cfg, data=tiny_data, cache_dir=tmp_path, callbacks=spoil)
    assert result.history["val_loss"][1] > 2 * result.history["val_loss"][0]  # the spoiled epoch is worse
    assert result.best_epoch == 1
    _assert_weights_equal(result.model, ends[0], "the run kept the last epoch's weights, not the best epoch's")
    _assert_weights_equal(run(cfg, data=tiny_data, cache_dir=tmp_path).model, ends[0], "the stored model")


def test_a_run_resumed_after_its_last_epoch_keeps_the_best_epochs_weights(tiny_data, tmp_path):
    """Interrupted after the last epoch's checkpoint, before the run was finished: nothing is left to
    train, and the resumed run must still end on the best epoch's weights, not the checkpoint's."""
    cfg = _config(epochs=2, early_stopping_patience=5, loss="mse")
    ends, spoil = _weight_callbacks(spoiled_epoch=1, crash_after=1)
    with pytest.raises(KeyboardInterrupt):
        run(cfg, data=tiny_data, cache_dir=tmp_path, callbacks=spoil)
    progress = run_dir(cfg, tiny_data.fingerprint, _split(tiny_data), tmp_path) / "progress"
    assert [p.name for p in progress.glob("best-*.npz")] == ["best-0001.npz"]  # the best epoch is not the last
    resumed = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert resumed.trained and resumed.epochs_this_call == 0
    assert len(resumed.history["val_loss"]) == 2 and resumed.best_epoch == 1
    _assert_weights_equal(resumed.model, ends[0], "the resumed run kept the last epoch's weights")


@pytest.mark.parametrize("piece", ["state.json", "checkpoint", "best"])
def test_unreadable_progress_is_reported_moved_aside_and_trained_again(tiny_data, tmp_path, piece):
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt("stop after the first epoch")

    cfg = _config(epochs=2, early_stopping_patience=3, loss="mse")
    with pytest.raises(KeyboardInterrupt):
        run(cfg, data=tiny_data, cache_dir=tmp_path, callbacks=(Crash(),))
    progress = run_dir(cfg, tiny_data.fingerprint, _split(tiny_data), tmp_path) / "progress"
    target = {
        "state.json": progress / "state.json",
        "checkpoint": next(progress.glob("checkpoint-*.keras")),
        "best": next(progress.glob("best-*.npz")),
    }[piece]
    target.write_bytes(target.read_bytes()[: max(1, target.stat().st_size // 3)])
    with pytest.warns(RuntimeWarning, match="unfinished run progress"):
        result = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert result.trained and result.epochs_this_call == 2  # trained again from the start
    assert [p for p in progress.parent.iterdir() if p.name.startswith("progress.broken-")]


def test_two_processes_asking_for_one_run_take_turns(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]
    results = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert sorted(r["trained"] for r in results) == [False, True]  # one trained, the other loaded its result
    assert results[0]["test"] == pytest.approx(results[1]["test"])


# --------------------------------------------------------------------------- the file system


def test_cache_naming_a_file_is_one_clear_error(tiny_data, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(cache.CacheError, match="not-a-folder.*(file|folder)"):
        run(_config(), data=tiny_data, cache_dir=blocker)


@pytest.fixture
def read_only(tmp_path):
    """A function making a folder read-only for real: a read-only bind mount (root) or permissions (a user)."""
    mounted = []

    def make(folder: Path) -> Path:
        view = tmp_path / f"{folder.name}-read-only"
        view.mkdir()
        if os.geteuid() == 0:
            ok = subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True).returncode == 0
            ok = ok and subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True).returncode == 0
            if not ok:
                subprocess.run(["umount", str(view)], capture_output=True)
                pytest.skip("running as root without permission to bind-mount read-only: cannot make a read-only cache")
            mounted.append(view)
        else:
            view.rmdir()
            shutil.copytree(folder, view)
            for p in [view, *view.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        return view

    yield make
    for view in mounted:
        subprocess.run(["umount", str(view)], capture_output=True)
    for p in tmp_path.rglob("*"):
        if not any(m in p.parents or m == p for m in mounted):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)


def test_a_finished_run_loads_from_a_read_only_cache(tiny_data, tmp_path, read_only):
    first = run(_config(), data=tiny_data, cache_dir=tmp_path / "cache")
    view = read_only(tmp_path / "cache")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        again = run(_config(), data=tiny_data, cache_dir=view)
    assert not again.trained and again.test_metrics == first.test_metrics
    with pytest.raises(cache.CacheError, match="read-only|permission"):
        run(_config(loss="mse"), data=tiny_data, cache_dir=view)


def test_a_damaged_entry_in_a_read_only_cache_says_why(tiny_data, tmp_path, read_only):
    first = run(_config(), data=tiny_data, cache_dir=tmp_path / "cache")
    target = first.path / "history.json"
    target.write_bytes(target.read_bytes()[:-5])
    view = read_only(tmp_path / "cache")
    with pytest.warns(RuntimeWarning, match="could not be moved aside"), \
            pytest.raises(cache.CacheError, match="truncated or altered.*read-only"):
        run(_config(), data=tiny_data, cache_dir=view)


def test_cached_summary_reads_the_cache_without_training(tiny_data, tmp_path):
    from cae_lib.training import cached_summary, config_rows

    done = run(_config(), data=tiny_data, cache_dir=tmp_path)
    rows = cached_summary({"done": _config(), "todo": _config(name="todo", seed=5)}, tiny_data, cache_dir=tmp_path)
    assert rows[0]["key"] == done.key[:16] and rows[0]["epochs"] == 1
    assert rows[0]["test PSNR (dB)"] == done.test_metrics["psnr_global_db"]
    assert rows[1]["epochs"] == "not in the cache" and not (tmp_path / rows[1]["run"]).exists()
    assert config_rows({"x": _config()}, ("loss", "batch_size")) == [{"run": "x", "loss": "binary_crossentropy",
                                                                       "batch_size": 16}]


@pytest.mark.parametrize("planted", ["run folder", "progress folder"])
def test_a_symlink_planted_in_the_cache_is_refused_and_what_it_points_to_is_untouched(tiny_data, tmp_path, planted):
    cfg = _config(name="linked")
    _, _, path = locate(cfg, tiny_data, tmp_path / "cache")
    victim = tmp_path / "elsewhere"
    victim.mkdir()
    for name in ("weights.keras", "best.npz", "notes.txt"):
        (victim / name).write_bytes(b"not the cache's")
    if planted == "run folder":
        path.parent.mkdir(parents=True)
        path.symlink_to(victim)
    else:
        path.mkdir(parents=True)
        (path / "progress").symlink_to(victim)
    with pytest.raises(cache.CacheError, match="symbolic link"):
        run(cfg, data=tiny_data, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in victim.iterdir()) == ["best.npz", "notes.txt", "weights.keras"]
    assert all(p.read_bytes() == b"not the cache's" for p in victim.iterdir())


def test_a_killed_saves_temporary_file_is_cleaned_on_the_next_run(tiny_data, tmp_path):
    cfg = _config(name="leftover")
    _, _, path = locate(cfg, tiny_data, tmp_path)
    path.mkdir(parents=True)
    dead = path / ".model.tmp-999999999.keras"  # no process has this id
    dead.write_bytes(b"half a model")
    alive = path / f".notes.tmp-{os.getpid()}.json"  # a writer that still runs keeps its file
    alive.write_bytes(b"{")
    result = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert result.trained and not dead.exists() and alive.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_another_users_run_in_a_world_writable_cache_is_refused_never_loaded_or_moved(tiny_data, tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    cfg = _config(name="shared")
    first = run(cfg, data=tiny_data, cache_dir=root)
    assert not run(cfg, data=tiny_data, cache_dir=root).trained  # a private cache: our own run loads
    root.chmod(0o777)
    assert not run(cfg, data=tiny_data, cache_dir=root).trained  # shared, but still our own entry
    os.chown(first.path / "model.keras", 54321, 54321)  # as if another user had replaced the model
    with pytest.raises(cache.UntrustedError, match=r"belongs to uid 54321, not to you"):
        run(cfg, data=tiny_data, cache_dir=root)
    assert (first.path / "model.keras").exists() and not list(root.glob("*.broken-*"))  # nothing moved
    root.chmod(0o755)
    assert not run(cfg, data=tiny_data, cache_dir=root).trained  # a cache only its owner writes: trusted


@pytest.mark.parametrize("replacement", ["another architecture", "not a model"])
def test_a_replaced_model_file_with_a_recomputed_manifest_is_refused_and_moved_aside(tiny_data, tmp_path,
                                                                                      replacement):
    import keras

    from cae_lib.models import build_cae

    cfg = _config(name="replaced")
    first = run(cfg, data=tiny_data, cache_dir=tmp_path)
    target = first.path / "model.keras"
    if replacement == "another architecture":
        build_cae(CAESpec(filters=(8, 12, 64))).save(target)  # a valid model with a 4,096-value latent
        match = "another architecture than its configuration"
    else:
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(target)
        match = "not a model of this library"
    cache.write_manifest(first.path, ARTIFACTS, key=first.key, extra={"config_hash": cfg.config_hash()})
    with pytest.warns(RuntimeWarning, match=match) as caught:
        again = run(cfg, data=tiny_data, cache_dir=tmp_path)
    assert again.trained  # retrained, not the old metrics over a foreign model
    assert len(str(caught[0].message).splitlines()) == 1
    assert list(tmp_path.glob("replaced-*.broken-*"))  # the replaced folder is kept aside
