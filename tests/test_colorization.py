"""Tests of cae_lib.colorization: bins, encodings, rebalancing, decoding and the Keras loss.

References are independent of the code under test where possible: scikit-image's
exact CIE conversion for the gamut, brute-force NumPy searches and sums for the
encodings, and a NumPy cross-entropy for the Keras loss.
"""

import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree
from skimage.color import rgb2lab

from cae_lib import color
from cae_lib import colorization as cz

RNG_SEED = 20160328  # Zhang et al.'s arXiv submission date; any fixed seed works


@pytest.fixture(scope="module")
def bins():
    return cz.ab_bins()


def _rgb_grid(n: int) -> np.ndarray:
    g = np.linspace(0.0, 1.0, n)
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)


def _rgb_surface(n: int) -> np.ndarray:
    """The colours of the RGB cube's six faces on an n x n grid each, as floats (M, 3)."""
    g = np.linspace(0.0, 1.0, n)
    u, v = np.meshgrid(g, g, indexing="ij")
    faces = []
    for channel in range(3):
        free = [c for c in range(3) if c != channel]
        for value in (0.0, 1.0):
            face = np.empty((n, n, 3))
            face[..., channel] = value
            face[..., free[0]] = u
            face[..., free[1]] = v
            faces.append(face.reshape(-1, 3))
    return np.concatenate(faces)


def _random_ab(rng, shape) -> np.ndarray:
    """a*b* (CIE units, float32) of random sRGB colours."""
    rgb = rng.uniform(0.0, 1.0, (*shape, 3)).astype(np.float32).reshape(1, -1, 1, 3)
    return color.rgb_to_lab(rgb)[..., 1:].reshape(*shape, 2)


