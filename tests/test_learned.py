"""cae_lib.codecs.learned: files decode to exactly the codec's reconstruction, which is the model's own prediction;
real bytes beside the density's estimate; refusals of other models' files and of bad input."""

import cv2
import keras
import numpy as np
import pytest
from _data import synthetic

from cae_lib import codecs as C
from cae_lib.codecs import container
from cae_lib.codecs.container import FormatError
from cae_lib.codecs.learned import LearnedCodec
from cae_lib.models import CAESpec, build_cae
from cae_lib.tasks import Reconstruct
from cae_lib.tasks.compress import BOTTLENECK, build_rd_model

SPEC = CAESpec(filters=(8, 4), pooling="stride")  # downsampling 2: a 16x16x4 latent
FLOAT_ATOL = 1e-5  # the codec's decoder is a rebuilt (any-size) copy of the model: same weights, float32 sums
# the range coder's overhead per image: the last 32-bit word flushed (trailing zeros dropped), plus 1% for the
# quantized probabilities
PER_IMAGE_BYTES, REL = 6, 0.01


def _smooth_images(n, size=32, seed=0):
    """uint8 images with some structure: 4x4 random colours enlarged bilinearly."""
    rng = np.random.default_rng(seed)
    small = rng.random((n, 4, 4, 3)).astype(np.float32)
    big = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in small])
    return np.clip(np.rint(big * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def model():
    """The tiny rate-distortion model after a few Adam steps (its latent is not all zero, its density moved)."""
    keras.utils.set_random_seed(0)
    model = build_rd_model(SPEC, 1e-3, name="tiny_rd")
    x = _smooth_images(48, seed=1).astype(np.float32) / 255
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x, x, batch_size=16, epochs=2, verbose=0)
    return model


@pytest.fixture(scope="module")
def codec(model):
    return LearnedCodec(model, "tiny")


def test_the_fixture_has_a_latent_worth_coding(codec):
    symbols = codec.symbols(_smooth_images(4, seed=2))
    assert symbols.shape == (4, 16, 16, 4) and symbols.dtype == np.int64
    assert (symbols != 0).mean() > 0.01
    assert codec.tables.channels == 4 and codec.label() == "tiny"


def test_decoded_32x32_images_are_the_models_prediction(model, codec):
    images = _smooth_images(5, seed=3)
    files = codec.encode(images)
    decoded = codec.decode(files, images.shape[1:])
    assert decoded.shape == images.shape and decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, codec.reconstruct(images))
    # the model in inference rounds its latent as the codec does
    np.testing.assert_allclose(decoded, model.predict(images.astype(np.float32) / 255, verbose=0), atol=FLOAT_ATOL)


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (31, 31), (31, 32), (17, 40)])
def test_odd_sizes_decode_to_the_reconstruction(codec, shape):
    images = _smooth_images(2, size=48, seed=4)[:, : shape[0], : shape[1]]
    files = codec.encode(images)
    assert [container.unpack(f, digest=codec.digest)[1] for f in files] == [shape, shape]
    decoded = codec.decode(files)
    assert decoded.shape == images.shape
    np.testing.assert_array_equal(decoded, codec.reconstruct(images))


@pytest.mark.parametrize("shape", [(31, 31), (32, 31), (31, 32)])
def test_padding_repeats_the_edge_pixels(model, codec, shape):
    images = _smooth_images(2, seed=5)[:, : shape[0], : shape[1]]
    # by hand: pad to 32x32 repeating the last row / column, run the 32x32 model, crop
    padded = np.pad(images, ((0, 0), (0, 32 - shape[0]), (0, 32 - shape[1]), (0, 0)), mode="edge")
    expected = model.predict(padded.astype(np.float32) / 255, verbose=0)[:, : shape[0], : shape[1]]
    np.testing.assert_allclose(codec.decode(codec.encode(images)), expected, atol=FLOAT_ATOL)


