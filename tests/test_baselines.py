"""Tests for cae_lib.baselines against hand computations (known kernels, NumPy means) and reference packages."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from cae_lib import baselines as B
from cae_lib import metrics
from cae_lib.tasks import Denoise


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
    from cae_lib.tasks import TaskData

    rng = np.random.default_rng(seed)
    small = rng.random((3 * n, 4, 4, 3)).astype(np.float32)
    images = np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_LINEAR) for im in small])
    x = {"train": images[:n], "val": images[n:2 * n], "test": images[2 * n:]}
    noisy = {p: np.clip(v + rng.normal(0, sigma or 0, v.shape), 0, 1).astype(np.float32) for p, v in x.items()}
    return TaskData(task=task, x_train=x["train"], y_train=x["train"], x_val=noisy["val"], y_val=x["val"],
                    x_test=noisy["test"] if sigma else x["test"], y_test=x["test"], train_index=np.arange(n),
                    val_index=np.arange(n), test_index=np.arange(n), fingerprint="synthetic", source="synthetic",
                    split="s")


def test_denoising_scores_rank_the_classical_denoisers(tmp_path):
    data = _task(Denoise(0.1), sigma=0.1)
    rows = B.denoising_scores(data, bm3d_images=3, nl_means_images=20, cache_dir=tmp_path)
    by = {r["method"].split(" (")[0]: r for r in rows}
    assert by["noisy input"]["psnr_global_db"] < by["non-local means"]["psnr_global_db"]
    assert by["non-local means"]["h"] in B.NL_MEANS_HS
    bm3d = next(r for r in rows if r["method"].startswith("BM3D"))
    assert bm3d["n_images"] in (0, 3)  # 3 when the optional package is installed
    assert B.denoising_scores(data, bm3d_images=3, nl_means_images=20, cache_dir=tmp_path) == rows  # cached


def _scores_spy(monkeypatch):
    """Replace the slow denoisers by identities; return the list of (sigma, validation images) each fit saw."""
    fits = []

    def tune(x_val, y_val, hs):
        fits.append(len(x_val))
        return hs[0], {}

    monkeypatch.setattr(B, "tune_nl_means", tune)
    monkeypatch.setattr(B, "nl_means", lambda x, h, **kw: x)
    monkeypatch.setattr(B, "gaussian_blur", lambda x, *a, **kw: x)
    _without_bm3d(monkeypatch)
    return fits


def _without_bm3d(monkeypatch):
    """BM3D costs about a second an image: score the rows without it, as where the package is missing."""
    def missing(x, sigma):
        raise ImportError("pip install bm3d")

    monkeypatch.setattr(B, "bm3d", missing)


#: Every parameter of denoising_scores but the cache folder, each with a value other than the test's own.
_BASELINE_CHANGES = {
    "bm3d_images": dict(bm3d_images=4),
    "nl_means_images": dict(nl_means_images=21),
    "nl_means_hs": dict(nl_means_hs=(5.0, 11.0)),
}


def test_every_parameter_of_the_cached_denoising_baselines_changes_their_key(tmp_path, monkeypatch):
    """Property of the cache key: changing any one thing the scores depend on computes them again."""
    import dataclasses
    import inspect

    keyword = {n for n, p in inspect.signature(B.denoising_scores).parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert keyword - {"cache_dir"} == set(_BASELINE_CHANGES), "a new parameter needs its line in _BASELINE_CHANGES"

    fits = _scores_spy(monkeypatch)
    data = _task(Denoise(0.1), sigma=0.1)
    base = dict(bm3d_images=3, nl_means_images=20, nl_means_hs=(5.0, 10.0), cache_dir=tmp_path)
    B.denoising_scores(data, **base)
    B.denoising_scores(data, **base)
    assert len(fits) == 1  # the same request loads

    variants = {name: (data, {**base, **change}) for name, change in _BASELINE_CHANGES.items()}
    variants.update({
        "noise level (sigma)": (dataclasses.replace(data, task=Denoise(0.2)), base),
        "data fingerprint": (dataclasses.replace(data, fingerprint="other images"), base),
        "split": (dataclasses.replace(data, split="another split"), base),
        "sizes": (dataclasses.replace(data, x_val=data.x_val[:30], y_val=data.y_val[:30],
                                      val_index=data.val_index[:30]), base),
    })
    for what, (d, kwargs) in variants.items():
        before = len(fits)
        B.denoising_scores(d, **kwargs)
        assert len(fits) == before + 1, f"changing the {what} loaded the baselines cached for another {what}"
    assert len({p.name for p in (tmp_path / "results").iterdir() if p.is_dir()}) == 1 + len(variants)


def test_baselines_cached_at_one_noise_level_are_not_served_for_another(tmp_path, monkeypatch):
    """σ = 0.1's scores must not load for σ = 0.2: the noisy input's PSNR alone tells them apart."""
    _without_bm3d(monkeypatch)
    rows = {}
    for sigma in (0.1, 0.2):
        data = _task(Denoise(sigma), sigma=sigma)
        rows[sigma] = {r["method"].split(" (")[0]: r for r in
                       B.denoising_scores(data, bm3d_images=3, nl_means_images=10, nl_means_hs=(10.0,),
                                          cache_dir=tmp_path)}
        by_hand = metrics.psnr_global(data.y_test, data.x_test)
        assert rows[sigma]["noisy input"]["psnr_global_db"] == pytest.approx(by_hand, abs=1e-6), sigma
    assert rows[0.2]["noisy input"]["psnr_global_db"] < rows[0.1]["noisy input"]["psnr_global_db"] - 3.0
