"""cae_lib.representation against scikit-learn, SciPy and brute-force NumPy on small fixtures."""

import numpy as np
import pytest

from cae_lib import representation as R
from cae_lib.models import CAESpec, build_cae


def _blobs(n=120, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    centres = rng.normal(0, 3, (classes, d))
    return (centres[y] + rng.normal(0, 1.5, (n, d))).astype(np.float32), y


def test_wilson_interval_matches_scipy():
    from scipy.stats import binomtest

    for correct, n in ((80, 100), (3, 10), (0, 25), (6000, 6000), (4123, 6000)):
        ci = binomtest(correct, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert R.wilson_interval(correct, n) == pytest.approx((ci.low, ci.high), abs=1e-6)
    with pytest.raises(ValueError, match="cannot exceed"):
        R.wilson_interval(11, 10)


def test_linear_probe_scores_as_scikit_learn_does():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y = _blobs()
    xt, yt = _blobs(seed=1)
    got = R.linear_probe(x, y, xt, yt, C=0.5)
    scaler = StandardScaler().fit(x)
    reference = LogisticRegression(C=0.5, max_iter=300).fit(scaler.transform(x), y).score(scaler.transform(xt), yt)
    assert got["accuracy"] == pytest.approx(reference)
    assert got["ci_low"] <= got["accuracy"] <= got["ci_high"] and got["features"] == 6 and got["n_test"] == 120
    assert R.linear_probe(x, np.zeros(120, int) + (np.arange(120) % 2), xt, yt)["accuracy"] < 0.7  # wrong labels
    with pytest.raises(ValueError, match="differ in size"):
        R.linear_probe(x, y, xt[:, :3], yt)
    with pytest.raises(ValueError, match="integer class labels"):
        R.linear_probe(x, y.astype(float), xt, yt)


def test_nearest_neighbours_match_brute_force_and_scikit_learn():
    from sklearn.neighbors import NearestNeighbors

    x, _ = _blobs(n=300, d=8)
    q, _ = _blobs(n=50, d=8, seed=2)
    got = R.nearest_neighbours(x, q, k=4)
    d = ((q[:, None, :].astype(np.float64) - x[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(got, np.argsort(d, axis=1, kind="stable")[:, :4])
    np.testing.assert_array_equal(got, NearestNeighbors(n_neighbors=4).fit(x).kneighbors(q)[1])
    with pytest.raises(ValueError, match="at most"):
        R.nearest_neighbours(x[:3], q, k=4)


def test_knn_accuracy_matches_scikit_learn():
    from sklearn.neighbors import KNeighborsClassifier

    x, y = _blobs(n=301, d=5)
    xt, yt = _blobs(n=151, d=5, seed=3)
    for k in (1, 5):
        reference = KNeighborsClassifier(n_neighbors=k).fit(x, y).score(xt, yt)
        assert R.knn_accuracy(x, y, xt, yt, k=k) == pytest.approx(reference, abs=2 / len(yt))  # ties may differ


def test_codes_interpolation_ends_and_decoding_are_the_models_own():
    model = build_cae(CAESpec(filters=(4, 6)))
    x = np.random.default_rng(4).random((3, 32, 32, 3), dtype=np.float32)
    codes = R.latent_codes(model, x)
    assert codes.shape == (3, 16 * 16 * 6)
    line = R.interpolate(codes[0], codes[1], 5)
    np.testing.assert_array_equal(line[0], codes[0])
    np.testing.assert_allclose(line[-1], codes[1], atol=1e-6)
    np.testing.assert_allclose(R.decode_codes(model, codes), model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="skip connections"):
        R.decode_codes(build_cae(CAESpec(filters=(4, 6), skips="concat")), codes)


def test_random_codes_follow_the_codes_covariance():
    rng = np.random.default_rng(5)
    codes = rng.multivariate_normal([1.0, -2.0], [[1.0, 0.8], [0.8, 1.0]], size=4000)
    samples = R.random_codes(codes, 20000, seed=0)
    np.testing.assert_allclose(samples.mean(axis=0), codes.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(np.cov(samples, rowvar=False), np.cov(codes, rowvar=False), atol=0.05)
    np.testing.assert_array_equal(R.random_codes(codes, 3, seed=1), R.random_codes(codes, 3, seed=1))


def test_novel_images_and_their_auc():
    tiles = np.full((6, 32, 32, 3), 128, np.uint8)
    images = R.novel_images(5, tiles, seed=0)
    assert list(images) == list(R.NOVELTIES)
    for kind, x in images.items():
        assert x.shape == (5, 32, 32, 3) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1, kind
    assert all(len(np.unique(im.reshape(-1, 3), axis=0)) == 1 for im in images["flat colours"])
    assert all(len(np.unique(im.reshape(-1, 3), axis=0)) == 2 for im in images["checkerboards"])
    # AUC by hand: of the 2 x 3 pairs (in, novel), novel > in in 5, one tie counts one half
    assert R.novelty_auc(np.array([0.1, 0.3]), np.array([0.2, 0.3, 0.5])) == pytest.approx(4.5 / 6)
    with pytest.raises(ValueError, match="at least 5"):
        R.novel_images(5, tiles[:2])


def test_reconstruction_errors_are_per_image_mse():
    model = build_cae(CAESpec(filters=(4, 6)))
    x = np.random.default_rng(6).random((2, 32, 32, 3), dtype=np.float32)
    expected = ((model.predict(x, verbose=0).astype(np.float64) - x) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(R.reconstruction_errors(model, x), expected, rtol=1e-6)


def test_rank_relation_matches_scipy_and_embedding_keeps_clusters_apart():
    from scipy.stats import spearmanr

    a, b = [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]
    got = R.rank_relation(a, b)
    assert (got["rho"], got["p_value"]) == pytest.approx(tuple(spearmanr(a, b)))
    x, y = _blobs(n=90, d=10, seed=7)
    xy = R.embedding_2d(x * 3, seed=0, perplexity=10)
    assert xy.shape == (90, 2)
    centres = np.array([xy[y == c].mean(axis=0) for c in range(3)])
    spread = max(xy[y == c].std() for c in range(3))
    assert min(np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i)) > spread


def test_probe_features_and_rows_put_pixels_pca_and_codes_side_by_side():
    from cae_lib.codecs import fit_pca

    rng = np.random.default_rng(8)
    x, xt = rng.random((40, 32, 32, 3), dtype=np.float32), rng.random((20, 32, 32, 3), dtype=np.float32)
    y, yt = np.arange(40) % 2, np.arange(20) % 2
    model = build_cae(CAESpec(filters=(4, 6)))
    basis = fit_pca(x, 8, solver="full")
    features = R.probe_features({"m": model}, x, xt, pca=basis, pca_sizes=(8, 4))
    assert list(features) == ["pixels", "PCA-4", "PCA-8", "m"]
    np.testing.assert_allclose(features["PCA-4"][1], basis.encode(xt)[:, :4], atol=1e-6)
    np.testing.assert_array_equal(features["m"][0], R.latent_codes(model, x))
    rows = R.probe_rows(features, y, yt, k=3)
    assert [r["features"] for r in rows] == list(features) and [r["values"] for r in rows] == [3072, 4, 8, 1536]
    pixels = rows[0]
    assert pixels["probe_accuracy"] == R.linear_probe(*features["pixels"][:1], y, features["pixels"][1], yt)["accuracy"]
    assert pixels["knn_accuracy"] == R.knn_accuracy(features["pixels"][0], y, features["pixels"][1], yt, k=3)
    with pytest.raises(ValueError, match="basis has 8"):
        R.probe_features({}, x, xt, pca=basis, pca_sizes=(9,))
    with pytest.raises(ValueError, match="needs a fitted PCA"):
        R.probe_features({}, x, xt, pca_sizes=(4,))


def test_retrieval_rows_show_each_query_and_its_brute_force_neighbours():
    x, _ = _blobs(n=50, d=12)
    q, _ = _blobs(n=6, d=12, seed=9)
    images = x.reshape(50, 2, 2, 3)
    rows = R.retrieval_rows(images, q.reshape(6, 2, 2, 3), {"pixels": (x, q)}, [1, 4], k=3)
    assert list(rows) == ["1: pixels", "4: pixels"]
    order = np.argsort(((q[4] - x) ** 2).sum(axis=1), kind="stable")[:3]
    np.testing.assert_array_equal(np.stack(rows["4: pixels"][1:]), images[order])
    np.testing.assert_array_equal(rows["4: pixels"][0], q[4].reshape(2, 2, 3))


def test_novelty_rows_score_each_kind_against_the_test_images():
    model = build_cae(CAESpec(filters=(4, 6)))
    rng = np.random.default_rng(10)
    x = rng.random((8, 32, 32, 3), dtype=np.float32)
    novel = {"noise": rng.random((4, 32, 32, 3), dtype=np.float32)}
    rows, errors = R.novelty_rows({"m": model}, x, novel)
    assert [(r["model"], r["kind"]) for r in rows] == [("m", "noise")]
    assert rows[0]["auc"] == R.novelty_auc(errors["m"]["test images"], errors["m"]["noise"])
    np.testing.assert_allclose(errors["m"]["noise"], R.reconstruction_errors(model, novel["noise"]))


def test_probe_split_keeps_per_class_training_images_with_their_own_labels():
    from types import SimpleNamespace

    labels = np.arange(60) % 3
    train_index, test_index = np.arange(0, 48), np.arange(48, 60)
    td = SimpleNamespace(x_train=train_index.astype(np.float32) * 10, train_index=train_index, test_index=test_index)
    x, y, y_test = R.probe_split(td, labels, per_class=4)
    assert np.bincount(y).tolist() == [4, 4, 4]
    assert np.array_equal(labels[(x / 10).astype(int)], y)  # each kept image still carries its own label
    assert np.array_equal(y_test, labels[test_index])
    x_all, y_all, _ = R.probe_split(td, labels)
    assert np.array_equal(x_all, td.x_train) and np.array_equal(y_all, labels[train_index])


def test_probe_all_adds_pca_at_each_code_size_the_basis_holds_and_each_models_psnr():
    from cae_lib.codecs import fit_pca

    rng = np.random.default_rng(3)
    x, xt = rng.random((80, 32, 32, 3), dtype=np.float32), rng.random((20, 32, 32, 3), dtype=np.float32)
    y, yt = np.arange(80) % 2, np.arange(20) % 2
    models = {"big": build_cae(CAESpec(filters=(4, 6))), "tiny": build_cae(CAESpec(filters=(4, 4, 1)))}
    basis = fit_pca(x, 70, solver="full")
    features, model_rows, base = R.probe_all(models, {"big": 20.0, "tiny": 18.5}, x, y, xt, yt, pca=basis, k=3)
    assert [r["values"] for r in model_rows] == [1536, 64]  # hand computation: 16*16*6 and 8*8*1
    assert [r["features"] for r in base] == ["pixels", "PCA-64"]  # 1536 values do not fit 70 components
    np.testing.assert_allclose(features["PCA-64"][1], basis.encode(xt)[:, :64], atol=1e-6)
    assert {r["features"]: r["psnr_global_db"] for r in model_rows} == {"big": 20.0, "tiny": 18.5}
    reference = R.probe_rows(features, y, yt, k=3)
    assert [r["probe_accuracy"] for r in [*base, *model_rows]] == [r["probe_accuracy"] for r in reference]
    with pytest.raises(ValueError, match="same models"):
        R.probe_all(models, {"big": 20.0}, x, y, xt, yt)


def test_from_runs_and_novel_examples():
    from types import SimpleNamespace

    runs = {"a": SimpleNamespace(model="ma", test_metrics={"psnr_global_db": np.float64(22.5)})}
    assert R.from_runs(runs) == ({"a": "ma"}, {"a": 22.5})
    novel = R.novel_images(3, np.zeros((3, 32, 32, 3), np.uint8), seed=1)
    shown = R.novel_examples(novel, 2)
    assert shown.shape == (8, 32, 32, 3)
    np.testing.assert_array_equal(shown[2:4], novel["flat colours"][:2])
