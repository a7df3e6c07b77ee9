"""Chapter 3 helpers: Lab ranges, a*b* summaries, colorization baselines and their scoring."""

import numpy as np
import pytest

from cae_lib import color, metrics
from cae_lib.chapter3 import (
    BASELINES,
    ab_summary,
    baseline_predictions,
    evaluate_colorization,
    lab_split_figure,
    srgb_ab_range,
    training_mean_ab,
)
from cae_lib.runs import TaskData


def _colorize_data(n_train=6, n_test=4, size=16, seed=0):
    """A tiny TaskData for 'colorize' built from random RGB images, as task_data() scales them."""
    rng = np.random.default_rng(seed)
    parts = {}
    for part, n in (("train", n_train), ("val", 2), ("test", n_test)):
        rgb = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
        parts[part] = color.lab_to_model(color.rgb_to_lab(rgb))
    return TaskData(
        task="colorize",
        x_train=parts["train"][0], y_train=parts["train"][1],
        x_val=parts["val"][0], y_val=parts["val"][1],
        x_test=parts["test"][0], y_test=parts["test"][1],
        train_index=np.arange(n_train), val_index=np.arange(2), test_index=np.arange(n_test),
        fingerprint="synthetic", source="random uint8",
    )


# --------------------------------------------------------------------------- Lab ranges


def test_srgb_ab_range_matches_published_primaries():
    # Lab (D65) of the sRGB secondaries/primaries at the extremes, from
    # Bruce Lindbloom's RGB -> Lab calculator (sRGB, D65, 2 degree observer):
    # green (0,255,0) a* = -86.18, magenta (255,0,255) a* = 98.23,
    # blue (0,0,255) b* = -107.86, yellow (255,255,0) b* = 94.48.
    r = srgb_ab_range()
    assert r["a_min"] == pytest.approx(-86.18, abs=0.05)
    assert r["a_max"] == pytest.approx(98.23, abs=0.05)
    assert r["b_min"] == pytest.approx(-107.86, abs=0.05)
    assert r["b_max"] == pytest.approx(94.48, abs=0.05)
    # A finer grid finds nothing beyond the corners.
    fine = srgb_ab_range(33)
    for key, value in r.items():
        assert fine[key] == pytest.approx(value, abs=1e-3), key


@pytest.mark.parametrize("levels", [1, 0, 2.5, True])
def test_srgb_ab_range_rejects_bad_levels(levels):
    with pytest.raises(ValueError, match="levels"):
        srgb_ab_range(levels)


def test_ab_summary_by_hand():
    ab = np.array([[[[0.5, 0.0], [0.0, -0.75]], [[-0.25, 0.25], [0.0, 0.0]]]], dtype=np.float32)
    s = ab_summary(ab)
    a = np.array([64.0, 0.0, -32.0, 0.0])
    b = np.array([0.0, -96.0, 32.0, 0.0])
    assert (s["a_min"], s["a_max"], s["b_min"], s["b_max"]) == (-32.0, 64.0, -96.0, 32.0)
    assert s["a_mean"] == pytest.approx(a.mean())
    assert s["b_mean"] == pytest.approx(b.mean())
    assert s["chroma_mean"] == pytest.approx((64 + 96 + 32 * 2**0.5 + 0) / 4)
    assert s["max_abs_scaled"] == pytest.approx(0.75)
    assert np.tanh(s["tanh_preactivation"]) == pytest.approx(0.75)


def test_ab_summary_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"\(N, H, W, 2\)"):
        ab_summary(np.zeros((2, 4, 4, 3), dtype=np.float32))


# --------------------------------------------------------------------------- baselines


def test_training_mean_is_the_per_channel_mean_of_the_targets():
    data = _colorize_data()
    mean = training_mean_ab(data)
    y = data.y_train.astype(np.float64)
    np.testing.assert_allclose(mean, [y[..., 0].mean(), y[..., 1].mean()], rtol=1e-6)


