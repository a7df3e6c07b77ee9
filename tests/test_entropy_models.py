"""cae_lib.entropy_models: the EntropyBottleneck's rounding, its rate loss recomputed here from its likelihoods,
its density (bins that sum to one, a monotone cumulative), its tables, saving, and one training step."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from cae_lib.entropy_models import LIKELIHOOD_BOUND, EntropyBottleneck, likelihoods, pmf_tables

# the layer computes in float32: a probability near 1/2 carries ~6e-8 of rounding, a sum of a few hundred bins ~1e-5
F32_ATOL = 1e-6
SUM_ATOL = 1e-4


def _layer(channels=3, pixels_per_value=4, rate_weight=0.5, seed=0, shaped=True, **kwargs):
    """A built bottleneck; ``shaped``: random density weights, so the factors' tanh gates are not zero."""
    layer = EntropyBottleneck(channels, pixels_per_value, rate_weight, seed=seed, **kwargs)
    layer(np.zeros((1, 1, 1, channels), np.float32), training=False)
    if shaped:
        rng = np.random.default_rng(seed + 100)
        layer.set_weights([rng.normal(0.0, 0.7, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


def _latent(shape=(2, 3, 4, 3), scale=3.0, seed=0):
    return np.random.default_rng(seed).laplace(0.0, scale, shape).astype(np.float32)


def _loss(layer, y, training):
    layer(y, training=training)
    assert len(layer.losses) == 1
    return float(layer.losses[0])


def _expected_rate(layer, y):
    """rate_weight * (-sum log2 p(round(y))) / (batch * H * W * pixels_per_value), from likelihoods() by hand."""
    b, h, w, c = y.shape
    p = likelihoods(layer, np.rint(y).reshape(-1, c))
    return layer.rate_weight * -np.log2(p).sum() / (b * h * w * layer.pixels_per_value)


def _cumulative(layer, v):
    """The cumulative c(v) of each channel at the values ``v`` (channels, n), float64."""
    logits = layer._logits_cumulative(tf.constant(np.asarray(v, np.float32)[:, None, :]))
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64)[:, 0, :]))


# --------------------------------------------------------------------------- the layer


def test_inference_rounds_half_to_even_like_numpy():
    layer = _layer(channels=2)
    y = np.array([-2.5, -1.5, -0.5, -0.49, 0.0, 0.5, 0.51, 1.5, 2.5, 7.3, -7.7, 3.0], np.float32).reshape(1, 2, 3, 2)
    out = np.asarray(layer(y, training=False))
    np.testing.assert_array_equal(out, np.rint(y))
    y = _latent(shape=(3, 4, 5, 2), scale=20.0)
    np.testing.assert_array_equal(np.asarray(layer(y, training=False)), np.rint(y))
    np.testing.assert_array_equal(np.asarray(layer(y)), np.rint(y))  # inference is the default


def test_training_passes_rounded_values_with_a_straight_through_gradient():
    layer = _layer()
    y = _latent()
    x = tf.constant(y)
    weights = tf.constant(np.random.default_rng(1).normal(size=y.shape).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, training=True)
        total = tf.reduce_sum(out * weights)
    np.testing.assert_allclose(np.asarray(out), np.rint(y), atol=F32_ATOL * 8)  # |y| < ~20: a few ulps
    np.testing.assert_allclose(np.asarray(tape.gradient(total, x)), np.asarray(weights), rtol=1e-6)


def test_the_rate_loss_is_the_bits_of_the_rounded_latent_per_image_pixel():
    layer = _layer(channels=3, pixels_per_value=16, rate_weight=0.37)
    for seed, shape in ((0, (2, 3, 4, 3)), (1, (1, 1, 1, 3)), (2, (5, 2, 2, 3))):
        y = _latent(shape=shape, seed=seed)
        assert _loss(layer, y, training=False) == pytest.approx(_expected_rate(layer, y), rel=1e-5)
    # an all-zero latent under a density of unit-wide bins: bits = -log2 p(0) per value, by hand
    y = np.zeros((2, 2, 2, 3), np.float32)
    p0 = likelihoods(layer, np.zeros((1, 3)))[0]
    assert _loss(layer, y, training=False) == pytest.approx(
        0.37 * 2 * 2 * 2 * -np.log2(p0).sum() / (2 * 2 * 2 * 16), rel=1e-5)


def test_inference_loss_is_deterministic_and_training_loss_is_noisy():
    layer = _layer()
    y = _latent()
    first = _loss(layer, y, training=False)
    assert _loss(layer, y, training=False) == first
    noisy = [_loss(layer, y, training=True) for _ in range(4)]
    assert len(set(noisy)) == 4  # fresh noise at every call
    assert all(n != first for n in noisy)
    # the noise is uniform in [-1/2, 1/2): the noisy rate stays near the rounded one, never wildly off
    assert all(abs(n - first) < 0.5 * first for n in noisy)


