"""cae_lib.codecs: PCA and thumbnails against hand computations (NumPy SVD, block means), and real byte counts."""

import numpy as np
import pytest

from cae_lib import codecs as C
from cae_lib import metrics
from cae_lib.data import to_uint8
from cae_lib.tasks import Reconstruct, TaskData

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


# --------------------------------------------------------------------------- PCA


@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_pca_with_every_component_reconstructs_exactly(solver):
    x = np.random.default_rng(0).random((100, 4, 4, 3), dtype=np.float32)
    codec = C.fit_pca(x, 48, solver=solver)
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

    codec = C.fit_pca(x, k, solver=solver)
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
    codec = C.fit_pca(x, 10, solver="full")
    codes = codec.encode(x)
    assert codes.shape == (x.shape[0], 10) and codes.dtype == np.float32
    small = codec.truncate(3)
    np.testing.assert_allclose(small.encode(x), codes[:, :3], atol=1e-6)
    np.testing.assert_allclose(small.decode(codes[:, :3]), small.reconstruct(x), atol=1e-6)


@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_truncating_an_exact_fit_is_the_smaller_fit(solver):
    x = _low_rank_images()
    big, direct = C.fit_pca(x, 12, solver=solver).truncate(5), C.fit_pca(x, 5, solver=solver)
    np.testing.assert_allclose(np.abs(big.components @ direct.components.T), np.eye(5), atol=1e-4)
    np.testing.assert_allclose(big.reconstruct(x), direct.reconstruct(x), atol=1e-5)


def test_pca_sees_only_the_data_passed():
    rng = np.random.default_rng(1)
    x_train = rng.uniform(0.0, 0.5, (60, 4, 4, 3)).astype(np.float32)
    x_test = rng.uniform(0.5, 1.0, (60, 4, 4, 3)).astype(np.float32)
    before = x_train.copy()
    codec = C.fit_pca(x_train, 8, solver="full")
    np.testing.assert_array_equal(x_train, before)  # not centred in place
    np.testing.assert_allclose(codec.mean, x_train.reshape(60, -1).mean(axis=0, dtype=np.float64), atol=1e-6)
    # the same training data gives the same codec whatever else exists
    again = C.fit_pca(np.concatenate([x_train, x_test])[:60], 8, solver="full")
    np.testing.assert_array_equal(again.components, codec.components)


def test_randomized_fit_is_seeded():
    x = _low_rank_images()
    a, b = (C.fit_pca(x, 5, seed=3, solver="randomized") for _ in range(2))
    np.testing.assert_array_equal(a.components, b.components)


def test_codec_round_trips_through_npz(tmp_path):
    x = _low_rank_images()
    codec = C.fit_pca(x, 7, solver="full")
    path = tmp_path / "pca.npz"
    np.savez(path, **codec.to_arrays())
    with np.load(path, allow_pickle=False) as stored:
        back = C.PCABasis.from_arrays(stored)
    assert back.image_shape == codec.image_shape == (4, 4, 3) and back.solver == "full"
    for field in ("mean", "components", "explained_variance"):
        np.testing.assert_array_equal(getattr(back, field), getattr(codec, field))
    np.testing.assert_array_equal(back.reconstruct(x), codec.reconstruct(x))


