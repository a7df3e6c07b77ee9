"""cae_lib.restoration: denoising images of any size with a trained network."""

import numpy as np
import pytest
from _data import synthetic

from cae_lib.models import CAESpec, build_cae
from cae_lib.restoration import denoise_image, pad_to_multiple
from cae_lib.tasks import Denoise


def test_padding_reaches_the_multiple_and_keeps_the_image():
    image = np.random.default_rng(0).random((5, 7, 3))
    padded, size = pad_to_multiple(image, 4)
    assert padded.shape == (8, 8, 3) and size == (5, 7)
    np.testing.assert_array_equal(padded[:5, :7], image)
    np.testing.assert_array_equal(padded[5, :7], image[3])  # reflected, not zeros


@pytest.mark.parametrize("shape", [(1, 1, 3), (33, 50, 3), (75, 64, 3)])
def test_a_network_denoises_an_image_larger_than_its_training_crops(shape):
    spec = CAESpec(filters=(4, 4), pooling="none", skips="add", output_activation="linear", residual_output=True)
    model = build_cae(spec)
    for weights in model.trainable_weights:  # a zero correction: the network returns its input
        weights.assign(np.zeros(weights.shape, dtype="float32"))
    image = np.random.default_rng(1).random(shape).astype(np.float32)
    out = denoise_image(model, image)
    assert out.shape == shape and out.dtype == np.float32
    np.testing.assert_allclose(out, image, atol=1e-6)


def test_pooled_network_on_an_odd_size_and_uint8_input():
    out = denoise_image(build_cae(CAESpec()), np.full((37, 41, 3), 200, np.uint8))
    assert out.shape == (37, 41, 3) and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("image", [np.zeros((8, 8)), np.zeros((8, 8, 4), np.float32), np.zeros((0, 4, 3))])
def test_not_an_rgb_image_is_refused(image):
    with pytest.raises(ValueError, match="RGB"):
        denoise_image(build_cae(CAESpec()), image)


def test_model_row_scores_the_subset_too():
    from cae_lib.restoration import model_row

    spec = CAESpec(filters=(4, 4), pooling="none", skips="add", output_activation="linear", residual_output=True)
    model = build_cae(spec)
    for weights in model.trainable_weights:
        weights.assign(np.zeros(weights.shape, dtype="float32"))
    clean = np.random.default_rng(0).random((6, 32, 32, 3)).astype(np.float32)
    noisy = np.clip(clean + 0.1, 0, 1).astype(np.float32)
    data = synthetic(Denoise(0.1), noisy, clean)
    row = model_row("zero", model, data, subset_images=2)
    from cae_lib import metrics

    assert row["psnr_global_db"] == pytest.approx(metrics.psnr_global(clean, noisy), abs=1e-4)  # returns its input
    assert row["psnr_subset_db"] == pytest.approx(metrics.psnr_global(clean[:2], noisy[:2]), abs=1e-4)