def test_file_layout(codec):
    images = _smooth_images(3, seed=6)
    for data in codec.encode(images):
        assert container.peek_name(data) == "tiny"
        head = 3 + 1 + 1 + len("tiny") + 1 + 1 + 4  # magic, version, name, two one-byte sides, checksum
        assert container.header_size(data) == head
        assert codec.payload_size(data) + head == len(data)
        name, shape, payload = container.unpack(data, digest=codec.digest)
        assert (name, shape, len(payload)) == ("tiny", (32, 32), codec.payload_size(data))


def test_estimated_bits_are_close_to_the_real_payload(codec):
    images = _smooth_images(6, seed=7)
    estimated = codec.estimated_bits(images)
    assert estimated.shape == (6,) and (estimated > 100).all()  # real bits to count
    # the ideal code length, by hand from the tables and the symbols
    symbols = codec.symbols(images)
    by_hand = [-sum(np.log2(codec.tables.tables[c][s[..., c].ravel() - codec.tables.lo[c]]).sum() for c in range(4))
               for s in symbols]
    np.testing.assert_allclose(estimated, by_hand, rtol=1e-9)
    payload = np.array([codec.payload_size(f) for f in codec.encode(images)])
    assert (np.abs(payload - estimated / 8) <= REL * estimated / 8 + PER_IMAGE_BYTES).all(), (payload, estimated / 8)


def test_files_of_another_training_are_refused(model, codec):
    images = _smooth_images(2, seed=8)
    files = codec.encode(images)
    keras.utils.set_random_seed(1)
    other = LearnedCodec(build_rd_model(SPEC, 1e-3, name="tiny_rd"), "tiny")  # the same name, other weights
    assert other.digest != codec.digest
    with pytest.raises(FormatError, match="another training of model 'tiny'"):
        other.decode(files)
    renamed = LearnedCodec(model, "tiny_v2")  # the same weights under another name
    with pytest.raises(FormatError, match="written by model 'tiny'"):
        renamed.decode(files)
    damaged = files[0][:-1] + bytes([files[0][-1] ^ 1])
    with pytest.raises(FormatError, match="checksum"):
        codec.decode([damaged])


def test_decode_refuses_mixed_sizes_and_a_wrong_shape(codec):
    a = codec.encode(_smooth_images(1, seed=9))
    b = codec.encode(_smooth_images(1, seed=9)[:, :30, :31])
    with pytest.raises(FormatError, match="different sizes"):
        codec.decode(a + b)
    with pytest.raises(FormatError, match="hold 32x32 images, not"):
        codec.decode(a, (30, 31, 3))
    assert codec.decode(a, (32, 32, 3)).shape == (1, 32, 32, 3)


def test_a_model_without_bottleneck_is_refused():
    plain = build_cae(SPEC, name="plain")
    with pytest.raises(ValueError, match=f"no {BOTTLENECK!r} layer"):
        LearnedCodec(plain, "plain")


def test_bad_names_and_images_are_refused(model, codec):
    for name in ("", "naïve", "x" * 256):
        with pytest.raises(ValueError, match="ASCII"):
            LearnedCodec(model, name)
    for bad in (np.zeros((1, 32, 32, 3), np.float32), np.zeros((32, 32, 3), np.uint8),
                np.zeros((1, 32, 32, 1), np.uint8), np.zeros((1, 32, 32, 4), np.uint8)):
        with pytest.raises(ValueError, match="uint8 RGB"):
            codec.encode(bad)
        with pytest.raises(ValueError, match="uint8 RGB"):
            codec.reconstruct(bad)


def test_measure_reports_the_header_apart(codec):
    images = _smooth_images(4, seed=10)
    x = images.astype(np.float32) / 255
    record = C.measure(codec, synthetic(Reconstruct(), x, x))
    files = codec.encode(images)
    assert record["bpp"] == pytest.approx(8 * sum(len(f) for f in files) / (4 * 32 * 32), rel=1e-12)
    header = container.header_size(files[0])
    assert record["bpp"] - record["bpp_payload"] == pytest.approx(8 * header / (32 * 32), rel=1e-9)
    assert record["bpp_payload"] < record["bpp"]
    assert record["latent_size"] is None and record["codec"] == "tiny"
    mse = float(np.mean((codec.reconstruct(images).astype(np.float64) - x) ** 2))
    assert record["mse"] == pytest.approx(mse, rel=1e-5)