def test_baselines_have_the_test_shape_and_expected_values():
    data = _colorize_data()
    preds = baseline_predictions(data)
    assert set(preds) == set(BASELINES)
    for name, p in preds.items():
        assert p.shape == data.y_test.shape and p.dtype == np.float32, name
    assert not preds["grey"].any()
    mean = training_mean_ab(data)
    np.testing.assert_array_equal(preds["train_mean"].reshape(-1, 2), np.tile(mean, (preds["train_mean"].size // 2, 1)))
    assert preds["train_mean"].flags.writeable  # a real array, not a read-only broadcast view


def test_grey_baseline_is_the_grey_image():
    data = _colorize_data()
    m = evaluate_colorization(data, baseline_predictions(data)["grey"])
    # ab error of predicting 0 is the mean |a*|, |b*| of the test images.
    ab_true = data.y_test.astype(np.float64) * color.AB_SCALE
    assert m["ab_mae"] == pytest.approx(np.abs(ab_true).mean(), rel=1e-9)
    assert m["ab_delta_mean"] == pytest.approx(np.hypot(ab_true[..., 0], ab_true[..., 1]).mean(), rel=1e-9)
    # Rebuilt with a* = b* = 0 the image is neutral grey: colourfulness 0 up to float rounding.
    assert m["colourfulness_pred"] < 1e-3
    assert m["colourfulness_true"] > 10.0


def test_mean_baseline_ab_error_by_hand():
    data = _colorize_data(n_train=3, n_test=2, size=12, seed=3)
    m = evaluate_colorization(data, baseline_predictions(data)["train_mean"])
    y_train = data.y_train.astype(np.float64) * 128.0
    mean = np.array([y_train[..., 0].mean(), y_train[..., 1].mean()])
    diff = data.y_test.astype(np.float64) * 128.0 - mean
    assert m["ab_mae"] == pytest.approx(np.abs(diff).mean(), rel=1e-5)
    assert m["ab_rmse"] == pytest.approx(np.sqrt((diff**2).mean()), rel=1e-5)


def test_evaluate_matches_rgb_metrics_of_rebuilt_images():
    data = _colorize_data()
    pred = np.clip(data.y_test + 0.05, -1.0, 1.0)
    m = evaluate_colorization(data, pred)
    rgb_true = color.lab_to_rgb(color.model_to_lab(data.x_test, data.y_test))
    rgb_pred = color.lab_to_rgb(color.model_to_lab(data.x_test, pred))
    diff = rgb_true.astype(np.float64) - rgb_pred
    assert m["mse"] == pytest.approx((diff**2).mean(), rel=1e-6)
    assert m["psnr_global_db"] == pytest.approx(10 * np.log10(1 / (diff**2).mean()), rel=1e-6)
    assert m["colourfulness_true"] == pytest.approx(metrics.colourfulness(rgb_true).mean(), rel=1e-9)
    perfect = evaluate_colorization(data, data.y_test)
    assert perfect["mse"] == 0.0 and perfect["ab_mae"] == 0.0


def test_evaluate_agrees_with_the_run_machinery():
    """Same numbers as cae_lib.runs computes for a model's test metrics (minus keras_*)."""
    import keras

    from cae_lib.models import build_cae, colorization_spec
    from cae_lib.runs import _test_metrics

    data = _colorize_data(size=16)
    keras.utils.set_random_seed(0)
    model = build_cae(colorization_spec(filters=(4, 8), input_size=16))
    model.compile(loss="mse", metrics=["mae"])
    reference = _test_metrics(model, data, batch_size=8)
    ours = evaluate_colorization(data, model.predict(data.x_test, verbose=0))
    assert set(reference) - set(ours) == {k for k in reference if k.startswith("keras_")}
    for key, value in ours.items():
        assert value == pytest.approx(reference[key], rel=1e-6, abs=1e-9), key


def test_evaluate_rejects_wrong_task_and_shape():
    data = _colorize_data()
    with pytest.raises(ValueError, match="shape of task_data.y_test"):
        evaluate_colorization(data, np.zeros((1, 16, 16, 2), dtype=np.float32))
    recon = TaskData(**{**data.__dict__, "task": "reconstruct"})
    with pytest.raises(ValueError, match="colorize"):
        baseline_predictions(recon)


# --------------------------------------------------------------------------- figure


def test_lab_split_figure_shows_the_lab_channels():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    fig = lab_split_figure(rgb, extent=90)
    lab = color.rgb_to_lab(rgb)
    images = [ax.images[0] for ax in fig.axes[:8]]  # 2 rows x (RGB, L*, a*, b*); colour bars come after
    assert len(fig.axes) == 8 + 6
    np.testing.assert_array_equal(images[0].get_array(), rgb[0])
    for row in range(2):
        for c in range(3):
            np.testing.assert_allclose(images[4 * row + 1 + c].get_array(), lab[row, ..., c])
    assert images[1].get_clim() == (0.0, 100.0)
    assert images[2].get_clim() == (-90, 90) and images[3].get_clim() == (-90, 90)
    # The a* scale runs from green (negative a*) to magenta-red (positive a*).
    cmap = images[2].get_cmap()
    low, high = cmap(0.0), cmap(1.0)
    assert low[1] > low[0] and high[0] > high[1]


def test_lab_split_figure_default_extent_and_errors():
    img = np.zeros((8, 8, 3), dtype=np.float32)
    img[..., 2] = 1.0  # pure blue: b* about -108
    fig = lab_split_figure(img)
    assert fig.axes[3].images[0].get_clim() == (-108.0, 108.0)
    with pytest.raises(ValueError, match="extent"):
        lab_split_figure(img, extent=0)
    with pytest.raises(ValueError, match="scale_chroma"):
        lab_split_figure(img, scale_chroma=-1)
    with pytest.raises(ValueError, match="shape"):
        lab_split_figure(np.zeros((8, 8), dtype=np.uint8))
