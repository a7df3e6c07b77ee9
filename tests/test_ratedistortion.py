"""Codec curves in bits: cached records, BD-rate tables, the JPEG bias of a JPEG-decoded data set, the verdicts."""

import cv2
import imagecodecs
import numpy as np
import pytest
from _data import synthetic

from cae_lib import ratedistortion as rd
from cae_lib.codecs import Codec, measure
from cae_lib.codecs.classical import JPEG
from cae_lib.data import to_float
from cae_lib.tasks import Reconstruct


def _photos(n=24, size=32, seed=0):
    """Smooth colour images (upsampled noise): no JPEG history."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return np.stack([cv2.resize(s, (size, size), interpolation=cv2.INTER_CUBIC) for s in small])


class _Counting(Codec):
    family = "raw"
    calls = 0

    def encode(self, images):
        type(self).calls += 1
        return [im.tobytes() for im in images]

    def decode(self, payloads, image_shape):
        return np.stack([np.frombuffer(p, np.uint8).reshape(image_shape) for p in payloads]) / np.float32(255)


def test_codec_records_are_computed_once_and_keyed_by_identity_and_images(tmp_path):
    x = to_float(_photos(4))
    data = synthetic(Reconstruct(), x, x)
    _Counting.calls = 0
    first = rd.codec_records([_Counting()], data, name="t", identity={"v": 1}, cache_dir=tmp_path)
    again = rd.codec_records([_Counting()], data, name="t", identity={"v": 1}, cache_dir=tmp_path)
    assert _Counting.calls == 1 and first == again
    assert first[0]["bpp"] == pytest.approx(24.0) and first[0]["latent_size"] is None
    assert first[0] == {k: (pytest.approx(v) if isinstance(v, float) else v)
                        for k, v in measure(_Counting(), data).items()}
    rd.codec_records([_Counting()], data, name="t", identity={"v": 2}, cache_dir=tmp_path)
    other = to_float(_photos(4, seed=1))
    rd.codec_records([_Counting()], synthetic(Reconstruct(), other, other), name="t", identity={"v": 1},
                     cache_dir=tmp_path)
    assert _Counting.calls == 4  # another identity, other test images: computed again


def test_codec_records_refuse_duplicate_labels(tmp_path):
    x = to_float(_photos(2))
    with pytest.raises(ValueError, match="distinct"):
        rd.codec_records([JPEG(50), JPEG(50)], synthetic(Reconstruct(), x, x), name="t", cache_dir=tmp_path)


def test_images_data_replaces_only_the_test_part():
    x = to_float(_photos(3))
    data = synthetic(Reconstruct(), x, x)
    tiles = _photos(5, seed=2)
    view = rd.images_data(data, tiles)
    np.testing.assert_array_equal(view.x_test, to_float(tiles))
    assert view.x_test is view.y_test and (view.test_index < 0).all() and view.x_train is data.x_train
    with pytest.raises(ValueError, match="uint8"):
        rd.images_data(data, to_float(tiles))


def test_the_bias_of_jpeg_on_images_that_were_jpeg_at_that_quality():
    """JPEG at quality 75 of images decoded from quality-75 JPEG nearly reproduces them; of clean images it does not."""
    clean = _photos(24)
    mirrored = np.stack([imagecodecs.jpeg_decode(imagecodecs.jpeg_encode(im, level=75)) for im in clean])
    rows = rd.jpeg_bias(synthetic(Reconstruct(), to_float(mirrored), to_float(mirrored)),
                        synthetic(Reconstruct(), to_float(clean), to_float(clean)), qualities=(50, 75))
    at = {r["quality"]: r for r in rows}
    assert at[75]["mirror_psnr_db"] > at[75]["clean_psnr_db"] + 5
    assert at[75]["mirror_psnr_db"] - at[50]["mirror_psnr_db"] > at[75]["clean_psnr_db"] - at[50]["clean_psnr_db"]


def _curve(family, rates, psnr_of):
    return [{"family": family, "codec": f"{family} {b}", "bpp": b, "bpp_payload": b / 2, "psnr_global_db": psnr_of(b)}
            for b in rates]


def test_bd_rates_against_each_anchor_and_a_reason_where_there_is_none():
    rows = [*_curve("anchor", (1, 2, 3, 4), lambda b: 25 + 4 * np.log2(b)),
            *_curve("test", (0.5, 1, 1.5, 2), lambda b: 25 + 4 * np.log2(2 * b)),
            *_curve("far", (10, 11, 12, 13), lambda b: 60 + b)]
    table = {r["anchor"]: r for r in rd.bd_rates(rows, "test")}
    assert table["anchor"]["bd_rate_pct"] == pytest.approx(-50.0, abs=1e-6)  # the same quality at half the bits
    assert table["far"]["bd_rate_pct"] is None and "overlap" in table["far"]["note"]
    ranged = {r["anchor"]: r for r in rd.bd_rates(rows, "test", ["anchor"], rate_range=(1.5, 4))}
    assert ranged["anchor"]["bd_rate_pct"] is None and "at least 4" in ranged["anchor"]["note"]
    with pytest.raises(ValueError, match="no records of family 'nobody'"):
        rd.bd_rates(rows, "nobody")


def test_payload_curve_and_nearest_rows():
    rows = _curve("JPEG", (4, 6, 8), lambda b: 20 + b)
    scan = rd.payload_curve(rows, "JPEG")
    assert [r["bpp"] for r in scan] == [2, 3, 4] and {r["family"] for r in scan} == {"JPEG, payload alone"}
    assert rd.nearest_rows(rows + scan, 3.9) == {"JPEG": rows[0], "JPEG, payload alone": scan[2]}


@pytest.mark.parametrize("whole, payload, start", [
    (-70.0, -10.0, "The claim does not hold"), (-70.0, 15.0, "The claim holds only in part"),
    (5.0, 20.0, "The claim holds here"), (None, -3.0, "The curves do not overlap"),
])
def test_blog_verdict_follows_the_signs(whole, payload, start):
    assert rd.blog_verdict(whole, payload)["blog_verdict"].startswith(start)


def test_agreement_and_latent_rows():
    records = [{"codec": "a", "bpp": 1.125, "bpp_payload": 1.0, "bpp_estimated": 0.98, "decodes_exactly": 1.0},
               {"codec": "pca", "bpp": 2.0, "bpp_payload": 2.0, "bpp_estimated": None}]
    (row,) = rd.agreement_rows(records)
    assert row["payload / estimate"] == pytest.approx(1.0 / 0.98)
    assert row["file / (estimate + header)"] == pytest.approx(1.125 / (0.98 + 0.125))
    facts = rd.agreement_facts([row], 7)
    assert facts["worst_file_codec"] == "a" and "7 test files" in facts["exact_sentence"]
    with pytest.raises(ValueError):
        rd.agreement_facts([], 7)
    floats = [{"codec": "m", "latent_size": 1024, "bpp": 32.0, "psnr_global_db": 24.0}]
    quant = [{"codec": "m, 8-bit latent", "bpp": 4.0, "psnr_global_db": 23.9}]
    (latent,) = rd.latent_bits_rows(floats, quant)
    assert latent["bits saved"] == pytest.approx(0.875) and latent["model"] == "m"
    with pytest.raises(ValueError):
        rd.latent_bits_rows(floats, [])


def test_estimate_columns_of_a_codec_with_an_estimate_and_of_one_without():
    from cae_lib.codecs.pca import fit_pca
    from cae_lib.codecs.quantized import QuantizedPCA

    x = to_float(_photos(30))
    data = synthetic(Reconstruct(), x, x)
    codec = QuantizedPCA.fit(fit_pca(x, 30, solver="full"), x, step=0.05)
    cols = rd.estimate_columns(codec, data)
    real = measure(codec, data)["bpp_payload"]
    assert cols["decodes_exactly"] == 1.0
    assert 0 < real - cols["bpp_estimated"] < 4 * 8 / (32 * 32)  # the coder's overhead: under 4 bytes per file
    assert rd.estimate_columns(JPEG(50), data) == {}


def test_bd_text():
    assert rd.bd_text(12.0) == "+12.0 %" and rd.bd_text(-3.04) == "−3.0 %"
    assert rd.bd_text(None).startswith("not computable")


def test_a_codecs_digest_is_part_of_the_key(tmp_path):
    x = to_float(_photos(2))
    data = synthetic(Reconstruct(), x, x)
    _Counting.calls = 0
    for digest in (b"weights 1", b"weights 1", b"weights 2"):
        codec = _Counting()
        codec.digest = digest
        rd.codec_records([codec], data, name="t", cache_dir=tmp_path)
    assert _Counting.calls == 2  # the same label, other weights: measured again


def test_bd_table_gives_both_ranges_and_says_why_one_is_missing():
    rows = [*_curve("anchor", (5, 6, 7, 8), lambda b: 20 + 4 * np.log2(b)),
            *_curve("test", (1, 1.5, 2, 3, 4), lambda b: 20 + 4 * np.log2(3 * b))]
    (row,) = rd.bd_table(rows, "test", ["anchor"], (0.5, 4))
    assert row["bd_rate_pct"] == pytest.approx(100 * (1 / 3 - 1), abs=1e-6)  # a third of the bits
    assert row["bd_rate_range_pct"] is None and row["note"].startswith("0.5 to 4 bpp: the anchor curve has 0 points")
    assert rd.strongest([row])["strongest"].startswith("anchor (the learned codec saves −66.7 %")
    assert rd.strongest([{"anchor": "x", "bd_rate_pct": None}])["strongest"].startswith("not measurable")


def test_equal_bits_images_take_each_familys_nearest_point():
    images = _photos(3)
    codecs = [JPEG(20), JPEG(90)]
    rows = [{"family": "JPEG", "codec": c.label(), "bpp": b} for c, b in zip(codecs, (5.5, 8.0))]
    shown = rd.equal_bits_images(codecs, rows, images, 6.0)
    assert list(shown) == ["JPEG\n5.50 bpp"]
    np.testing.assert_array_equal(shown["JPEG\n5.50 bpp"], codecs[0].decode(codecs[0].encode(images), images.shape[1:]))


def test_a_photograph_round_trips_through_a_learned_codec_file():
    from cae_lib.codecs.learned import LearnedCodec
    from cae_lib.models import CAESpec
    from cae_lib.tasks.compress import build_rd_model

    codec = LearnedCodec(build_rd_model(CAESpec(filters=(8, 4), pooling="stride"), 1e-3), "tiny")
    photo = cv2.resize(_photos(1)[0], (45, 30), interpolation=cv2.INTER_AREA)
    decoded, facts = rd.photo_round_trip(codec, photo)
    assert decoded.shape == photo.shape and facts["photo_side"] == "45×30" and facts["photo_exact"] == "it does"
    assert facts["photo_bpp"] == pytest.approx(8 * facts["photo_bytes"] / (45 * 30))
    expected = 10 * np.log10(1 / np.mean((decoded.astype(np.float64) - photo / 255.0) ** 2))
    assert facts["photo_psnr"] == pytest.approx(expected, abs=1e-3)