def test_the_training_noise_is_seeded():
    y = _latent()
    a, b, c = (_layer(seed=s) for s in (0, 0, 1))
    c.set_weights(a.get_weights())  # the same density, another noise seed
    same = [_loss(a, y, training=True), _loss(b, y, training=True)]
    assert same[0] == same[1]
    assert _loss(c, y, training=True) != same[0]
    assert _loss(c, y, training=False) == _loss(a, y, training=False)


# --------------------------------------------------------------------------- the density


@pytest.mark.parametrize("shaped", [False, True])
def test_bins_of_all_integers_sum_to_one_per_channel(shaped):
    layer = _layer(channels=4, shaped=shaped)
    grid = np.arange(-300, 301, dtype=np.float32)
    p = likelihoods(layer, np.repeat(grid[:, None], 4, axis=1))
    assert p.shape == (len(grid), 4) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=SUM_ATOL)
    assert p.min() >= np.float32(LIKELIHOOD_BOUND)  # the bound, in the layer's float32
    # bins shifted by half a step tile the line too
    half = likelihoods(layer, np.repeat(grid[:, None] + 0.5, 4, axis=1))
    np.testing.assert_allclose(half.sum(axis=0), 1.0, atol=SUM_ATOL)


def test_the_cumulative_is_monotone_and_a_bin_is_its_difference():
    layer = _layer(channels=3)
    fine = np.linspace(-80, 80, 4001)
    c = _cumulative(layer, np.repeat(fine[None], 3, axis=0))
    assert (np.diff(c, axis=1) >= -F32_ATOL).all()
    np.testing.assert_allclose(c[:, 0], 0.0, atol=1e-3)
    np.testing.assert_allclose(c[:, -1], 1.0, atol=1e-3)

    k = np.arange(-40, 41, dtype=np.float32)
    p = likelihoods(layer, np.repeat(k[:, None], 3, axis=1)).T  # (channels, n)
    ks = np.repeat(k[None], 3, axis=0)
    by_hand = np.maximum(_cumulative(layer, ks + 0.5) - _cumulative(layer, ks - 0.5), LIKELIHOOD_BOUND)
    np.testing.assert_allclose(p, by_hand, atol=F32_ATOL)
    # summing bins telescopes: the mass of [a - 1/2, b + 1/2]
    for a, b in ((-40, 40), (-3, 5), (0, 0), (7, 30)):
        inside = p[:, (k >= a) & (k <= b)].sum(axis=1)
        mass = _cumulative(layer, np.full((3, 1), b + 0.5)) - _cumulative(layer, np.full((3, 1), a - 0.5))
        np.testing.assert_allclose(inside, mass[:, 0], atol=1e-5)


def test_likelihoods_refuse_bad_shapes():
    layer = _layer(channels=3)
    for bad in (np.zeros(3), np.zeros((4, 2)), np.zeros((1, 3, 1))):
        with pytest.raises(ValueError, match=r"values must have shape \(n, 3\)"):
            likelihoods(layer, bad)


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize("shaped", [False, True])
def test_pmf_tables_cover_the_density(shaped):
    layer = _layer(channels=3, shaped=shaped)
    tail = 1e-6
    lo, tables = pmf_tables(layer, tail=tail, max_half_width=512)
    assert lo.dtype == np.int64 and lo.shape == (3,) and len(tables) == 3
    for c, table in enumerate(tables):
        hi = lo[c] + len(table) - 1
        assert lo[c] <= 0 <= hi and lo[c] >= -512 and hi <= 512
        assert table.dtype == np.float64 and table.sum() == pytest.approx(1.0, abs=1e-12)
        ks = np.arange(lo[c], hi + 1, dtype=np.float32)
        p = likelihoods(layer, np.repeat(ks[:, None], 3, axis=1))[:, c]
        np.testing.assert_allclose(table, p / p.sum(), rtol=1e-5, atol=1e-10)  # float32: the bins' likelihoods, normalised
        # the density's mass inside the support, from its cumulative
        edges = np.array([[lo[c] - 0.5, hi + 0.5]] * 3, np.float32)
        mass = np.diff(_cumulative(layer, edges)[c])[0]
        assert mass >= 1.0 - 2 * tail - SUM_ATOL