def _brute_nearest(ab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = ((ab.reshape(-1, 1, 2).astype(np.float64) - centres[None].astype(np.float64)) ** 2).sum(-1)
    return d2.argmin(axis=1).reshape(ab.shape[:-1])


# ---------------------------------------------------------------------------
# the bins
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", [6.0, 10.0, 16.0])
def test_bins_cover_the_srgb_gamut(step):
    # every colour of a 33^3 RGB grid, converted with skimage's exact CIE formulas,
    # lies in a kept cell: within step/sqrt(2) of its centre (tol: OpenCV's a*b* rounding)
    ab = rgb2lab(_rgb_grid(33))[:, 1:]
    nearest, _ = cKDTree(cz.ab_bins(step).centres.astype(np.float64)).query(ab)
    assert nearest.max() <= step / np.sqrt(2) * (1 + 0.02)


@pytest.mark.parametrize("step", [6.0, 10.0, 16.0])
def test_every_bin_holds_an_srgb_colour(step):
    # no bin beyond the gamut: some colour of the cube's surface (skimage) lies in each
    # cell, up to OpenCV's rounding (0.65) and the 1/128 sampling of the faces
    ab = rgb2lab(_rgb_surface(129))[:, 1:]
    chebyshev, _ = cKDTree(ab).query(cz.ab_bins(step).centres.astype(np.float64), p=np.inf)
    assert chebyshev.max() <= step / 2 + 1.0


def test_bin_grid_for_step_10(bins):
    # 262 cells hold 8-bit sRGB colours (Zhang et al.'s 313 reach beyond sRGB; see the module docstring)
    assert 250 <= len(bins) <= 275
    assert len(bins) == 262
    assert bins.step == 10.0
    assert bins.centres.dtype == np.float32 and bins.centres.shape == (len(bins), 2)
    np.testing.assert_array_equal(bins.centres % 10, 0)
    assert len(np.unique(bins.centres, axis=0)) == len(bins)
    np.testing.assert_array_equal(np.lexsort(bins.centres.T[::-1]), np.arange(len(bins)))  # sorted by a*, then b*
    # the primaries and secondaries, at the corners of the gamut, fall into bins (published Lab values)
    corners = np.array([[80.109, 67.220], [-86.185, 83.181], [79.197, -107.864],  # red, green, blue
                        [-21.555, 94.482], [-48.088, -14.131], [98.254, -60.842]])  # yellow, cyan, magenta
    d = np.sqrt(((corners[:, None] - bins.centres[None]) ** 2).sum(-1)).min(axis=1)
    assert d.max() <= 10 / np.sqrt(2)
    # grey is bin (0, 0)
    assert bins.centres[cz.nearest_bin(np.zeros(2, np.float32), bins)].tolist() == [0.0, 0.0]


def test_ab_bins_is_deterministic_and_cheap():
    start = time.perf_counter()
    first = cz._ab_bins.__wrapped__(10.0)  # bypass the cache
    elapsed = time.perf_counter() - start
    assert first == cz._ab_bins.__wrapped__(10.0)
    assert elapsed < 2.0  # about 0.2-0.5 s; slack for a busy machine
    assert cz.ab_bins(10) is cz.ab_bins(10.0)  # cached


def test_bins_json_round_trip(bins):
    back = cz.AbBins.from_dict(json.loads(json.dumps(bins.to_dict())))
    assert back == bins and hash(back) == hash(bins)
    np.testing.assert_array_equal(back.centres, bins.centres)
    assert not back.centres.flags.writeable


def test_bins_are_validated():
    with pytest.raises(ValueError, match="multiples of step"):
        cz.AbBins(np.array([[0.0, 5.0]]), step=10)
    with pytest.raises(ValueError, match=r"shape \(K, 2\)"):
        cz.AbBins(np.zeros((3,)), step=10)
    with pytest.raises(ValueError, match="repeated"):
        cz.AbBins(np.zeros((2, 2)), step=10)
    with pytest.raises(ValueError, match="step"):
        cz.AbBins(np.zeros((1, 2)), step=0)
    with pytest.raises(ValueError, match="keys"):
        cz.AbBins.from_dict({"centres": [[0, 0]]})
    with pytest.raises(ValueError, match="at least 2"):
        cz.ab_bins(1.0)


# ---------------------------------------------------------------------------
# encodings
# ---------------------------------------------------------------------------


def test_nearest_bin_matches_brute_force(bins):
    rng = np.random.default_rng(RNG_SEED)
    inside = _random_ab(rng, (500,))
    outside = rng.uniform(-127, 127, (500, 2)).astype(np.float32)  # many beyond the gamut: the slow path
    ab = np.concatenate([inside, outside]).reshape(10, 100, 2)
    index = cz.nearest_bin(ab, bins)
    assert index.dtype == np.int32 and index.shape == (10, 100)
    np.testing.assert_array_equal(index, _brute_nearest(ab, bins.centres))
    # every centre is its own nearest bin
    np.testing.assert_array_equal(cz.nearest_bin(bins.centres, bins), np.arange(len(bins)))


def test_nearest_bin_breaks_ties_to_the_lower_index(bins):
    i = cz.nearest_bin(np.array([[0.0, 0.0]], np.float32), bins)[0]
    ties = np.array([[5.0, 0.0], [0.0, 5.0], [5.0, 5.0], [-5.0, -5.0]], np.float32)
    expected = [i, i, i, cz.nearest_bin(np.array([[-10.0, -10.0]], np.float32), bins)[0]]
    np.testing.assert_array_equal(cz.nearest_bin(ties, bins), expected)


def test_nearest_bin_rejects_bad_input(bins):
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        cz.nearest_bin(np.zeros((4, 3)), bins)
    with pytest.raises(ValueError, match="NaN"):
        cz.nearest_bin(np.full((1, 2), np.nan), bins)
    with pytest.raises(ValueError, match="AbBins"):
        cz.nearest_bin(np.zeros((1, 2)), bins.centres)


def test_soft_encode_round_trips_the_centres(bins):
    index, weight = cz.soft_encode(bins.centres, bins)
    assert index.shape == weight.shape == (len(bins), 5)
    assert index.dtype == np.int32 and weight.dtype == np.float32
    np.testing.assert_array_equal(index[:, 0], np.arange(len(bins)))
    np.testing.assert_array_equal(weight.argmax(axis=1), 0)
    np.testing.assert_allclose(weight.sum(axis=1), 1.0, atol=1e-6)
    # an interior centre: itself and its 4 neighbours at distance 10, weights 1 : e^-2 (x4)
    grey = int(cz.nearest_bin(np.zeros(2, np.float32), bins))
    g = np.exp(-100 / (2 * 25.0))
    np.testing.assert_allclose(weight[grey], np.array([1, g, g, g, g]) / (1 + 4 * g), rtol=1e-6)
    np.testing.assert_allclose(np.sort(np.abs(bins.centres[index[grey, 1:]]).sum(-1)), [10, 10, 10, 10])


def test_soft_encode_matches_a_dense_reference(bins):
    rng = np.random.default_rng(RNG_SEED + 1)
    ab = _random_ab(rng, (3, 7))
    index, weight = cz.soft_encode(ab, bins, sigma=5.0, neighbours=5)
    assert index.shape == (3, 7, 5)
    d2 = ((ab.reshape(-1, 1, 2).astype(np.float64) - bins.centres[None].astype(np.float64)) ** 2).sum(-1)
    order = np.argsort(d2, axis=1, kind="stable")[:, :5]
    g = np.exp(-np.take_along_axis(d2, order, axis=1) / 50.0)
    np.testing.assert_array_equal(index.reshape(-1, 5), order)
    np.testing.assert_allclose(weight.reshape(-1, 5), g / g.sum(1, keepdims=True), atol=1e-6)
    np.testing.assert_array_equal(index[..., 0], cz.nearest_bin(ab, bins))
    _, one_w = cz.soft_encode(ab, bins, neighbours=1)
    np.testing.assert_array_equal(one_w, 1.0)


def test_soft_encode_memory_is_bounded(bins):
    rng = np.random.default_rng(RNG_SEED + 2)
    ab = rng.uniform(-80, 80, (200_000, 2)).astype(np.float32)
    tracemalloc.start()
    try:
        index, weight = cz.soft_encode(ab, bins)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result = index.nbytes + weight.nbytes  # 8 MB
    assert peak - result < 40 * 2**20  # temporaries: one chunk (the whole 200k x 262 would be 210 MB)


# ---------------------------------------------------------------------------
# prior and rebalancing
# ---------------------------------------------------------------------------


def test_class_prior_counts_nearest_bins(bins):
    rng = np.random.default_rng(RNG_SEED + 3)
    ab = _random_ab(rng, (5, 4, 4))  # CIE units
    targets = ab / np.float32(color.AB_SCALE)  # the network scale the task data holds
    prior = cz.class_prior(targets, bins, chunk=2)
    assert prior.dtype == np.float64 and prior.shape == (len(bins),)
    assert prior.sum() == pytest.approx(1.0, abs=1e-12)
    expected = np.bincount(_brute_nearest(ab, bins.centres).ravel(), minlength=len(bins)) / ab[..., 0].size
    np.testing.assert_allclose(prior, expected, atol=1e-12)
    np.testing.assert_array_equal(cz.class_prior(targets, bins, chunk=1000), prior)
    with pytest.raises(ValueError, match="network scale"):
        cz.class_prior(ab, bins)  # CIE units by mistake


def test_smooth_prior_keeps_mass(bins):
    rng = np.random.default_rng(RNG_SEED + 4)
    prior = rng.dirichlet(np.full(len(bins), 0.2))
    smoothed = cz.smooth_prior(prior, bins, sigma=5.0)
    assert smoothed.sum() == pytest.approx(1.0, abs=1e-12)
    assert (smoothed > 0).all()
    np.testing.assert_array_equal(cz.smooth_prior(prior, bins, sigma=0), prior / prior.sum())
    # a point mass at grey spreads over grey and its neighbours, grey keeping the most
    point = np.zeros(len(bins))
    grey = int(cz.nearest_bin(np.zeros(2, np.float32), bins))
    point[grey] = 1.0
    spread = cz.smooth_prior(point, bins, sigma=5.0)
    assert spread.argmax() == grey and 0.5 < spread[grey] < 1.0


def _blob_prior(bins):
    """A synthetic prior peaked near grey, anisotropic and off the grid so no two bins tie."""
    c = bins.centres.astype(np.float64) - [3.7, 12.9]
    p = np.exp(-(c[:, 0] ** 2 / (2 * 30.0**2) + c[:, 1] ** 2 / (2 * 41.0**2)))
    return p / p.sum()


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.9])
def test_rebalanced_weights_average_to_one_under_the_smoothed_prior(bins, lam):
    prior = _blob_prior(bins)
    w = cz.rebalance_weights(prior, bins, lam=lam, sigma=5.0)
    assert w.shape == (len(bins),) and (w > 0).all()
    assert cz.smooth_prior(prior, bins, sigma=5.0) @ w == pytest.approx(1.0, abs=1e-12)
    # Zhang's eq. 4 written out
    smoothed = cz.smooth_prior(prior, bins, 5.0)
    raw = 1.0 / ((1 - lam) * smoothed + lam / len(bins))
    np.testing.assert_allclose(w, raw / (smoothed @ raw), rtol=1e-12)


