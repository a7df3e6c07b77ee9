"""cae_lib.tasks: what each task feeds the network, the profile's subset, and seeded, resumable batches."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from cae_lib import color, tasks
from cae_lib.data import CLASS_NAMES, CifarData, split_digest, split_indices
from cae_lib.tasks import Denoise


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(1000, 32, 32, 3), dtype=np.uint8)
    return CifarData(images, np.repeat(np.arange(10), 100), CLASS_NAMES, "random")


def test_reconstruct_keeps_one_copy_scaled_to_unit_range(data):
    d = tasks.task_data("reconstruct", "smoke", data=data)
    assert d.x_train.shape == (400, 32, 32, 3) and d.y_train is d.x_train
    assert d.x_train.dtype == np.float32 and d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0
    np.testing.assert_allclose(d.x_test[0], data.images[d.test_index[0]] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(np.bincount(data.labels[d.test_index], minlength=10), [10] * 10)
    assert not set(d.train_index) & set(d.test_index)
    assert d.split == split_digest(split_indices(data.labels))


def test_colorize_inputs_and_targets_are_the_lab_channels(data):
    d = tasks.task_data("colorize", "smoke", data=data)
    assert d.x_train.shape == (400, 32, 32, 1) and d.y_train.shape == (400, 32, 32, 2)
    lab = color.rgb_to_lab(data.images[d.val_index])
    np.testing.assert_allclose(d.x_val[..., 0] * 100, lab[..., 0], atol=1e-4)
    np.testing.assert_allclose(d.y_val * 128, lab[..., 1:], atol=1e-4)


def test_denoise_test_noise_is_fixed_and_clipped(data):
    a = tasks.task_data(Denoise(0.1), "smoke", data=data)
    b = tasks.task_data(Denoise(sigma=0.1), "smoke", data=data)
    np.testing.assert_array_equal(a.x_test, b.x_test)  # the same in every call
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert a.x_train is a.y_train  # training noise comes batch by batch
    noise = a.x_test - a.y_test
    assert a.x_test.min() >= 0.0 and a.x_test.max() <= 1.0
    inside = (a.x_test > 0) & (a.x_test < 1)
    assert noise[inside].std() == pytest.approx(0.1, rel=0.05)
    full = tasks.task_data(Denoise(0.1), "full", data=data)  # another subset, same images' noise
    where = {int(i): k for k, i in enumerate(full.test_index)}
    for k, i in enumerate(a.test_index):
        np.testing.assert_array_equal(a.x_test[k], full.x_test[where[int(i)]])


def test_fixed_noise_is_pinned_to_a_digest():
    noise = tasks.fixed_noise([0, 1, 59999], (2, 2, 3), 0.1)
    # float32 of numpy's PCG64(SeedSequence([2016, i])).normal: a change of seed or generator changes this
    digest = hashlib.sha256(noise.tobytes()).hexdigest()[:16]
    again = subprocess.run(
        [sys.executable, "-c", "import hashlib; from cae_lib import tasks; "
         "print(hashlib.sha256(tasks.fixed_noise([0, 1, 59999], (2, 2, 3), 0.1).tobytes()).hexdigest()[:16])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert digest == again


def test_training_noise_is_fresh_every_epoch_and_reproducible():
    x = np.full((4, 2, 2, 3), 0.5, np.float32)
    corrupt = Denoise(0.1).corrupt
    first = tasks.training_batches(x, x, batch_size=4, seed=7, corrupt=corrupt)
    epoch0, epoch1 = next(first), next(first)
    assert not np.array_equal(epoch0[0], epoch1[0])  # another draw every epoch
    np.testing.assert_array_equal(epoch0[1], 0.5)  # targets stay clean
    resumed = tasks.training_batches(x, x, batch_size=4, seed=7, first_epoch=1, corrupt=corrupt)
    np.testing.assert_array_equal(next(resumed)[0], epoch1[0])  # a resumed run sees the same noise
    other = tasks.training_batches(x, x, batch_size=4, seed=8, corrupt=corrupt)
    assert not np.array_equal(next(other)[0], epoch0[0])


def test_every_epoch_visits_every_image_once_in_a_seeded_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    batches = tasks.training_batches(x, x, batch_size=3, seed=0)
    epoch = [next(batches)[0].ravel() for _ in range(tasks.steps_per_epoch(10, 3))]
    assert [len(b) for b in epoch] == [3, 3, 3, 1]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(10))
    again = tasks.training_batches(x, x, batch_size=3, seed=0)
    np.testing.assert_array_equal(next(again)[0].ravel(), epoch[0])


def test_targets_stay_paired_with_their_inputs():
    x = np.arange(6, dtype=np.float32).reshape(6, 1, 1, 1)
    y = -x
    xb, yb = next(tasks.training_batches(x, y, batch_size=4, seed=2))
    np.testing.assert_array_equal(yb, -xb)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(task="segment"), "task must be one of"), (dict(task="denoise"), r"Denoise\(sigma=...\)"),
     (dict(task=3), "a Task")],
)
def test_task_data_refuses_bad_requests(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tasks.task_data(profile="smoke", data=data, **kwargs)


@pytest.mark.parametrize("sigma", [-1, 0, float("nan"), "0.1", True])
def test_denoise_refuses_a_bad_noise_level(sigma):
    with pytest.raises(ValueError, match="Denoise.sigma"):
        Denoise(sigma)


def test_a_profile_that_leaves_a_part_empty_is_refused(monkeypatch, data):
    import dataclasses

    from cae_lib import profiles

    tiny = CifarData(data.images[:100], np.repeat(np.arange(10), 10), CLASS_NAMES, "tiny")
    monkeypatch.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], test_per_class=None))
    with pytest.raises(ValueError, match="no images in the test part|too few images for the 'smoke' profile"):
        tasks.task_data("reconstruct", "smoke", data=tiny)


def test_too_few_images_for_the_profile_says_which_option_to_change(data):
    tiny = CifarData(data.images[:200], np.repeat(np.arange(10), 20), CLASS_NAMES, "tiny")
    with pytest.raises(ValueError) as info:
        tasks.task_data("reconstruct", "smoke", data=tiny)
    message = str(info.value)
    assert "too few images for the 'smoke' profile" in message and "--source" in message
    assert "per_class=" not in message  # no function argument a command-line user cannot set


def test_profile_usage_counts_each_part(data):
    split = split_indices(data.labels)
    td = tasks.task_data("reconstruct", "smoke", data=data)
    rows, facts = tasks.profile_usage(data, td, split)
    assert [r["images the runs use"] for r in rows] == [400, 100, 100]
    assert facts["n_train"] == 800 and facts["used_test_counts"] == "10"
    other = tasks.task_data("reconstruct", "smoke", data=data, split_seed=1)
    with pytest.raises(ValueError, match="not all in the split"):
        tasks.profile_usage(data, other, split)


def test_training_noise_has_the_tasks_spread_on_the_unit_scale():
    """The noise a denoising run trains on: sigma on [0, 1] (not sigma * 255), clean targets, fresh per batch."""
    x = np.full((64, 8, 8, 3), 0.5, np.float32)
    xb, yb = next(tasks.training_batches(x, x, batch_size=64, seed=0, corrupt=Denoise(0.1).corrupt))
    assert (xb - yb).std() == pytest.approx(0.1, rel=0.03)
    assert xb.min() >= 0.0 and xb.max() <= 1.0 and np.array_equal(yb, x)


def test_tasks_round_trip_through_their_dicts():
    for task in (tasks.Reconstruct(), tasks.Colorize(), tasks.ColourClasses(temperature=0.2), Denoise(0.2)):
        assert tasks.task_from_dict(task.to_dict()) == task
    with pytest.raises(ValueError, match="unknown parameters"):
        tasks.task_from_dict({"name": "denoise", "sigma": 0.1, "mean": 0.0})
    with pytest.raises(ValueError, match="task must be one of"):
        tasks.task_from_dict({"name": "segment"})
    with pytest.raises(ValueError, match="taken"):
        tasks.register("denoise")(type("Other", (tasks.Task,), {}))


# --------------------------------------------------------------------------- a task defined here, nowhere else


from dataclasses import dataclass  # noqa: E402


@tasks.register("test_mirror")
@dataclass(frozen=True)
class Mirror(tasks.Task):
    """Give back the image flipped left to right: defined only in this test file."""

    description = "RGB in, the mirrored RGB out"

    def arrays(self, images, index, part):
        x = images.astype(np.float32) / np.float32(255)
        return x, np.ascontiguousarray(x[:, :, ::-1])

    def score(self, data, pred):
        err = float(np.mean((pred - data.y_test) ** 2))
        return {"mse": err, "psnr_global_db": float(10 * np.log10(1 / err))}


@pytest.mark.slow
def test_a_task_defined_in_a_test_trains_caches_and_scores_through_run(tmp_path, data):
    from cae_lib.models import CAESpec
    from cae_lib.training import RunConfig, run

    config = RunConfig(name="mirror", model=CAESpec(filters=(4, 6)), task=Mirror(), loss="mse", metrics=(),
                       profile="smoke", epochs=1, batch_size=64)
    first = run(config, data=data, cache_dir=tmp_path)
    assert first.trained and set(first.test_metrics) >= {"mse", "psnr_global_db", "keras_loss"}
    arrays = tasks.task_data(Mirror(), "smoke", data=data)
    pred = first.predict(arrays.x_test)
    assert first.test_metrics["mse"] == pytest.approx(float(np.mean((pred - arrays.y_test) ** 2)), rel=1e-5)
    again = run(config, data=data, cache_dir=tmp_path)
    assert not again.trained and again.test_metrics == first.test_metrics
    assert again.config.to_dict()["task"] == {"name": "test_mirror"}