def test_pca_refuses_bad_input():
    x = _low_rank_images(n=20)
    with pytest.raises(ValueError, match="n_components"):
        C.fit_pca(x, 21)
    with pytest.raises(ValueError, match="solver"):
        C.fit_pca(x, 2, solver="arpack")
    codec = C.fit_pca(x, 2)
    with pytest.raises(ValueError, match=r"\(4, 4, 3\)"):
        codec.encode(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        codec.decode(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at most"):
        codec.truncate(3)
    with pytest.raises(ValueError, match="lack"):
        C.PCABasis.from_arrays({"mean": codec.mean})


def test_decode_clips_to_unit_range():
    codec = C.fit_pca(_low_rank_images(), 3, solver="full")
    out = codec.decode(np.full((2, 3), 1e3))
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.dtype == np.float32


# --------------------------------------------------------------------------- resize codec


@pytest.mark.parametrize("k", range(1, 9))
def test_resize_keeps_a_constant_image(k):
    x = np.full((2, 8, 8, 3), 0.3, np.float32)
    np.testing.assert_allclose(C.resize_codec(x, k), x, atol=F32_ULP_ATOL)


def test_resize_at_full_size_returns_the_images():
    x = np.random.default_rng(0).random((3, 8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(C.resize_codec(x, 8), x, atol=1e-7)


def test_resize_to_one_pixel_gives_each_images_channel_means():
    x = np.random.default_rng(0).random((3, 8, 8, 3), dtype=np.float32)
    expected = np.broadcast_to(x.mean(axis=(1, 2), keepdims=True, dtype=np.float64), x.shape)
    np.testing.assert_allclose(C.resize_codec(x, 1), expected, atol=1e-6)


def test_resize_output_in_unit_range_and_grey_images_work():
    x = np.zeros((2, 8, 8, 3), np.float32)
    x[:, :, 4:] = 1.0  # a hard edge makes bicubic overshoot before the clip
    out = C.resize_codec(x, 3)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert C.resize_codec(x[..., :1], 3).shape == (2, 8, 8, 1)


def test_resize_refuses_bad_k():
    x = np.zeros((1, 8, 8, 3), np.float32)
    for k in (0, 9):
        with pytest.raises(ValueError, match="k must be"):
            C.resize_codec(x, k)


def test_resize_values_count_the_thumbnail():
    assert [C.resize_values(k) for k in (1, 8, 16, 18)] == [3, 192, 768, 972]
    assert C.Thumbnail(4).values_kept((8, 8, 1)) == 16


# --------------------------------------------------------------------------- codecs as bytes


def _task_data(n=40, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.random((3 * n, 4, 4, 3)).astype(np.float32)
    images = to_uint8(np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_LINEAR) for im in small]))
    x = images.astype(np.float32) / 255
    parts = {"train": x[:n], "val": x[n:2 * n], "test": x[2 * n:]}
    return TaskData(task=Reconstruct(), x_train=parts["train"], y_train=parts["train"], x_val=parts["val"],
                    y_val=parts["val"], x_test=parts["test"], y_test=parts["test"], train_index=np.arange(n),
                    val_index=np.arange(n, 2 * n), test_index=np.arange(2 * n, 3 * n), fingerprint="synthetic",
                    source="synthetic", split="s")


def test_pca_codec_stores_k_float32_values_and_decodes_its_basis():
    data = _task_data()
    basis = C.fit_pca(data.x_train, 12, solver="full")
    codec = C.PCA(basis)
    images = to_uint8(data.x_test)
    payloads = codec.encode(images)
    assert [len(p) for p in payloads] == [12 * 4] * len(images)  # 12 float32 coefficients
    np.testing.assert_array_equal(codec.decode(payloads, images.shape[1:]), basis.reconstruct(data.x_test))
    assert C.bits_per_pixel(payloads, images.shape) == pytest.approx(12 * 32 / (16 * 16))
    with pytest.raises(ValueError, match="12-component PCA code has 48"):
        codec.decode([payloads[0][:-1]], images.shape[1:])


def test_thumbnail_codec_stores_the_small_image_as_bytes():
    import cv2

    data = _task_data()
    images = to_uint8(data.x_test)
    codec = C.Thumbnail(4)
    payloads = codec.encode(images)
    assert {len(p) for p in payloads} == {4 * 4 * 3}
    small = cv2.resize(images[0], (4, 4), interpolation=cv2.INTER_AREA)  # the code is the area-averaged thumbnail
    np.testing.assert_array_equal(np.frombuffer(payloads[0], np.uint8).reshape(4, 4, 3), small)
    decoded = codec.decode(payloads, images.shape[1:])
    # the float round trip with the thumbnail rounded to bytes: within one grey level of resize_codec's
    assert np.abs(decoded - C.resize_codec(data.x_test, 4)).max() < 1.5 / 255
    with pytest.raises(ValueError, match="at most"):
        C.Thumbnail(17).encode(images)


def test_measure_reports_real_bytes_values_kept_and_the_metrics_route():
    from cae_lib.evaluation import prediction_metrics

    data = _task_data()
    rows = C.measure_all([C.Thumbnail(2), C.Thumbnail(8)], data)
    assert [r["latent_size"] for r in rows] == [12, 192] and [r["bpp"] for r in rows] == [12 * 8 / 256, 192 * 8 / 256]
    assert rows[0]["psnr_global_db"] < rows[1]["psnr_global_db"]
    codec = C.Thumbnail(8)
    by_hand = prediction_metrics(data, codec.decode(codec.encode(to_uint8(data.x_test)), (16, 16, 3)))
    assert rows[1]["psnr_global_db"] == by_hand["psnr_global_db"]
    assert list(C.by_family(rows)) == [C.THUMBNAIL_LABEL]


def test_pca_codecs_fit_once_cache_and_truncate(tmp_path):
    from cae_lib.evaluation import prediction_metrics

    data = _task_data()
    pca = C.pca_codecs(data, (4, 16, 40, 99), cache_dir=tmp_path)
    assert [c.basis.n_values for c in pca] == [4, 16, 40]  # 99 > the 40 training images: left out
    rows = C.measure_all(pca, data)
    assert [r["psnr_global_db"] for r in rows] == sorted(r["psnr_global_db"] for r in rows)  # more values, better
    by_hand = C.fit_pca(data.x_train, 16, solver="full").reconstruct(data.x_test)
    assert rows[1]["psnr_global_db"] == pytest.approx(prediction_metrics(data, by_hand)["psnr_global_db"], abs=1e-3)
    assert list((tmp_path / "results").glob("pca-*/manifest.json"))  # the fitted basis is cached
    again = C.measure_all(C.pca_codecs(data, (4, 16, 40), cache_dir=tmp_path), data)
    assert again == rows


def test_latent_codec_decodes_what_the_model_reconstructs():
    from cae_lib.models import CAESpec, build_cae

    model = build_cae(CAESpec(filters=(4, 6)))
    images = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    codec = C.LatentCodec(model, "tiny")
    payloads = codec.encode(images)
    assert {len(p) for p in payloads} == {16 * 16 * 6 * 4} and codec.values_kept((32, 32, 3)) == 16 * 16 * 6
    np.testing.assert_allclose(codec.decode(payloads, (32, 32, 3)),
                               model.predict(images.astype(np.float32) / 255, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="skip connections"):
        C.LatentCodec(build_cae(CAESpec(filters=(4, 6), skips="concat")))


def test_codecs_are_found_by_name():
    assert C.get_codec("pca") is C.PCA and C.get_codec("thumbnail") is C.Thumbnail
    with pytest.raises(ValueError, match="codec must be one of"):
        C.get_codec("jpeg2")


def test_measure_reports_the_payload_rate_beside_the_file_rate():
    class Headed(C.Thumbnail):  # a thumbnail behind a 16-byte header, as a file format would write it
        def encode(self, images):
            return [b"H" * 16 + p for p in super().encode(images)]

        def decode(self, payloads, image_shape):
            return super().decode([p[16:] for p in payloads], image_shape)

        def payload_size(self, data):
            return len(data) - 16

    data = _task_data()
    plain, headed = C.measure(C.Thumbnail(4), data), C.measure(Headed(4), data)
    assert list(plain)[list(plain).index("bpp") + 1] == "bpp_payload" and set(C.RATES) <= set(plain)
    assert plain["bpp_payload"] == plain["bpp"] == 48 * 8 / 256  # the default: the whole payload
    assert headed["bpp"] == (48 + 16) * 8 / 256 and headed["bpp_payload"] == 48 * 8 / 256
    assert headed["psnr_global_db"] == plain["psnr_global_db"]