def test_lambda_one_gives_uniform_weights(bins):
    np.testing.assert_allclose(cz.rebalance_weights(_blob_prior(bins), bins, lam=1.0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.99])
def test_rarer_bins_get_larger_weights(bins, lam):
    prior = _blob_prior(bins)
    # without smoothing: strictly decreasing in the prior itself
    w = cz.rebalance_weights(prior, bins, lam=lam, sigma=0)
    order = np.argsort(prior)
    assert (np.diff(w[order]) < 0).all()
    # with smoothing: decreasing in the smoothed prior
    w = cz.rebalance_weights(prior, bins, lam=lam, sigma=5.0)
    order = np.argsort(cz.smooth_prior(prior, bins, 5.0))
    assert (np.diff(w[order]) <= 0).all()
    assert w[order[0]] > w[order[-1]]


def test_rebalance_weights_refuses_infinite_weights(bins):
    prior = np.zeros(len(bins))
    prior[0] = 1.0
    with pytest.raises(ValueError, match="lam > 0"):
        cz.rebalance_weights(prior, bins, lam=0.0, sigma=0)
    with pytest.raises(ValueError, match=r"shape \(K,\)"):
        cz.rebalance_weights(prior[:-1], bins)
    with pytest.raises(ValueError, match="lam"):
        cz.rebalance_weights(prior, bins, lam=1.5)


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------


