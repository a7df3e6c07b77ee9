"""cae_lib.restoration: denoising images of any size with a trained network."""

import numpy as np
import pytest

from cae_lib.models import CAESpec, build_cae
from cae_lib.restoration import denoise_image, pad_to_multiple


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


def test_verdicts_at_each_noise_level_from_the_chapters_table():
    from cae_lib.restoration import verdicts

    rows = [
        {"sigma": 0.1, "method": "non-local means (h = 15)", "psnr_global_db": 25.4, "psnr_subset_db": 25.3, "h": 15.0},
        {"sigma": 0.1, "method": "BM3D", "psnr_global_db": 28.9, "psnr_subset_db": 28.9},
        {"sigma": 0.1, "method": "pooled", "psnr_global_db": 22.6, "psnr_subset_db": 22.5},
        {"sigma": 0.1, "method": "unpooled", "psnr_global_db": 27.2, "psnr_subset_db": 27.1},
        {"sigma": 0.1, "method": "red", "psnr_global_db": 28.2, "psnr_subset_db": 28.0},
        {"sigma": 0.2, "method": "non-local means (h = 30)", "psnr_global_db": 21.6, "psnr_subset_db": 21.5, "h": 30.0},
        {"sigma": 0.2, "method": "BM3D (not installed: pip install bm3d)", "psnr_global_db": None, "psnr_subset_db": None},
        {"sigma": 0.2, "method": "pooled", "psnr_global_db": 20.0, "psnr_subset_db": 20.0},
        {"sigma": 0.2, "method": "red", "psnr_global_db": 24.0, "psnr_subset_db": 24.1},
    ]
    facts = verdicts(rows, {"pooled": "pooled", "unpooled": "unpooled", "rednet": "red"}, (0.1, 0.2))
    assert facts["s1_pooling_sentence"].startswith("Removing the pooling from the same small network raises its PSNR by 4.60 dB")
    assert facts["s1_skips_sentence"].startswith("RED-Net's symmetric skips and residual output add 1.00 dB")
    assert facts["s1_bm3d_sentence"].startswith("BM3D beats every learned model here: 28.90 dB against 28.00 dB")
    assert facts["s1_rednet_vs_nlm"] == "2.80 dB above" and facts["s1_nlm_h"] == 15.0
    assert facts["s2_bm3d_sentence"].startswith("BM3D was not measured") and "s2_pooling_sentence" not in facts


def test_model_row_scores_the_subset_too():
    from types import SimpleNamespace

    from cae_lib.restoration import model_row

    spec = CAESpec(filters=(4, 4), pooling="none", skips="add", output_activation="linear", residual_output=True)
    model = build_cae(spec)
    for weights in model.trainable_weights:
        weights.assign(np.zeros(weights.shape, dtype="float32"))
    clean = np.random.default_rng(0).random((6, 32, 32, 3)).astype(np.float32)
    noisy = np.clip(clean + 0.1, 0, 1).astype(np.float32)
    data = SimpleNamespace(task="denoise", x_test=noisy, y_test=clean, test_index=np.arange(6))
    row = model_row("zero", model, data, subset_images=2)
    from cae_lib import metrics

    assert row["psnr_global_db"] == pytest.approx(metrics.psnr_global(clean, noisy), abs=1e-4)  # returns its input
    assert row["psnr_subset_db"] == pytest.approx(metrics.psnr_global(clean[:2], noisy[:2]), abs=1e-4)
