"""Tests for cae_lib.baselines against hand computations (NumPy SVD, block means, known kernels)."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from cae_lib import baselines as B
from cae_lib import metrics

EXACT_SOLVERS = ("covariance_eigh", "full")
F32_ULP_ATOL = 2.5e-7  # a couple of float32 ulps near 0.3: cv2 interpolation weights are float32


def _low_rank_images(n=80, shape=(4, 4, 3), rank=6, seed=0):
    """Images 0.5 + low-rank signal + small noise, well inside [0, 1] (clipping never binds)."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    basis = rng.normal(size=(rank, d))
    x = 0.5 + 0.03 * rng.normal(size=(n, rank)) @ basis + 0.002 * rng.normal(size=(n, d))
    assert x.min() > 0.0 and x.max() < 1.0
    return x.reshape((n, *shape)).astype(np.float32)


def _smooth_image(size=32):
    """One smooth colour image (gradients and a slow wave) in [0.1, 0.9]."""
    i, j = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
    img = np.stack([0.1 + 0.8 * i, 0.1 + 0.8 * j, 0.5 + 0.4 * np.sin(2 * np.pi * (i + j) / 2)], axis=-1)
    return img[None].astype(np.float32)


def _noisy(x, sigma, seed=0):
    return np.clip(x + np.random.default_rng(seed).normal(0, sigma, x.shape), 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- import hygiene


def test_import_pulls_no_tensorflow_keras_sklearn_or_bm3d():
    code = (
        "import sys, cae_lib.baselines; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'bm3d') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- PCA


@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_pca_with_every_component_reconstructs_exactly(solver):
    x = np.random.default_rng(0).random((100, 4, 4, 3), dtype=np.float32)
    codec = B.fit_pca(x, 48, solver=solver)
    assert codec.n_values == 48
    np.testing.assert_allclose(codec.reconstruct(x), x, atol=1e-5)


@pytest.mark.parametrize("solver", (*EXACT_SOLVERS, "randomized"))
def test_pca_matches_numpy_svd_projection(solver):
    x = _low_rank_images()
    n, k = x.shape[0], 4
    flat = x.reshape(n, -1).astype(np.float64)
    mean = flat.mean(axis=0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    projection = (flat - mean) @ vt[:k].T @ vt[:k] + mean

    codec = B.fit_pca(x, k, solver=solver)
    rec = codec.reconstruct(x).reshape(n, -1)
    np.testing.assert_allclose(rec, projection, atol=1e-5)
    # the training error is the discarded part of the spectrum: sum of S_i^2, i > k, over N * D
    assert metrics.mse(x.reshape(n, -1, 1), rec.reshape(n, -1, 1)) == pytest.approx(
        np.sum(s[k:] ** 2) / flat.size, rel=1e-3
    )
    np.testing.assert_allclose(codec.explained_variance, s[:k] ** 2 / (n - 1), rtol=1e-4)
    np.testing.assert_allclose(codec.components @ codec.components.T, np.eye(k), atol=1e-5)


def test_codes_have_k_values_and_nest():
    x = _low_rank_images()
    codec = B.fit_pca(x, 10, solver="full")
    codes = codec.encode(x)
    assert codes.shape == (x.shape[0], 10) and codes.dtype == np.float32
    small = codec.truncate(3)
    np.testing.assert_allclose(small.encode(x), codes[:, :3], atol=1e-6)
    np.testing.assert_allclose(small.decode(codes[:, :3]), small.reconstruct(x), atol=1e-6)


@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_truncating_an_exact_fit_is_the_smaller_fit(solver):
    x = _low_rank_images()
    big, direct = B.fit_pca(x, 12, solver=solver).truncate(5), B.fit_pca(x, 5, solver=solver)
    np.testing.assert_allclose(np.abs(big.components @ direct.components.T), np.eye(5), atol=1e-4)
    np.testing.assert_allclose(big.reconstruct(x), direct.reconstruct(x), atol=1e-5)


def test_pca_sees_only_the_data_passed():
    rng = np.random.default_rng(1)
    x_train = rng.uniform(0.0, 0.5, (60, 4, 4, 3)).astype(np.float32)
    x_test = rng.uniform(0.5, 1.0, (60, 4, 4, 3)).astype(np.float32)
    before = x_train.copy()
    codec = B.fit_pca(x_train, 8, solver="full")
    np.testing.assert_array_equal(x_train, before)  # not centred in place
    np.testing.assert_allclose(codec.mean, x_train.reshape(60, -1).mean(axis=0, dtype=np.float64), atol=1e-6)
    # the same training data gives the same codec whatever else exists
    again = B.fit_pca(np.concatenate([x_train, x_test])[:60], 8, solver="full")
    np.testing.assert_array_equal(again.components, codec.components)


def test_randomized_fit_is_seeded():
    x = _low_rank_images()
    a, b = (B.fit_pca(x, 5, seed=3, solver="randomized") for _ in range(2))
    np.testing.assert_array_equal(a.components, b.components)


def test_codec_round_trips_through_npz(tmp_path):
    x = _low_rank_images()
    codec = B.fit_pca(x, 7, solver="full")
    path = tmp_path / "pca.npz"
    np.savez(path, **codec.to_arrays())
    with np.load(path, allow_pickle=False) as stored:
        back = B.PCACodec.from_arrays(stored)
    assert back.image_shape == codec.image_shape == (4, 4, 3) and back.solver == "full"
    for field in ("mean", "components", "explained_variance"):
        np.testing.assert_array_equal(getattr(back, field), getattr(codec, field))
    np.testing.assert_array_equal(back.reconstruct(x), codec.reconstruct(x))


def test_pca_refuses_bad_input():
    x = _low_rank_images(n=20)
    with pytest.raises(ValueError, match="n_components"):
        B.fit_pca(x, 21)
    with pytest.raises(ValueError, match="solver"):
        B.fit_pca(x, 2, solver="arpack")
    codec = B.fit_pca(x, 2)
    with pytest.raises(ValueError, match=r"\(4, 4, 3\)"):
        codec.encode(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        codec.decode(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at most"):
        codec.truncate(3)
    with pytest.raises(ValueError, match="lack"):
        B.PCACodec.from_arrays({"mean": codec.mean})


def test_decode_clips_to_unit_range():
    codec = B.fit_pca(_low_rank_images(), 3, solver="full")
    out = codec.decode(np.full((2, 3), 1e3))
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.dtype == np.float32


# --------------------------------------------------------------------------- resize codec


@pytest.mark.parametrize("k", range(1, 9))
def test_resize_keeps_a_constant_image(k):
    x = np.full((2, 8, 8, 3), 0.3, np.float32)
    np.testing.assert_allclose(B.resize_codec(x, k), x, atol=F32_ULP_ATOL)


def test_resize_at_full_size_returns_the_images():
    x = np.random.default_rng(0).random((3, 8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(B.resize_codec(x, 8), x, atol=1e-7)


def test_resize_to_one_pixel_gives_each_images_channel_means():
    x = np.random.default_rng(0).random((3, 8, 8, 3), dtype=np.float32)
    expected = np.broadcast_to(x.mean(axis=(1, 2), keepdims=True, dtype=np.float64), x.shape)
    np.testing.assert_allclose(B.resize_codec(x, 1), expected, atol=1e-6)


def test_resize_output_in_unit_range_and_grey_images_work():
    x = np.zeros((2, 8, 8, 3), np.float32)
    x[:, :, 4:] = 1.0  # a hard edge makes bicubic overshoot before the clip
    out = B.resize_codec(x, 3)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert B.resize_codec(x[..., :1], 3).shape == (2, 8, 8, 1)


def test_resize_refuses_bad_k():
    x = np.zeros((1, 8, 8, 3), np.float32)
    for k in (0, 9):
        with pytest.raises(ValueError, match="k must be"):
            B.resize_codec(x, k)


def test_values_kept_puts_pca_and_resize_on_one_axis():
    assert [B.resize_values(k) for k in (1, 8, 16, 18)] == [3, 192, 768, 972]
    assert B.values_kept("resize", 18) == B.values_kept("pca", 972) == 972
    assert B.values_kept("resize", 4, (8, 8, 1)) == 16
    assert B.values_kept("identity", 1) == 32 * 32 * 3
    with pytest.raises(ValueError, match="kind"):
        B.values_kept("jpeg", 10)
    with pytest.raises(ValueError, match="at most"):
        B.values_kept("resize", 33)
    with pytest.raises(ValueError, match="at most"):
        B.values_kept("pca", 3073)


# --------------------------------------------------------------------------- colorization


def test_grey_and_mean_ab_by_hand():
    rng = np.random.default_rng(0)
    y = rng.uniform(-0.5, 0.5, (5, 4, 4, 2)).astype(np.float32)
    expected = np.array([y[..., 0].astype(np.float64).mean(), y[..., 1].astype(np.float64).mean()])
    mean = B.mean_ab(y)
    assert mean.shape == (2,) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, expected, atol=1e-7)

    grey = B.grey_ab((3, 4, 4, 2))
    assert grey.dtype == np.float32 and grey.shape == (3, 4, 4, 2) and not grey.any()

    const = B.constant_ab(mean, (3, 4, 4, 2))
    assert const.dtype == np.float32 and const.flags.writeable
    np.testing.assert_array_equal(const[1, 2, 3], mean)

    preds = B.colorization_predictions(y, (3, 4, 4, 2))
    assert list(preds) == list(B.COLORIZATION_BASELINES) == ["grey", "train_mean"]
    np.testing.assert_array_equal(preds["train_mean"], const)
    np.testing.assert_array_equal(preds["grey"], grey)


def test_colorization_shapes_refused():
    with pytest.raises(ValueError, match="a\\*, b\\* last"):
        B.grey_ab((2, 4, 4, 3))
    with pytest.raises(ValueError, match="2 channels"):
        B.mean_ab(np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="two finite numbers"):
        B.constant_ab([0.1, np.nan], (4, 4, 2))


# --------------------------------------------------------------------------- denoising


def test_blur_keeps_a_constant_image_and_has_the_binomial_kernel():
    x = np.full((2, 8, 8, 3), 0.3, np.float32)
    np.testing.assert_array_equal(B.gaussian_blur(x), x)
    impulse = np.zeros((1, 5, 5, 1), np.float32)
    impulse[0, 2, 2] = 1.0
    taps = np.array([1.0, 2.0, 1.0]) / 4.0  # OpenCV's fixed 3-tap kernel for sigma 0
    np.testing.assert_allclose(B.gaussian_blur(impulse)[0, 1:4, 1:4, 0], np.outer(taps, taps), atol=1e-7)
    with pytest.raises(ValueError, match="odd"):
        B.gaussian_blur(x, ksize=4)


@pytest.mark.parametrize("channels", (1, 3))
def test_nl_means_keeps_a_constant_image(channels):
    x = np.full((2, 16, 16, channels), 0.4, np.float32)
    out = B.nl_means(x, h=10)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert np.unique(out).size == 1
    levels = float(out.flat[0]) * 255  # 0.4 rounds to 102 of 255
    assert levels == pytest.approx(round(levels), abs=1e-4)  # back on the 1/255 grid
    # grey: exactly; colour: OpenCV's 8-bit Lab round trip may move it by one level
    assert round(levels) == 102 if channels == 1 else abs(round(levels) - 102) <= 1


def test_nl_means_leaves_a_clean_smooth_image_nearly_unchanged():
    x = _smooth_image()
    assert metrics.psnr_global(x, B.nl_means(x, h=3)) > 40.0


def test_nl_means_and_blur_reduce_noise():
    x = _smooth_image()
    noisy = _noisy(x, 0.1)
    before = metrics.psnr_global(x, noisy)
    assert metrics.psnr_global(x, B.nl_means(noisy, h=15)) > before + 3.0
    assert metrics.psnr_global(x, B.gaussian_blur(noisy)) > before + 3.0


def test_tune_nl_means_picks_the_best_validation_psnr():
    y = np.concatenate([_smooth_image(16), _smooth_image(16)[:, ::-1]])
    noisy = _noisy(y, 0.15, seed=2)
    hs = (2, 10, 25, 60)
    best, table = B.tune_nl_means(noisy, y, hs=hs)
    by_hand = {}
    for h in hs:
        err = B.nl_means(noisy, h).astype(np.float64) - y
        by_hand[h] = 10 * np.log10(1 / np.mean(err**2))
    assert list(table) == list(hs)
    np.testing.assert_allclose([table[h] for h in hs], [by_hand[h] for h in hs], rtol=1e-9)
    assert best == max(by_hand, key=by_hand.get)
    assert best not in (2, 60)  # the grid brackets the optimum: neither extreme wins
    with pytest.raises(ValueError, match="hs"):
        B.tune_nl_means(noisy, y, hs=())


def test_bm3d_without_the_package_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm3d", None)  # makes `import bm3d` raise ImportError
    with pytest.raises(ImportError, match="pip install bm3d"):
        B.bm3d(np.zeros((1, 16, 16, 3), np.float32), 0.1)


def test_bm3d_reduces_noise():
    pytest.importorskip("bm3d", reason="optional: pip install bm3d")
    x = _smooth_image(16)
    noisy = _noisy(x, 0.1)
    out = B.bm3d(noisy, 0.1)
    assert out.dtype == np.float32 and out.shape == x.shape and out.min() >= 0.0 and out.max() <= 1.0
    assert metrics.psnr_global(x, out) > metrics.psnr_global(x, noisy) + 3.0


def test_bm3d_refuses_images_that_would_crash_it():
    from cae_lib.baselines import bm3d

    with pytest.raises(ValueError, match="at least 9x9"):
        bm3d(np.full((1, 8, 8, 3), 0.5, np.float32), 0.1)


# --------------------------------------------------------------------------- cached curves and scores


def _task(task, n=40, sigma=None, seed=0):
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    small = rng.random((3 * n, 4, 4, 3)).astype(np.float32)
    images = np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_LINEAR) for im in small])
    x = {"train": images[:n], "val": images[n:2 * n], "test": images[2 * n:]}
    noisy = {p: np.clip(v + rng.normal(0, sigma or 0, v.shape), 0, 1).astype(np.float32) for p, v in x.items()}
    data = SimpleNamespace(task=task, x_train=x["train"], y_train=x["train"], x_val=noisy["val"], y_val=x["val"],
                           x_test=noisy["test"] if sigma else x["test"], y_test=x["test"],
                           test_index=np.arange(n), fingerprint="synthetic", split="s", noise_sigma=sigma)
    data.sizes = lambda: {"train": n, "val": n, "test": n}
    return data


def test_codec_curves_are_pca_and_thumbnails_scored_like_models(tmp_path):
    from cae_lib import evaluation

    data = _task("reconstruct")
    curves = B.codec_curves(data, (4, 16, 40), (2, 8), cache_dir=tmp_path)
    pca, thumbs = curves[B.PCA_LABEL], curves[B.THUMBNAIL_LABEL]
    assert [r["latent_size"] for r in pca] == [4, 16, 40] and [r["latent_size"] for r in thumbs] == [12, 192]
    assert [r["psnr_global_db"] for r in pca] == sorted(r["psnr_global_db"] for r in pca)  # more values, better
    by_hand = B.fit_pca(data.x_train, 16, solver="full").reconstruct(data.x_test)
    assert pca[1]["psnr_global_db"] == pytest.approx(evaluation.prediction_metrics(data, by_hand)["psnr_global_db"],
                                                     abs=1e-3)
    assert list((tmp_path / "results").glob("pca-*/manifest.json"))  # the fitted codec is cached
    again = B.codec_curves(data, (4, 16, 40), (2, 8), cache_dir=tmp_path)
    assert again == curves


def test_denoising_scores_rank_the_classical_denoisers(tmp_path):
    data = _task("denoise", sigma=0.1)
    rows = B.denoising_scores(data, bm3d_images=3, nl_means_images=20, cache_dir=tmp_path)
    by = {r["method"].split(" (")[0]: r for r in rows}
    assert by["noisy input"]["psnr_global_db"] < by["non-local means"]["psnr_global_db"]
    assert by["non-local means"]["h"] in B.NL_MEANS_HS
    bm3d = next(r for r in rows if r["method"].startswith("BM3D"))
    assert bm3d["n_images"] in (0, 3)  # 3 when the optional package is installed
    assert B.denoising_scores(data, bm3d_images=3, nl_means_images=20, cache_dir=tmp_path) == rows  # cached
