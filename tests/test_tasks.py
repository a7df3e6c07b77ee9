"""cae_lib.tasks: what each task feeds the network, the profile's subset, and seeded, resumable batches."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from cae_lib import color, tasks
from cae_lib.data import CLASS_NAMES, CifarData, split_digest, split_indices


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
    a = tasks.task_data("denoise", "smoke", data=data, noise_sigma=0.1)
    b = tasks.task_data("denoise", "smoke", data=data, noise_sigma=0.1)
    np.testing.assert_array_equal(a.x_test, b.x_test)  # the same in every call
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert a.x_train is a.y_train  # training noise comes batch by batch
    noise = a.x_test - a.y_test
    assert a.x_test.min() >= 0.0 and a.x_test.max() <= 1.0
    inside = (a.x_test > 0) & (a.x_test < 1)
    assert noise[inside].std() == pytest.approx(0.1, rel=0.05)
    full = tasks.task_data("denoise", "full", data=data, noise_sigma=0.1)  # another subset, same images' noise
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
    first = tasks.training_batches(x, x, batch_size=4, seed=7, noise_sigma=0.1)
    epoch0, epoch1 = next(first), next(first)
    assert not np.array_equal(epoch0[0], epoch1[0])  # another draw every epoch
    np.testing.assert_array_equal(epoch0[1], 0.5)  # targets stay clean
    resumed = tasks.training_batches(x, x, batch_size=4, seed=7, first_epoch=1, noise_sigma=0.1)
    np.testing.assert_array_equal(next(resumed)[0], epoch1[0])  # a resumed run sees the same noise
    other = tasks.training_batches(x, x, batch_size=4, seed=8, noise_sigma=0.1)
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
    [(dict(task="segment"), "task must be one of"), (dict(task="denoise"), "noise_sigma"),
     (dict(task="colorize", noise_sigma=0.1), "only meaningful"), (dict(task="denoise", noise_sigma=-1), "positive")],
)
def test_task_data_refuses_bad_requests(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tasks.task_data(profile="smoke", data=data, **kwargs)


def test_a_profile_that_leaves_a_part_empty_is_refused(monkeypatch, data):
    import dataclasses

    from cae_lib import profiles

    tiny = CifarData(data.images[:100], np.repeat(np.arange(10), 10), CLASS_NAMES, "tiny")
    monkeypatch.setitem(profiles.PROFILES, "smoke", dataclasses.replace(profiles.PROFILES["smoke"], test_per_class=None))
    with pytest.raises(ValueError, match="no images in the test part|fewer than per_class"):
        tasks.task_data("reconstruct", "smoke", data=tiny)


def test_profile_usage_counts_each_part(data):
    split = split_indices(data.labels)
    td = tasks.task_data("reconstruct", "smoke", data=data)
    rows, facts = tasks.profile_usage(data, td, split)
    assert [r["images the runs use"] for r in rows] == [400, 100, 100]
    assert facts["n_train"] == 800 and facts["used_test_counts"] == "10"
    other = tasks.task_data("reconstruct", "smoke", data=data, split_seed=1)
    with pytest.raises(ValueError, match="not all in the split"):
        tasks.profile_usage(data, other, split)
