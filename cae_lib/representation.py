"""What a trained autoencoder's latent code knows: linear probes, retrieval, interpolation, novelty.

The questions representation learning asks of a code, applied to the book's
cached autoencoders (nothing here trains an autoencoder):

- :func:`linear_probe`: a logistic-regression classifier (scikit-learn) on the
  codes of training images, scored on the test images, with a Wilson
  confidence interval (:func:`wilson_interval`); the same on raw pixels or PCA
  coefficients gives the baselines.
- :func:`nearest_neighbours` and :func:`knn_accuracy`: retrieval by Euclidean
  distance between codes (or pixels), in chunks of matrix products.
- :func:`interpolate` and :func:`random_codes`: straight lines between two
  codes, and codes drawn from the codes' empirical mean and covariance, to
  decode.
- :func:`novel_images` and :func:`novelty_auc`: inputs unlike CIFAR-10 (noise,
  flat colours, checkerboards, photograph tiles) and how well a model's
  reconstruction error tells them from the test images (ROC AUC).
- :func:`embedding_2d`: a t-SNE map of codes (scikit-learn).

Codes are the encoder's output flattened to one vector per image
(:func:`latent_codes`). Importing this module imports NumPy only; Keras and
scikit-learn are imported by the functions that need them.

Example:
    >>> low, high = wilson_interval(80, 100)
    >>> round(low, 3), round(high, 3)
    (0.711, 0.867)
    >>> knn_accuracy(np.array([[0.0], [1.0], [10.0]]), np.array([0, 0, 1]), np.array([[0.2], [9.0]]),
    ...              np.array([0, 1]), k=1)
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from cae_lib import validate

__all__ = [
    "latent_codes",
    "pixel_features",
    "wilson_interval",
    "linear_probe",
    "nearest_neighbours",
    "knn_accuracy",
    "interpolate",
    "random_codes",
    "decode_codes",
    "NOVELTIES",
    "novel_images",
    "novel_examples",
    "reconstruction_errors",
    "novelty_auc",
    "embedding_2d",
    "rank_relation",
    "from_runs",
    "probe_split",
    "probe_features",
    "probe_rows",
    "probe_all",
    "retrieval_rows",
    "novelty_rows",
]

#: Images scored at once when codes and distances are computed (bounds the temporaries).
_CHUNK = 1024


def latent_codes(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The encoder's output for ``x``, one flattened float32 vector per image.

    Args:
        model: a :func:`cae_lib.models.build_cae` model; with skip connections,
            only the latent (the encoder's first output) is returned.
        x: the model's inputs.

    Returns:
        float32 ``(N, latent_size)``.
    """
    from cae_lib.models import encoder_of

    out = encoder_of(model).predict(x, batch_size=batch_size, verbose=0)
    latent = out[0] if isinstance(out, list) else out
    return np.asarray(latent, dtype=np.float32).reshape(len(x), -1)


def pixel_features(x: np.ndarray) -> np.ndarray:
    """Images flattened to vectors, float32: the raw-pixel baseline of every question here."""
    x = validate.float_images(x, "x")
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1)


def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``correct / n`` (95 % by default).

    Better behaved than the normal approximation near 0 and 1 (Wilson 1927;
    Brown, Cai and DasGupta 2001).

    Example:
        >>> wilson_interval(0, 10)[0]
        0.0
    """
    n = validate.positive_int(n, "n")
    correct = validate.non_negative_int(correct, "correct")
    if correct > n:
        raise ValueError(f"correct ({correct}) cannot exceed n ({n})")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _labels(y, n: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{what} must be {n} integer class labels, got {y.dtype} {y.shape}")
    return y


def _features(x, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or len(x) == 0 or not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise ValueError(f"{what} must be a non-empty finite (N, D) array of features, got {x.dtype} {x.shape}")
    return x.astype(np.float32, copy=False)


def linear_probe(x_train, y_train, x_test, y_test, *, C: float = 1.0, max_iter: int = 300) -> dict:
    """Test accuracy of a logistic-regression classifier trained on features of the training images.

    The features are standardised with the training part's mean and standard
    deviation, then scikit-learn's multinomial ``LogisticRegression`` (lbfgs,
    L2 penalty ``C``) is fitted; lbfgs is deterministic, so the result is too.

    Args:
        x_train, x_test: ``(N, D)`` features (codes, pixels or PCA coefficients).
        y_train, y_test: integer class labels.
        C: inverse regularisation strength.
        max_iter: lbfgs iterations at most.

    Returns:
        ``{"accuracy", "ci_low", "ci_high", "n_train", "n_test", "features"}`` (``features``: ``D``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, x_test = _features(x_train, "x_train"), _features(x_test, "x_test")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(f"train and test features differ in size: {x_train.shape[1]} and {x_test.shape[1]}")
    y_train, y_test = _labels(y_train, len(x_train), "y_train"), _labels(y_test, len(x_test), "y_test")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=validate.positive_float(C, "C"),
                                                               max_iter=validate.positive_int(max_iter, "max_iter")))
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():  # an unconverged probe is still a probe: its accuracy is what is reported
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(x_train, y_train)
    correct = int(np.sum(probe.predict(x_test) == y_test))
    low, high = wilson_interval(correct, len(y_test))
    return {"accuracy": correct / len(y_test), "ci_low": low, "ci_high": high, "n_train": len(y_train),
            "n_test": len(y_test), "features": int(x_train.shape[1])}