def test_annealed_mean_at_t1_is_the_expectation(bins):
    rng = np.random.default_rng(RNG_SEED + 5)
    probs = rng.dirichlet(np.ones(len(bins)), size=(3, 4)).astype(np.float32)
    out = cz.annealed_mean(probs, bins, temperature=1.0)
    assert out.shape == (3, 4, 2) and out.dtype == np.float32
    expected = probs.astype(np.float64) @ bins.centres.astype(np.float64)
    np.testing.assert_allclose(out, expected, atol=1e-4)
    # unnormalised input gives the same
    np.testing.assert_allclose(cz.annealed_mean(probs * 7, bins, 1.0), out, atol=1e-4)


def test_annealed_mean_matches_the_formula(bins):
    rng = np.random.default_rng(RNG_SEED + 6)
    probs = rng.dirichlet(np.ones(len(bins)), size=50)
    for t in (0.38, 2.0):
        f = probs ** (1 / t)
        expected = (f / f.sum(1, keepdims=True)) @ bins.centres.astype(np.float64)
        np.testing.assert_allclose(cz.annealed_mean(probs, bins, t), expected, atol=1e-4)


def test_annealed_mean_goes_to_the_mode(bins):
    rng = np.random.default_rng(RNG_SEED + 7)
    probs = rng.dirichlet(np.ones(len(bins)), size=20)
    top = probs.argmax(1)
    second = np.sort(probs, axis=1)[:, -2]
    probs[np.arange(20), top] = 2 * second  # a clear mode (ratio 2 to the runner-up)
    mode = bins.centres[top]
    np.testing.assert_allclose(cz.annealed_mean(probs, bins, 0.01), mode, atol=1e-3)
    np.testing.assert_array_equal(cz.annealed_mean(probs, bins, 0), mode)
    # stable with tiny probabilities and tiny temperatures
    tiny = probs * 1e-30
    np.testing.assert_allclose(cz.annealed_mean(tiny, bins, 0.001), mode, atol=1e-3)