def test_pmf_tables_support_is_the_smallest_interval_holding_all_but_the_tails():
    layer = _layer(channels=2, shaped=False)  # the initial density: width about init_scale = 10
    tail = 1e-9
    lo, tables = pmf_tables(layer, tail=tail)
    for c, table in enumerate(tables):
        hi = lo[c] + len(table) - 1
        edges = np.array([[lo[c] - 0.5, lo[c] + 0.5, hi - 0.5, hi + 0.5]] * 2, np.float32)
        below_lo, below_next, below_prev, below_hi = _cumulative(layer, edges)[c]
        assert below_lo < tail <= below_next  # one bin less on the left would leave more than the tail out
        assert 1.0 - below_hi < tail <= 1.0 - below_prev


# --------------------------------------------------------------------------- configuration and saving


def test_get_config_round_trip():
    layer = _layer(channels=2, pixels_per_value=9, rate_weight=0.25, seed=4, filters=(4, 2), init_scale=3.0)
    config = layer.get_config()
    assert {k: config[k] for k in ("channels", "pixels_per_value", "rate_weight", "filters", "init_scale", "seed")} \
        == {"channels": 2, "pixels_per_value": 9, "rate_weight": 0.25, "filters": [4, 2], "init_scale": 3.0,
            "seed": 4}
    again = EntropyBottleneck.from_config(config)
    again(np.zeros((1, 1, 1, 2), np.float32))
    assert again.get_config() == config
    assert [w.shape for w in again.get_weights()] == [w.shape for w in layer.get_weights()]
    again.set_weights(layer.get_weights())
    grid = np.repeat(np.arange(-20, 21, dtype=np.float32)[:, None], 2, axis=1)
    np.testing.assert_array_equal(likelihoods(again, grid), likelihoods(layer, grid))


def test_a_fresh_layer_starts_from_the_documented_density_width():
    # init_scale sets the density's width: a wider one spreads its mass over more bins
    narrow, wide = _layer(channels=1, shaped=False, init_scale=2.0), _layer(channels=1, shaped=False, init_scale=40.0)
    grid = np.arange(-300, 301, dtype=np.float32)[:, None]
    assert likelihoods(narrow, grid).max() > 4 * likelihoods(wide, grid).max()


def test_saved_model_reproduces_predictions_and_losses(tmp_path):
    inputs = keras.Input((3, 4, 3))
    model = keras.Model(inputs, EntropyBottleneck(3, 16, 0.2, seed=2, name="bottleneck")(inputs))
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(0.0, 0.7, w.shape).astype(np.float32) for w in model.get_weights()])
    y = _latent(shape=(2, 3, 4, 3), scale=4.0)
    model(y, training=False)
    loss = float(model.losses[0])
    path = tmp_path / "bottleneck.keras"
    model.save(path)
    back = keras.saving.load_model(path)
    assert back.get_layer("bottleneck").get_config() == model.get_layer("bottleneck").get_config()
    np.testing.assert_array_equal(back.predict(y, verbose=0), model.predict(y, verbose=0))
    back(y, training=False)
    assert float(back.losses[0]) == pytest.approx(loss, rel=1e-6)
    assert loss == pytest.approx(_expected_rate(back.get_layer("bottleneck"), y), rel=1e-5)


def test_training_steps_lower_the_rate():
    layer = _layer(channels=2, pixels_per_value=1, rate_weight=1.0, shaped=False)
    y = _latent(shape=(4, 4, 4, 2), scale=1.5, seed=3)
    before = _loss(layer, y, training=False)
    optimizer = keras.optimizers.Adam(learning_rate=0.05)
    for _ in range(25):
        with tf.GradientTape() as tape:
            layer(y, training=True)
            rate = layer.losses[0]
        optimizer.apply_gradients(zip(tape.gradient(rate, layer.trainable_weights), layer.trainable_weights,
                                      strict=True))
    after = _loss(layer, y, training=False)
    # bits per latent position (pixels_per_value = 1), summed over the channels: cross-entropy >= the empirical
    # entropy of round(y), by hand, so the rate falls towards it but never below
    entropy = 0.0
    for c in range(2):
        _, counts = np.unique(np.rint(y[..., c]), return_counts=True)
        entropy -= float(np.sum(counts / counts.sum() * np.log2(counts / counts.sum())))
    assert entropy - 1e-3 <= after < before - 0.3, (entropy, after, before)
    assert math.isfinite(after)


def test_constructor_refuses_bad_arguments():
    for channels, ppv in ((0, 4), (2, 0), (-1, 4)):
        with pytest.raises(ValueError, match="must be positive"):
            EntropyBottleneck(channels, ppv)
    for weight in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="rate_weight must be positive"):
            EntropyBottleneck(2, 4, weight)