def nearest_neighbours(x_train, queries, k: int = 5) -> np.ndarray:
    """Indices of the ``k`` training vectors nearest (Euclidean) to each query, nearest first.

    Squared distances come from ``|q|^2 - 2 q.x + |x|^2`` in float64, query
    chunk by query chunk; ties go to the lower index.

    Example:
        >>> nearest_neighbours(np.array([[0.0], [3.0], [1.0]]), np.array([[0.9]]), k=2).tolist()
        [[2, 0]]
    """
    x_train, queries = _features(x_train, "x_train").astype(np.float64), _features(queries, "queries").astype(np.float64)
    k = validate.positive_int(k, "k")
    if k > len(x_train):
        raise ValueError(f"k must be at most the {len(x_train)} training vectors, got {k}")
    norms = np.einsum("ij,ij->i", x_train, x_train)
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), _CHUNK):
        q = queries[start:start + _CHUNK]
        d2 = norms[None, :] - 2.0 * q @ x_train.T + np.einsum("ij,ij->i", q, q)[:, None]
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(x_train) else np.tile(np.arange(k), (len(q), 1))
        rows = np.arange(len(q))[:, None]
        order = np.lexsort((part, d2[rows, part]), axis=1)
        out[start:start + _CHUNK] = part[rows, order]
    return out


def knn_accuracy(x_train, y_train, x_test, y_test, k: int = 5) -> float:
    """The share of test images whose ``k`` nearest training vectors' majority class is their own.

    Ties between classes go to the class of the nearest neighbour among them.
    """
    x_train, x_test = _features(x_train, "x_train"), _features(x_test, "x_test")
    y_train, y_test = _labels(y_train, len(x_train), "y_train"), _labels(y_test, len(x_test), "y_test")
    neighbours = y_train[nearest_neighbours(x_train, x_test, k)]
    votes = np.zeros((len(x_test), int(y_train.max()) + 1))
    for j in range(k):  # nearer neighbours add slightly more, which breaks ties towards them
        np.add.at(votes, (np.arange(len(x_test)), neighbours[:, j]), 1.0 + 1e-6 * (k - j))
    return float(np.mean(votes.argmax(axis=1) == y_test))


def interpolate(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points on the straight line from ``a`` to ``b``, both ends included.

    Example:
        >>> interpolate(np.zeros(2), np.ones(2), 3).tolist()
        [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    """
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    steps = validate.positive_int(steps, "steps")
    if steps < 2:
        raise ValueError("steps must be at least 2 (the two ends)")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * a.ndim))
    return (1.0 - t) * a + t * b


def random_codes(codes: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` codes drawn from the Gaussian with the empirical mean and covariance of ``codes``.

    Example:
        >>> c = np.random.default_rng(0).normal(size=(500, 3)) * [1.0, 2.0, 0.0]
        >>> bool(np.allclose(random_codes(c, 20000, seed=1).std(axis=0), c.std(axis=0), atol=0.05))
        True
    """
    codes = _features(codes, "codes").astype(np.float64)
    mean = codes.mean(axis=0)
    cov = np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])
    rng = np.random.default_rng(validate.non_negative_int(seed, "seed"))
    return rng.multivariate_normal(mean, cov, size=validate.positive_int(n, "n"), method="eigh").astype(np.float32)


