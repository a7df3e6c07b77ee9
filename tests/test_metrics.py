"""Tests for cae_lib.metrics against hand computations, scikit-image and Keras itself."""

import math
import subprocess
import sys

import numpy as np
import pytest

from cae_lib import metrics as M

SSIM_ATOL_F64 = 1e-10  # float64 input: both sides compute in float64
SSIM_ATOL_F32 = 1e-6  # float32 input: scikit-image computes in float32


def _pair(shape, noise=0.1, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    y = rng.random(shape)
    p = np.clip(y + noise * rng.standard_normal(shape), 0.0, 1.0)
    return y.astype(dtype), p.astype(dtype)


# --------------------------------------------------------------------------- import hygiene


def test_import_does_not_pull_tensorflow():
    code = "import sys, cae_lib.metrics; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- MSE / MAE / PSNR


def test_mse_mae_hand_computed():
    y = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    p = np.array([0.5, 0.5]).reshape(1, 1, 2, 1)
    assert M.mse(y, p) == pytest.approx(0.25)
    assert M.mae(y, p) == pytest.approx(0.5)
    # one (H, W, C) image is a batch of one
    assert M.mse(y[0], p[0]) == pytest.approx(0.25)


@pytest.mark.parametrize("mse_value, expected", [(1.0, 0.0), (0.01, 20.0), (1e-4, 40.0), (0.5, 10 * math.log10(2))])
def test_psnr_of_known_mse(mse_value, expected):
    assert M.psnr_from_mse(mse_value) == pytest.approx(expected)


def test_psnr_cap_and_bad_mse():
    assert M.psnr_from_mse(0.0) == M.PSNR_CAP_DB == 100.0
    assert M.psnr_from_mse(1e-12) == 100.0
    np.testing.assert_allclose(M.psnr_from_mse(np.array([0.0, 0.01])), [100.0, 20.0])
    with pytest.raises(ValueError, match="MSE"):
        M.psnr_from_mse(-1.0)


def test_psnr_global_and_mean_differ_as_computed_by_hand():
    y = np.zeros((2, 4, 4, 3))
    p = y.copy()
    p[0] = 0.1  # MSE 1e-2 -> 20 dB
    p[1] = 0.01  # MSE 1e-4 -> 40 dB
    assert M.psnr_mean(y, p) == pytest.approx(30.0)
    assert M.psnr_global(y, p) == pytest.approx(10 * math.log10(1 / ((1e-2 + 1e-4) / 2)))  # 22.97 dB


def test_psnr_mean_caps_a_perfect_image():
    y = np.zeros((2, 4, 4, 1))
    p = y.copy()
    p[1] = 0.1
    assert M.psnr_mean(y, p) == pytest.approx((100.0 + 20.0) / 2)
    assert math.isfinite(M.psnr_global(y, y))


# --------------------------------------------------------------------------- SSIM vs scikit-image


def _skimage_ssim(y, p):
    from skimage.metrics import structural_similarity

    return np.array(
        [
            structural_similarity(
                a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                data_range=1.0, channel_axis=-1,
            )
            for a, b in zip(y, p)
        ]
    )


@pytest.mark.parametrize("shape", [(5, 32, 32, 3), (3, 20, 27, 1), (2, 11, 11, 2)])
def test_ssim_matches_skimage_float64(shape):
    y, p = _pair(shape, noise=0.15, seed=1)
    np.testing.assert_allclose(M.ssim_per_image(y, p), _skimage_ssim(y, p), rtol=0, atol=SSIM_ATOL_F64)


def test_ssim_matches_skimage_float32_and_smooth_images():
    # smooth images (blurred noise) give SSIMs far from 0, unlike white noise
    import cv2

    y, _ = _pair((4, 32, 32, 3), seed=2)
    y = np.stack([cv2.GaussianBlur(im, (7, 7), 2.0) for im in y]).astype(np.float32)
    p = np.clip(y * 0.8 + 0.05, 0, 1).astype(np.float32)
    ours = M.ssim_per_image(y, p)
    ref = _skimage_ssim(y, p)
    assert ref.min() > 0.5
    np.testing.assert_allclose(ours, ref, rtol=0, atol=SSIM_ATOL_F32)


def test_ssim_identity_chunking_and_small_images():
    y, p = _pair((7, 16, 16, 3), seed=3)
    assert M.ssim(y, y) == pytest.approx(1.0)
    np.testing.assert_allclose(M.ssim_per_image(y, p, chunk_size=2), M.ssim_per_image(y, p), atol=1e-14)
    assert M.ssim(y, p) < 0.99
    with pytest.raises(ValueError, match="11x11"):
        M.ssim(np.zeros((1, 10, 12, 3)), np.zeros((1, 10, 12, 3)))


# --------------------------------------------------------------------------- summaries and validation


def test_reconstruction_metrics_keys_and_consistency():
    y, p = _pair((9, 32, 32, 3), seed=4, dtype=np.float32)
    r = M.reconstruction_metrics(y, p, chunk_size=4)
    assert set(r) == {"mse", "mae", "psnr_global_db", "psnr_mean_db", "ssim", "n_images"}
    d = y.astype(np.float64) - p.astype(np.float64)
    assert r["mse"] == pytest.approx(np.mean(d**2), rel=1e-12)
    assert r["mae"] == pytest.approx(np.mean(np.abs(d)), rel=1e-12)
    assert r["psnr_global_db"] == pytest.approx(10 * np.log10(1 / np.mean(d**2)))
    per_img = np.mean(d.reshape(9, -1) ** 2, axis=1)
    assert r["psnr_mean_db"] == pytest.approx(np.mean(10 * np.log10(1 / per_img)))
    assert r["ssim"] == pytest.approx(M.ssim(y, p), abs=1e-12)
    assert r["n_images"] == 9
    assert r == pytest.approx(M.reconstruction_metrics(y, p, chunk_size=1000))


def test_per_image_metrics_shapes():
    y, p = _pair((3, 12, 12, 3), seed=5)
    per = M.per_image_metrics(y, p)
    assert {k: v.shape for k, v in per.items()} == {k: (3,) for k in ("mse", "mae", "psnr_db", "ssim")}


@pytest.mark.parametrize(
    "y, p, match",
    [
        (np.zeros((2, 12, 12, 3)), np.zeros((2, 12, 12, 1)), "same shape"),
        (np.zeros((2, 12, 12, 3), np.uint8), np.zeros((2, 12, 12, 3)), "to_float"),
        (np.zeros((2, 12, 12, 3)), np.full((2, 12, 12, 3), np.nan), "NaN"),
        (np.full((2, 12, 12, 3), 255.0), np.zeros((2, 12, 12, 3)), r"\[0, 1\]"),
        (np.zeros((12, 12)), np.zeros((12, 12)), "shape"),
        (np.zeros((0, 12, 12, 3)), np.zeros((0, 12, 12, 3)), "empty"),
    ],
)
def test_bad_image_input_raises(y, p, match):
    with pytest.raises(ValueError, match=match):
        M.reconstruction_metrics(y, p)


def test_bad_chunk_size():
    with pytest.raises(ValueError, match="chunk_size"):
        M.mse(np.zeros((1, 2, 2, 1)), np.zeros((1, 2, 2, 1)), chunk_size=0)


# --------------------------------------------------------------------------- colourfulness and colorization


def test_colourfulness_hand_computed():
    assert M.colourfulness(np.full((5, 5, 3), 0.37)) == 0.0
    # red + black: rg = [255, 0], yb = [127.5, 0]; std = mean = (127.5, 63.75)
    two = np.array([[[255, 0, 0], [0, 0, 0]]], dtype=np.uint8)
    expected = math.hypot(127.5, 63.75) * (1 + 0.3)
    assert M.colourfulness(two) == pytest.approx(expected)
    assert M.colourfulness(two / 255.0) == pytest.approx(expected)
    # a uniform blue image: rg = 0, yb = -255, no spread -> 0.3 * 255
    assert M.colourfulness(np.array([[[0, 0, 255]]], np.uint8)) == pytest.approx(76.5)


def test_colourfulness_batch_and_errors():
    batch = np.stack([np.full((4, 4, 3), 0.5), np.tile([[[1.0, 0.0, 0.0]]], (4, 4, 1))])
    out = M.colourfulness(batch)
    assert out.shape == (2,)
    assert out[0] == 0.0 and out[1] == pytest.approx(0.3 * math.hypot(255, 127.5))
    with pytest.raises(ValueError, match="uint8"):
        M.colourfulness(np.full((2, 2, 3), 200.0))
    with pytest.raises(ValueError, match="shape"):
        M.colourfulness(np.zeros((2, 2, 4)))


def test_colorization_metrics_hand_computed():
    rgb, rgb_p = _pair((3, 16, 16, 3), seed=6)
    ab = np.random.default_rng(7).uniform(-60, 60, (3, 16, 16, 2))
    ab_p = ab + np.array([3.0, -4.0])
    m = M.colorization_metrics(rgb, rgb_p, ab, ab_p, chunk_size=2)
    assert m["ab_mae"] == pytest.approx(3.5)
    assert m["ab_rmse"] == pytest.approx(math.sqrt((9 + 16) / 2))
    assert m["ab_delta_mean"] == pytest.approx(5.0)
    rec = M.reconstruction_metrics(rgb, rgb_p)
    assert {k: m[k] for k in rec} == pytest.approx(rec)
    assert m["colourfulness_true"] == pytest.approx(np.mean(M.colourfulness(rgb)))
    assert m["colourfulness_pred"] == pytest.approx(np.mean(M.colourfulness(rgb_p)))
    grey = np.repeat(rgb.mean(axis=-1, keepdims=True), 3, axis=-1)
    assert M.colorization_metrics(rgb, grey, ab, ab * 0)["colourfulness_pred"] == 0.0


def test_colorization_metrics_bad_ab_shape():
    rgb = np.zeros((2, 12, 12, 3))
    with pytest.raises(ValueError, match="ab_pred"):
        M.colorization_metrics(rgb, rgb, np.zeros((2, 12, 12, 2)), np.zeros((2, 12, 12, 3)))


# --------------------------------------------------------------------------- BCE


def test_bce_hand_computed():
    assert M.bce([[1.0, 0.0]], [[0.5, 0.5]]) == pytest.approx(math.log(2))
    assert M.bce_floor([0.5, 0.5]) == pytest.approx(math.log(2))
    h = -(0.2 * math.log(0.2) + 0.8 * math.log(0.8))
    assert M.bce_floor([0.2, 0.8]) == pytest.approx(h)
    # perfect 0/1 targets only pay the clipping
    assert 0 < M.bce_floor([0.0, 1.0]) < 2e-7
    with pytest.raises(ValueError, match="same shape"):
        M.bce([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.bce_floor([2.0])


# --------------------------------------------------------------------------- against Keras


@pytest.fixture(scope="module")
def keras_mod():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def targets():
    rng = np.random.default_rng(11)
    # 8-bit-like values with many exact 0s, 1s and channel ties
    y = rng.integers(0, 3, size=(6, 8, 8, 3)).astype(np.float32) / 2.0
    y[0, :4] = rng.integers(0, 256, size=(4, 8, 3)) / 255.0
    return y.astype(np.float32)


def test_bce_floor_and_bce_match_keras(keras_mod, targets):
    ref = float(np.mean(keras_mod.ops.convert_to_numpy(keras_mod.losses.binary_crossentropy(targets, targets))))
    assert M.bce_floor(targets) == pytest.approx(ref, rel=1e-5)
    pred = np.random.default_rng(12).random(targets.shape).astype(np.float32)
    ref = float(np.mean(keras_mod.ops.convert_to_numpy(keras_mod.losses.binary_crossentropy(targets, pred))))
    assert M.bce(targets, pred) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize(
    "t_shape, p_shape, kind",
    [
        ((4, 32, 32, 3), (4, 32, 32, 3), "categorical"),
        ((4, 32, 32, 2), (4, 32, 32, 2), "categorical"),
        ((4, 32, 32, 1), (4, 32, 32, 1), "binary"),
        ((4,), (4, 10), "sparse_categorical"),
        ((4, 1), (4, 10), "sparse_categorical"),
    ],
)
def test_keras_accuracy_kind(t_shape, p_shape, kind):
    assert M.keras_accuracy_kind(t_shape, p_shape) == kind


def test_keras_accuracy_hand_computed_and_ties():
    y = np.array([[[0.9, 0.1, 0.0], [0.2, 0.2, 0.2]]])
    p = np.array([[[0.5, 0.4, 0.0], [0.1, 0.3, 0.2]]])
    assert M.keras_accuracy(y, p) == 0.5  # grey target ties -> channel 0
    assert M.keras_accuracy(y, np.full_like(p, 0.3)) == 1.0  # tied prediction -> channel 0 too
    assert M.keras_accuracy(np.array([0.0, 1.0, 0.5]), np.array([0.2, 0.7, 0.5]), kind="binary") == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="kind"):
        M.keras_accuracy(y, p, kind="top5")
    with pytest.raises(ValueError, match="shapes"):
        M.keras_accuracy(y, p[..., :2], kind="categorical")


def _tiny_model(keras, channels_in, channels_out, activation, zero=False, seed=0):
    init = "zeros" if zero else keras.initializers.GlorotUniform(seed=seed)
    inp = keras.Input((8, 8, channels_in))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", kernel_initializer=init, name="enc")(inp)
    out = keras.layers.Conv2D(
        channels_out, 3, padding="same", activation=activation, kernel_initializer=init,
        bias_initializer="zeros", name="dec",
    )(h)
    return keras.Model(inp, out)


def _keras_eval(model, loss, x, y):
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    res = model.evaluate(x, y, batch_size=len(x), return_dict=True, verbose=0)
    compiled = [m for m in model.metrics if m.name == "compile_metrics"][0]
    kinds = [type(m).__name__ for m in compiled.metrics]
    pred = model.predict(x, batch_size=len(x), verbose=0)
    return res, kinds, pred


@pytest.mark.parametrize("loss", ["mse", "mae", "binary_crossentropy"])
def test_keras_accuracy_matches_real_rgb_autoencoder(keras_mod, targets, loss):
    model = _tiny_model(keras_mod, 3, 3, "sigmoid")
    res, kinds, pred = _keras_eval(model, loss, targets, targets)
    assert kinds == ["CategoricalAccuracy"]  # independent of the loss
    ours = M.keras_accuracy(targets, pred)
    assert ours == pytest.approx(res["accuracy"], abs=1e-6)
    # the test discriminates: binary accuracy on the same data is a different number
    assert abs(M.keras_accuracy(targets, pred, kind="binary") - ours) > 0.01
    if loss == "binary_crossentropy":
        assert M.bce(targets, pred) == pytest.approx(res["loss"], rel=1e-5)


def test_keras_accuracy_tied_predictions(keras_mod, targets):
    # all-zero weights -> every output is sigmoid(0) = 0.5 in all channels: a full tie
    model = _tiny_model(keras_mod, 3, 3, "sigmoid", zero=True)
    res, _, pred = _keras_eval(model, "mse", targets, targets)
    assert np.all(pred == 0.5)
    first_is_max = np.mean(np.argmax(targets, axis=-1) == 0)  # ties resolve to channel 0 on both sides
    assert res["accuracy"] == pytest.approx(first_is_max, abs=1e-6)
    assert M.keras_accuracy(targets, pred) == pytest.approx(first_is_max, abs=1e-12)


def test_keras_accuracy_matches_one_and_two_channel_outputs(keras_mod, targets):
    gray = targets[..., :1]
    model = _tiny_model(keras_mod, 1, 1, "sigmoid", seed=1)
    res, kinds, pred = _keras_eval(model, "binary_crossentropy", gray, gray)
    assert kinds == ["BinaryAccuracy"]
    assert M.keras_accuracy(gray, pred) == pytest.approx(res["accuracy"], abs=1e-6)

    ab = targets[..., 1:] * 2.0 - 1.0  # tanh range, like the colorization targets
    model = _tiny_model(keras_mod, 1, 2, "tanh", seed=2)
    res, kinds, pred = _keras_eval(model, "mse", gray, ab)
    assert kinds == ["CategoricalAccuracy"]
    assert M.keras_accuracy(ab, pred) == pytest.approx(res["accuracy"], abs=1e-6)