@pytest.mark.parametrize("t", [0.001, 0.38, 1.0, 5.0])
def test_one_hot_decodes_to_its_centre_at_any_temperature(bins, t):
    probs = np.eye(len(bins), dtype=np.float32)
    np.testing.assert_array_equal(cz.annealed_mean(probs, bins, t), bins.centres)


def test_annealed_mean_rejects_bad_input(bins):
    with pytest.raises(ValueError, match="K = 262"):
        cz.annealed_mean(np.ones((2, 5)), bins, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        cz.annealed_mean(-np.ones((2, len(bins))), bins, 1.0)
    with pytest.raises(ValueError, match="all 0"):
        cz.annealed_mean(np.zeros((2, len(bins))), bins, 1.0)
    with pytest.raises(ValueError, match="temperature"):
        cz.annealed_mean(np.ones((2, len(bins))), bins, -1.0)


# ---------------------------------------------------------------------------
# Keras: the loss, training, saving, prediction
# ---------------------------------------------------------------------------


def _tiny_model(k, size=4, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1), name="l_input")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    outputs = keras.layers.Conv2D(k, 1, activation="softmax", name="bins")(x)
    return keras.Model(inputs, outputs, name="tiny_classifier")


def _reference_loss(y_true, y_pred, bins, weights, sigma=5.0, epsilon=1e-7):
    index, q = cz.soft_encode(y_true * color.AB_SCALE, bins, sigma=sigma, neighbours=5)
    p = np.clip(np.take_along_axis(y_pred.astype(np.float64), index, axis=-1), epsilon, 1.0)
    w = weights[index[..., 0]]
    return float(np.mean(-w * (q * np.log(p)).sum(-1)))


def _loss_data(bins, seed):
    rng = np.random.default_rng(seed)
    y_true = _random_ab(rng, (2, 4, 4)) / np.float32(color.AB_SCALE)
    logits = rng.normal(0, 3, (2, 4, 4, len(bins)))
    y_pred = np.exp(logits - logits.max(-1, keepdims=True))
    y_pred = (y_pred / y_pred.sum(-1, keepdims=True)).astype(np.float32)
    y_pred[0, 0, 0, :] = 0.0  # a pixel with probability 0 everywhere: the clip
    y_pred[0, 0, 0, 0] = 1.0
    return y_true, y_pred


def test_keras_loss_matches_numpy_reference(bins):
    from cae_lib.tasks.colour_loss import RebalancedCrossEntropy

    weights = cz.rebalance_weights(_blob_prior(bins), bins)
    loss = RebalancedCrossEntropy(bins.centres, weights)
    y_true, y_pred = _loss_data(bins, RNG_SEED + 8)
    got = float(loss(y_true, y_pred))
    assert got == pytest.approx(_reference_loss(y_true, y_pred, bins, weights), rel=1e-5)
    ones = RebalancedCrossEntropy(bins.centres, np.ones(len(bins)))
    assert float(ones(y_true, y_pred)) == pytest.approx(
        _reference_loss(y_true, y_pred, bins, np.ones(len(bins))), rel=1e-5
    )