def decode_codes(model, codes: np.ndarray) -> np.ndarray:
    """Decode flattened codes with a model's decoder; float32 images.

    Raises:
        ValueError: the model has skip connections (its decoder needs more than the code).
    """
    from cae_lib.models import decoder_of, spec_of

    spec = spec_of(model)
    if spec.skips != "none":
        raise ValueError("a model with skip connections cannot decode a code alone")
    z = np.asarray(codes, dtype=np.float32).reshape(-1, *spec.latent_shape)
    return np.asarray(decoder_of(model).predict(z, verbose=0), dtype=np.float32)


#: The kinds of image unlike CIFAR-10 that :func:`novel_images` makes.
NOVELTIES = ("uniform noise", "flat colours", "checkerboards", "photograph tiles")


def novel_images(n: int, tiles: np.ndarray, seed: int = 0, size: int = 32) -> dict[str, np.ndarray]:
    """Images a CIFAR-10 model never saw, ``n`` of each kind of :data:`NOVELTIES`, float32 in [0, 1].

    Args:
        n: images per kind.
        tiles: uint8 or float ``(M, size, size, 3)`` tiles of photographs (the first ``n`` are used).
        seed: seeds the noise, the colours and the checkerboards' squares.
        size: the images' side.
    """
    from cae_lib.data import unit_float

    n = validate.positive_int(n, "n")
    rng = np.random.default_rng(validate.non_negative_int(seed, "seed"))
    noise = rng.random((n, size, size, 3), dtype=np.float32)
    flat = np.broadcast_to(rng.random((n, 1, 1, 3), dtype=np.float32), (n, size, size, 3)).copy()
    boards = np.empty((n, size, size, 3), np.float32)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        square = int(rng.choice([1, 2, 4, 8]))
        mask = ((yy // square + xx // square) % 2).astype(bool)
        first, second = rng.random(3, dtype=np.float32), rng.random(3, dtype=np.float32)
        boards[i] = np.where(mask[..., None], first, second)
    tiles = unit_float(np.asarray(tiles))
    if tiles.ndim != 4 or tiles.shape[1:] != (size, size, 3) or len(tiles) < n:
        raise ValueError(f"tiles must hold at least {n} images of shape ({size}, {size}, 3), got {tiles.shape}")
    return dict(zip(NOVELTIES, (noise, flat, boards, tiles[:n])))


def novel_examples(novel: Mapping[str, np.ndarray], per_kind: int = 2) -> np.ndarray:
    """The first ``per_kind`` images of each kind of :func:`novel_images`, stacked in the kinds' order.

    Example:
        >>> novel_examples({"a": np.zeros((3, 2, 2, 3)), "b": np.ones((3, 2, 2, 3))}, 1)[:, 0, 0, 0].tolist()
        [0.0, 1.0]
    """
    per_kind = validate.positive_int(per_kind, "per_kind")
    return np.concatenate([np.asarray(images)[:per_kind] for images in novel.values()])


def reconstruction_errors(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Each image's reconstruction MSE under a model, float64 ``(N,)``."""
    x = validate.float_images(x, "x")
    pred = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    return np.mean((pred - x) ** 2, axis=(1, 2, 3))


def novelty_auc(in_distribution: np.ndarray, novel: np.ndarray) -> float:
    """ROC AUC of reconstruction error as a detector of novel images (1: every novel image has a larger error).

    Example:
        >>> novelty_auc(np.array([0.1, 0.2]), np.array([0.3, 0.15]))
        0.75
    """
    from sklearn.metrics import roc_auc_score

    a, b = np.asarray(in_distribution, np.float64), np.asarray(novel, np.float64)
    if a.ndim != 1 or b.ndim != 1 or not len(a) or not len(b):
        raise ValueError("give two non-empty 1-D arrays of errors")
    return float(roc_auc_score(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a, b]))


def embedding_2d(codes: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """A 2-D t-SNE embedding of codes (scikit-learn, PCA initialisation, seeded), float32 ``(N, 2)``."""
    from sklearn.manifold import TSNE

    codes = _features(codes, "codes")
    tsne = TSNE(n_components=2, perplexity=min(float(perplexity), (len(codes) - 1) / 3.0), init="pca",
                random_state=validate.non_negative_int(seed, "seed"))
    return tsne.fit_transform(codes).astype(np.float32)


def rank_relation(x, y) -> dict:
    """Spearman's rank correlation of two paired samples and its two-sided p-value (SciPy).

    Example:
        >>> rank_relation([1, 2, 3, 4], [10, 20, 30, 40])["rho"]
        1.0
    """
    from scipy.stats import spearmanr

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ValueError("give two paired 1-D samples of at least 3 values")
    result = spearmanr(x, y)
    return {"rho": float(result.statistic), "p_value": float(result.pvalue), "n": int(len(x))}


def from_runs(results: Mapping) -> tuple[dict, dict[str, float]]:
    """``({name: model}, {name: test PSNR, global})`` of trained runs (:class:`cae_lib.training.RunResult`).

    Example:
        >>> from types import SimpleNamespace
        >>> from_runs({"a": SimpleNamespace(model="m", test_metrics={"psnr_global_db": 24.0})})
        ({'a': 'm'}, {'a': 24.0})
    """
    return ({name: r.model for name, r in results.items()},
            {name: float(r.test_metrics["psnr_global_db"]) for name, r in results.items()})


def probe_split(data, labels, per_class: int | None = None, seed: int = 0):
    """The images and class labels a probe trains and is scored on: a stratified subset of the training part.

    Args:
        data: a :class:`cae_lib.tasks.TaskData` of the reconstruction task.
        labels: the class labels of the whole pooled dataset (:attr:`cae_lib.data.CifarData.labels`).
        per_class: training images of each class to keep (:func:`cae_lib.data.stratified_subset`);
            ``None`` keeps the whole training part.
        seed: the subset's hash seed.

    Returns:
        ``(x_train, y_train, y_test)``; the probe is scored on all of ``data.x_test``.

    Example:
        >>> from types import SimpleNamespace
        >>> td = SimpleNamespace(x_train=np.arange(4.0), train_index=np.array([0, 1, 2, 3]),
        ...                      test_index=np.array([4]))
        >>> x, y, y_test = probe_split(td, np.array([0, 0, 1, 1, 1]), per_class=1)
        >>> x.shape, y.tolist(), y_test.tolist()
        ((2,), [0, 1], [1])
    """
    from cae_lib.data import stratified_subset

    labels = np.asarray(labels)
    index = np.asarray(data.train_index, np.int64)
    position = np.arange(len(index))
    if per_class is not None:
        keep = stratified_subset(index, labels, per_class, seed=seed)
        position = np.flatnonzero(np.isin(index, keep))
    return data.x_train[position], labels[index[position]], labels[np.asarray(data.test_index, np.int64)]


def probe_features(models: Mapping, x_train: np.ndarray, x_test: np.ndarray, *, pca=None,
                   pca_sizes: Sequence[int] = ()) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Features of the training and test images for each question here: raw pixels, PCA, every model's code.

    Args:
        models: ``{name: model}`` (skip connections allowed: only the latent is used).
        x_train, x_test: the images the probe trains and is scored on.
        pca: a :class:`cae_lib.codecs.PCABasis` fitted on the training part, or ``None``.
        pca_sizes: numbers of PCA coefficients to keep (one baseline each; at most the basis' size).

    Returns:
        ``{"pixels": (train, test), "PCA-k": ..., name: ...}`` in that order, float32 ``(N, D)`` each.

    Example:
        >>> f = probe_features({}, np.zeros((4, 2, 2, 3), np.float32), np.zeros((2, 2, 2, 3), np.float32))
        >>> list(f), f["pixels"][0].shape
        (['pixels'], (4, 12))
    """
    out = {"pixels": (pixel_features(x_train), pixel_features(x_test))}
    if pca_sizes:
        if pca is None:
            raise ValueError("pca_sizes needs a fitted PCA basis (pca=...)")
        train, test = pca.encode(x_train), pca.encode(x_test)
        for k in sorted(validate.positive_int(k, "pca size") for k in pca_sizes):
            if k > train.shape[1]:
                raise ValueError(f"PCA-{k} needs {k} components; the basis has {train.shape[1]}")
            out[f"PCA-{k}"] = (train[:, :k], test[:, :k])
    for name, model in models.items():
        out[name] = (latent_codes(model, x_train), latent_codes(model, x_test))
    return out


def probe_rows(features: Mapping[str, tuple[np.ndarray, np.ndarray]], y_train, y_test, *, k: int = 5,
               C: float = 1.0) -> list[dict]:
    """A linear probe and a ``k``-nearest-neighbour classifier on each feature set, one row each.

    Args:
        features: :func:`probe_features`'s output.
        y_train, y_test: the class labels of the training and test images.
        k: neighbours of the k-NN classifier.
        C: the probe's inverse regularisation strength.

    Returns:
        ``[{"features", "values", "probe_accuracy", "ci_low", "ci_high", "knn_accuracy", "n_train", "n_test"}]``.
    """
    rows = []
    for name, (train, test) in features.items():
        probe = linear_probe(train, y_train, test, y_test, C=C)
        rows.append({"features": name, "values": probe["features"], "probe_accuracy": probe["accuracy"],
                     "ci_low": probe["ci_low"], "ci_high": probe["ci_high"],
                     "knn_accuracy": knn_accuracy(train, y_train, test, y_test, k=k),
                     "n_train": probe["n_train"], "n_test": probe["n_test"]})
    return rows


def probe_all(models: Mapping, psnr: Mapping[str, float], x_train, y_train, x_test, y_test, *, pca=None,
              k: int = 5, C: float = 1.0):
    """Chapter 6's probe table: every model's code, raw pixels and PCA at each code size the basis holds.

    Args:
        models: ``{name: model}``.
        psnr: ``{name: test PSNR}`` of the same models (added to their rows, for the relation).
        x_train, y_train, x_test, y_test: the probe's images and labels (:func:`probe_split`).
        pca: a fitted :class:`cae_lib.codecs.PCABasis`; PCA baselines are made at every code size it can hold.
        k, C: as in :func:`probe_rows`.

    Returns:
        ``(features, model_rows, baseline_rows)``: :func:`probe_features`'s output, the models' rows (with
        ``psnr_global_db``) and the rows of pixels and PCA.

    Example:
        >>> x, y = np.random.default_rng(0).random((20, 2, 2, 3), np.float32), np.arange(20) % 2
        >>> _, models_, base = probe_all({}, {}, x, y, x, y, k=1)
        >>> [r["features"] for r in base], models_
        (['pixels'], [])
    """
    if set(models) != set(psnr):
        raise ValueError(f"psnr must name the same models as models; got {sorted(psnr)} for {sorted(models)}")
    sizes = []
    if pca is not None:
        from cae_lib.models import spec_of

        held = pca.components.shape[0]
        sizes = sorted({size for size in (spec_of(m).latent_size for m in models.values()) if size <= held})
    features = probe_features(models, x_train, x_test, pca=pca, pca_sizes=sizes)
    rows = probe_rows(features, y_train, y_test, k=k, C=C)
    model_rows = [{**r, "psnr_global_db": float(psnr[r["features"]])} for r in rows if r["features"] in models]
    return features, model_rows, [r for r in rows if r["features"] not in models]


def retrieval_rows(x_train, queries, features: Mapping[str, tuple[np.ndarray, np.ndarray]], query_index,
                   k: int = 5) -> dict[str, list[np.ndarray]]:
    """Rows of :func:`cae_lib.plots.photo_grid`: each query, then its ``k`` nearest training images by each feature.

    Args:
        x_train: the training images the features' first part describes.
        queries: the test images the features' second part describes.
        features: ``{label: (train features, test features)}``.
        query_index: positions of the queries among the test features.

    Returns:
        ``{"query i, by <label>": [query, 1st, ..., k-th neighbour]}``.
    """
    rows = {}
    for q in np.asarray(query_index, dtype=np.int64):
        for label, (train, test) in features.items():
            nearest = nearest_neighbours(train, test[q:q + 1], k)[0]
            rows[f"{int(q)}: {label}"] = [queries[q], *x_train[nearest]]
    return rows


def novelty_rows(models: Mapping, x_test: np.ndarray, novel: Mapping[str, np.ndarray]) -> tuple[list[dict], dict]:
    """How well each model's reconstruction error tells each kind of novel image from the test images.

    Returns:
        ``(rows, errors)``: rows ``{"model", "kind", "median_mse", "test_median_mse", "auc"}``, and
        ``errors[model] = {"test images": errors, kind: errors, ...}`` for a histogram.
    """
    rows, errors = [], {}
    for name, model in models.items():
        errors[name] = {"test images": reconstruction_errors(model, x_test)}
        for kind, images in novel.items():
            e = errors[name][kind] = reconstruction_errors(model, images)
            rows.append({"model": name, "kind": kind, "median_mse": float(np.median(e)),
                         "test_median_mse": float(np.median(errors[name]["test images"])),
                         "auc": novelty_auc(errors[name]["test images"], e)})
    return rows, errors
