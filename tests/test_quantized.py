"""cae_lib.codecs.quantized: QuantizedPCA and QuantizedLatent decode what they reconstruct, against NumPy
projections, latent ranges measured here, and the ideal code length of their own densities."""

import cv2
import keras
import numpy as np
import pytest

from cae_lib.codecs.pca import fit_pca
from cae_lib.codecs.quantized import (
    PCA_STEPS,
    QuantizedLatent,
    QuantizedPCA,
    mean_abs_coefficients,
    quantized_pca_codecs,
)
from cae_lib.entropy import SymbolTables
from cae_lib.models import CAESpec, build_cae, encoder_of

# the range coder's overhead per image (the last 32-bit word flushed, trailing zero bytes dropped) and on the rest
PER_IMAGE_BYTES, REL = 4, 0.02
IMAGE = (8, 8, 3)


def _smooth(n, low=0.0, high=1.0, seed=0, size=8):
    """float images of 2x2 random colours enlarged bilinearly, plus a little noise, quantized to uint8 levels."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(low, high, (n, 2, 2, 3)).astype(np.float32)
    big = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in small])
    big = np.clip(big + rng.normal(0.0, 0.02, big.shape), 0.0, 1.0)
    return (np.rint(big * 255) / 255).astype(np.float32)


def _uint8(x):
    return np.rint(x * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def basis():
    return fit_pca(_smooth(300), 12, solver="full")


# --------------------------------------------------------------------------- QuantizedPCA


def test_mean_abs_coefficients_by_hand(basis):
    x = _smooth(4100, seed=3)  # more than one chunk of 4096
    flat = x.reshape(len(x), -1).astype(np.float64)
    by_hand = np.abs((flat - basis.mean) @ basis.components.T.astype(np.float64)).mean(axis=0)
    np.testing.assert_allclose(mean_abs_coefficients(basis, x), by_hand, rtol=1e-4)
    codec = QuantizedPCA.fit(basis, x, 0.1)
    np.testing.assert_allclose(codec.scales, np.maximum(by_hand / 0.1, 0.02), rtol=1e-4)


@pytest.mark.parametrize("step", [0.4, 0.1, 0.02])
def test_decode_is_the_reconstruction_of_rounded_coefficients(basis, step):
    codec = QuantizedPCA.fit(basis, _smooth(300), step)
    images = _uint8(_smooth(10, seed=1))
    decoded = codec.decode(codec.encode(images), IMAGE)
    assert decoded.shape == images.shape and decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, codec.reconstruct(images))
    # by hand: coefficients (x - mean) C^T rounded to the step, decoded as codes C + mean, clipped to [0, 1]
    flat = images.reshape(10, -1).astype(np.float64) / 255
    codes = np.rint((flat - basis.mean) @ basis.components.T / step) * step
    expected = np.clip(codes @ basis.components + basis.mean, 0, 1).reshape(images.shape)
    np.testing.assert_allclose(decoded, expected, atol=1e-5)


def test_a_smaller_step_costs_more_bytes_and_gives_a_lower_error(basis):
    images = _uint8(_smooth(20, seed=2))
    x = images.astype(np.float64) / 255
    sizes, errors = [], []
    for codec in quantized_pca_codecs(basis, _smooth(300), steps=(0.4, 0.1, 0.025)):
        sizes.append(sum(len(p) for p in codec.encode(images)))
        errors.append(float(np.mean((codec.decode(codec.encode(images), IMAGE) - x) ** 2)))
    assert sizes[0] < sizes[1] < sizes[2]
    assert errors[0] > errors[1] > errors[2]
    # the floor: what the 12 components keep unquantized
    assert errors[2] >= float(np.mean((basis.reconstruct(x.astype(np.float32)) - x) ** 2)) - 1e-9


def test_estimated_bits_are_the_laplace_code_length_and_close_to_the_bytes(basis):
    from scipy import stats

    codec = QuantizedPCA.fit(basis, _smooth(300), 0.05)
    images = _uint8(_smooth(30, seed=4))
    estimated = codec.estimated_bits(images)
    # by hand, scipy's Laplace over the rounded coefficients, the end bins holding the tails
    flat = images.reshape(30, -1).astype(np.float64) / 255
    k = np.clip(np.rint((flat - basis.mean) @ basis.components.T / 0.05), -codec.coder.radius, codec.coder.radius)
    r, b = codec.coder.radius, codec.scales
    upper = np.where(k == r, 1.0, stats.laplace.cdf(k + 0.5, scale=b))
    lower = np.where(k == -r, 0.0, stats.laplace.cdf(k - 0.5, scale=b))
    np.testing.assert_allclose(estimated, -np.log2(upper - lower).sum(axis=1), rtol=1e-6)
    sizes = np.array([len(p) for p in codec.encode(images)])
    assert (np.abs(sizes - estimated / 8) <= REL * estimated / 8 + PER_IMAGE_BYTES).all(), (sizes, estimated / 8)


def test_the_quantization_error_is_at_most_half_a_step_per_coefficient_for_any_image():
    dark = _smooth(300, 0.0, 0.15)
    basis = fit_pca(dark, 12, solver="full")
    step = 0.01
    codec = QuantizedPCA.fit(basis, dark, step)
    for image in (np.full((1, *IMAGE), 255, np.uint8), np.zeros((1, *IMAGE), np.uint8), _uint8(_smooth(1, seed=6))):
        unquantized = basis.reconstruct(image.astype(np.float32) / 255)
        # rows of the basis are orthonormal and clipping to [0, 1] contracts: |error| <= ||code error|| <= step/2 sqrt(k)
        assert np.abs(codec.reconstruct(image) - unquantized).max() <= step / 2 * np.sqrt(12) + 1e-5


def test_quantized_pca_refuses_bad_arguments(basis):
    for step in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="step"):
            QuantizedPCA(basis, step, np.ones(12))
    for mean_abs in (np.ones(11), np.ones(13), np.r_[np.ones(11), np.nan]):
        with pytest.raises(ValueError, match="one finite value per component"):
            QuantizedPCA(basis, 0.1, mean_abs)
    codec = QuantizedPCA(basis, 0.1, np.ones(12))
    with pytest.raises(TypeError):
        codec.encode(np.zeros((1, *IMAGE), np.float32))  # float images: ambiguous scale
    with pytest.raises(ValueError):
        codec.encode(np.zeros((1, 4, 4, 3), np.uint8))  # not the basis' image shape
    assert tuple(sorted(PCA_STEPS, reverse=True)) == PCA_STEPS  # a curve from few bits to many


# --------------------------------------------------------------------------- QuantizedLatent


@pytest.fixture(scope="module")
def cae():
    keras.utils.set_random_seed(0)
    return build_cae(CAESpec(filters=(8, 4)), name="tiny_cae")  # max pooling: a 16x16x4 latent


@pytest.fixture(scope="module")
def train_images():
    return _smooth(24, seed=10, size=32)


@pytest.fixture(scope="module")
def latent_codec(cae, train_images):
    return QuantizedLatent.fit(cae, train_images, bits=8, label="tiny")


def test_fit_ranges_are_the_training_latents_extremes(cae, train_images, latent_codec):
    latent = encoder_of(cae).predict(train_images, verbose=0)
    np.testing.assert_array_equal(latent_codec.low, latent.min(axis=(0, 1, 2)))
    np.testing.assert_array_equal(latent_codec.high, np.maximum(latent.max(axis=(0, 1, 2)),
                                                                latent.min(axis=(0, 1, 2)) + np.float32(1e-6)))
    assert latent_codec.tables.channels == 4
    np.testing.assert_array_equal(latent_codec.tables.lo, 0)
    np.testing.assert_array_equal(latent_codec.tables.hi, 255)
    assert latent_codec.label() == "tiny, 8-bit latent" and latent_codec.values_kept((32, 32, 3)) == 16 * 16 * 4


def test_latent_decode_is_the_reconstruction(latent_codec):
    images = _uint8(_smooth(5, seed=11, size=32))
    payloads = latent_codec.encode(images)
    decoded = latent_codec.decode(payloads, (32, 32, 3))
    assert decoded.shape == images.shape and decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, latent_codec.reconstruct(images))


def test_levels_stay_in_range_even_outside_the_training_range(cae, latent_codec):
    bright = _uint8(np.clip(_smooth(3, seed=12, size=32) * 3, 0, 1))  # brighter than anything in training
    for payload in latent_codec.encode(bright):
        levels = latent_codec.tables.decode(payload, 16 * 16)
        assert levels.min() >= 0 and levels.max() <= 255
    # by hand: the latent scaled to [0, 255] per channel over the training range, rounded, clipped
    latent = encoder_of(cae).predict(bright.astype(np.float32) / 255, verbose=0)
    low, high = latent_codec.low, latent_codec.high
    expected = np.clip(np.rint((latent - low) / (high - low) * 255), 0, 255)
    decoded_levels = np.stack([latent_codec.tables.decode(p, 256).reshape(4, 16, 16) for p in
                               latent_codec.encode(bright)])
    np.testing.assert_array_equal(decoded_levels, np.moveaxis(expected, -1, 1))


def test_eight_bits_come_close_to_the_float_model(cae, train_images, latent_codec):
    images = _uint8(train_images[:4])
    exact = cae.predict(images.astype(np.float32) / 255, verbose=0)
    coarse = QuantizedLatent.fit(cae, train_images, bits=2)
    errors = {bits: float(np.abs(codec.reconstruct(images) - exact).max()) for bits, codec in
              ((8, latent_codec), (2, coarse))}
    # 8 bits: each value moves at most (high - low) / 510; an untrained decoder's output moves far less than 1/100
    assert errors[8] < 0.01 and errors[8] < errors[2]


def test_latent_estimated_bits_against_counted_frequencies(cae, train_images, latent_codec):
    images = _uint8(train_images[:6])
    estimated = latent_codec.estimated_bits(images)
    latent = encoder_of(cae).predict(images.astype(np.float32) / 255, verbose=0)
    low, high = latent_codec.low, latent_codec.high
    levels = np.clip(np.rint((latent - low) / (high - low) * 255), 0, 255).astype(int)
    by_hand = [-sum(np.log2(latent_codec.tables.tables[c][lv[..., c].ravel()]).sum() for c in range(4))
               for lv in levels]
    np.testing.assert_allclose(estimated, by_hand, rtol=1e-9)
    sizes = np.array([len(p) for p in latent_codec.encode(images)])
    assert (np.abs(sizes - estimated / 8) <= REL * estimated / 8 + PER_IMAGE_BYTES).all(), (sizes, estimated / 8)


def test_quantized_latent_refuses_what_it_cannot_code(cae, latent_codec):
    low, high, tables = latent_codec.low, latent_codec.high, latent_codec.tables
    for bits in (17, 32):
        with pytest.raises(ValueError, match="at most 16"):
            QuantizedLatent(cae, low, high, tables, bits=bits)
    for bits in (0, -1):
        with pytest.raises(ValueError, match="bits"):
            QuantizedLatent(cae, low, high, tables, bits=bits)
    with pytest.raises(ValueError, match="one range and one table per latent channel"):
        QuantizedLatent(cae, low[:3], high[:3], tables)
    with pytest.raises(ValueError, match="one range and one table per latent channel"):
        QuantizedLatent(cae, low, high, SymbolTables(np.zeros(3, np.int64), (np.ones(256),) * 3))
    with pytest.raises(ValueError, match="skip connections"):
        QuantizedLatent(build_cae(CAESpec(filters=(8, 4), skips="concat")), low, high, tables)