def test_keras_loss_class_is_registered_and_round_trips_its_config(bins):
    import keras

    from cae_lib.tasks.colour_loss import RebalancedCrossEntropy

    cls = RebalancedCrossEntropy
    assert issubclass(cls, keras.losses.Loss)
    assert keras.saving.get_registered_name(cls) == "cae_lib>RebalancedCrossEntropy"
    assert keras.saving.get_registered_object("cae_lib>RebalancedCrossEntropy") is cls
    weights = cz.rebalance_weights(_blob_prior(bins), bins)
    loss = cls(bins.centres, weights, sigma=4.0)
    config = json.loads(json.dumps(loss.get_config()))
    back = cls.from_config(config)
    assert back.get_config() == loss.get_config()
    y_true, y_pred = _loss_data(bins, RNG_SEED + 9)
    assert float(back(y_true, y_pred)) == float(loss(y_true, y_pred))
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is cls and float(again(y_true, y_pred)) == float(loss(y_true, y_pred))
    with pytest.raises(ValueError, match="weights"):
        cls(bins.centres, np.ones(3))


def test_model_with_the_loss_saves_and_reloads(bins, tmp_path):
    import keras

    from cae_lib.tasks.colour_loss import RebalancedCrossEntropy

    weights = cz.rebalance_weights(_blob_prior(bins), bins)
    model = _tiny_model(len(bins))
    model.compile(optimizer="adam", loss=RebalancedCrossEntropy(bins.centres, weights))
    rng = np.random.default_rng(RNG_SEED + 10)
    x = rng.uniform(0, 1, (4, 4, 4, 1)).astype(np.float32)
    y = _random_ab(rng, (4, 4, 4)) / np.float32(color.AB_SCALE)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # builds the optimizer's state, saved too
    before = model.evaluate(x, y, verbose=0)
    path = tmp_path / "classifier.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded.loss) is RebalancedCrossEntropy
    np.testing.assert_array_equal(reloaded.loss.weights, weights.astype(np.float32))
    assert reloaded.evaluate(x, y, verbose=0) == pytest.approx(before, rel=1e-6)


def test_one_training_step_on_ones_is_finite(bins):
    from cae_lib.tasks.colour_loss import RebalancedCrossEntropy

    weights = cz.rebalance_weights(_blob_prior(bins), bins)
    model = _tiny_model(len(bins), size=8)
    model.compile(optimizer="adam", loss=RebalancedCrossEntropy(bins.centres, weights))
    x = np.ones((2, 8, 8, 1), np.float32)
    y = np.full((2, 8, 8, 2), 0.2, np.float32)
    history = model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_predict_ab_decodes_model_output(bins):
    model = _tiny_model(len(bins), seed=1)
    rng = np.random.default_rng(RNG_SEED + 11)
    l_input = rng.uniform(0, 1, (5, 4, 4, 1)).astype(np.float32)
    probs = model.predict(l_input, verbose=0)
    ab = cz.predict_ab(model, l_input, bins, temperature=0.38)
    assert ab.shape == (5, 4, 4, 2) and ab.dtype == np.float32
    np.testing.assert_allclose(ab, cz.annealed_mean(probs, bins, 0.38) / color.AB_SCALE, atol=1e-6)
    assert np.abs(ab).max() < 1.0  # network scale
    # batches smaller than N: the same; several temperatures from one run
    several = cz.predict_ab(model, l_input, bins, temperature=[0.38, 1.0, 0], batch_size=2)
    assert sorted(several) == [0.0, 0.38, 1.0]
    np.testing.assert_allclose(several[0.38], ab, atol=1e-6)
    np.testing.assert_allclose(several[1.0], cz.annealed_mean(probs, bins, 1.0) / color.AB_SCALE, atol=1e-6)
    np.testing.assert_array_equal(several[0.0], bins.centres[probs.argmax(-1)] / np.float32(color.AB_SCALE))
    # the result goes straight into the regression model's evaluation route
    assert color.rebuild_rgb(l_input, ab).shape == (5, 4, 4, 3)
    with pytest.raises(ValueError, match="K = 110"):
        cz.predict_ab(model, l_input, cz.ab_bins(16.0))


def test_import_does_not_import_keras():
    code = (
        "import sys, cae_lib.colorization as cz\n"
        "from cae_lib.colorization import *\n"
        "assert cz.__file__.startswith(sys.argv[1]), cz.__file__\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    subprocess.run([sys.executable, "-c", code, root], check=True, cwd=root, timeout=60)
