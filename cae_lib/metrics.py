"""Evaluation metrics for reconstructions and colorizations (NumPy only).

All image metrics take arrays shaped ``(N, H, W, C)`` (a single ``(H, W, C)``
image is treated as ``N = 1``) with values in ``[0, 1]`` and are computed in
float64, chunk by chunk, so a test set of several thousand CIFAR-10 images never
needs more than a few tens of megabytes of temporaries.

PSNR comes in two flavours that differ by one to several dB on real data, so
every table must say which one it shows:

- ``psnr_global_db`` = ``10 * log10(1 / MSE)`` with the MSE taken over the whole
  set (the PSNR of the mean squared error);
- ``psnr_mean_db`` = the mean of the per-image PSNRs (the mean of the logs, which
  favours sets whose error is unevenly spread).

A perfect image has infinite PSNR; per-image PSNRs are capped at
:data:`PSNR_CAP_DB` (100 dB, i.e. an MSE of 1e-10) so one perfect image cannot make
the mean infinite.

TensorFlow/Keras are never imported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

__all__ = [
    "PSNR_CAP_DB",
    "DEFAULT_CHUNK_SIZE",
    "mse",
    "mae",
    "psnr_from_mse",
    "psnr_global",
    "psnr_mean",
    "ssim",
    "ssim_per_image",
    "per_image_metrics",
    "reconstruction_metrics",
    "colourfulness",
    "colorization_metrics",
    "bce",
    "bce_floor",
    "keras_accuracy_kind",
    "keras_accuracy",
]

#: Upper bound applied to every PSNR value, in dB (an MSE of ``1e-10``, peak 1.0).
PSNR_CAP_DB = 100.0
#: Images processed at once by the chunked metrics.
DEFAULT_CHUNK_SIZE = 512

# SSIM constants of Wang et al. (2004), "Image quality assessment: from error
# visibility to structural similarity", IEEE TIP 13(4).
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03

# Hasler & Suesstrunk (2003) weight of the mean term in the colourfulness metric.
_COLOURFULNESS_MEAN_WEIGHT = 0.3

# Keras' default fuzz factor, ``keras.config.epsilon()``.
KERAS_EPSILON = 1e-7

_ACCURACY_KINDS = ("binary", "categorical", "sparse_categorical")


# ---------------------------------------------------------------------------
# input checks and chunking
# ---------------------------------------------------------------------------


def _as_batch(x: np.ndarray, name: str) -> np.ndarray:
    """Return ``x`` as an ``(N, H, W, C)`` array (a ``(H, W, C)`` image gets ``N = 1``)."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(
            f"{name} must have shape (N, H, W, C) or (H, W, C); got shape {x.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); pass at least one image")
    return x


def _check_pair(y_true, y_pred, names=("y_true", "y_pred")) -> tuple[np.ndarray, np.ndarray]:
    """Validate two image batches in ``[0, 1]`` with equal shapes."""
    a = _as_batch(y_true, names[0])
    b = _as_batch(y_pred, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got {a.shape} and {b.shape}"
        )
    for arr, name in ((a, names[0]), (b, names[1])):
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(
                f"{name} must be a float array scaled to [0, 1]; got dtype {arr.dtype} "
                "(convert uint8 images with cae_lib.data.to_float)"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if a.min() < 0.0 or a.max() > 1.0:
        raise ValueError(
            f"{names[0]} must lie in [0, 1]; got values in [{a.min():.4g}, {a.max():.4g}] "
            "(divide 0-255 images by 255)"
        )
    return a, b


def _check_chunk_size(chunk_size: int) -> int:
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    return int(chunk_size)


def _chunks(n: int, chunk_size: int) -> Iterator[slice]:
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


# ---------------------------------------------------------------------------
# pixel errors and PSNR
# ---------------------------------------------------------------------------


def _per_image_errors(a: np.ndarray, b: np.ndarray, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-image mean squared and mean absolute error (float64 arrays of length N)."""
    n = a.shape[0]
    sq = np.empty(n, dtype=np.float64)
    ab = np.empty(n, dtype=np.float64)
    for sl in _chunks(n, chunk_size):
        d = a[sl].astype(np.float64) - b[sl].astype(np.float64)
        d = d.reshape(d.shape[0], -1)
        sq[sl] = np.mean(d * d, axis=1)
        ab[sl] = np.mean(np.abs(d), axis=1)
    return sq, ab


def mse(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Mean squared error over all images, pixels and channels.

    Args:
        y_true: reference images ``(N, H, W, C)`` or ``(H, W, C)``, floats in [0, 1].
        y_pred: reconstructions of the same shape.
        chunk_size: images processed at once.

    Returns:
        The MSE as a Python float.

    Raises:
        ValueError: on mismatched shapes, integer dtypes, non-finite values or a
            reference outside [0, 1].

    >>> mse(np.zeros((1, 2, 2, 1)), np.full((1, 2, 2, 1), 0.5))
    0.25
    """
    a, b = _check_pair(y_true, y_pred)
    sq, _ = _per_image_errors(a, b, _check_chunk_size(chunk_size))
    return float(np.mean(sq))


def mae(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Mean absolute error over all images, pixels and channels.

    Args/Raises as :func:`mse`.

    Returns:
        The MAE as a Python float.

    >>> mae(np.zeros((1, 2, 2, 1)), np.full((1, 2, 2, 1), 0.5))
    0.5
    """
    a, b = _check_pair(y_true, y_pred)
    _, ab = _per_image_errors(a, b, _check_chunk_size(chunk_size))
    return float(np.mean(ab))


def psnr_from_mse(mse_value, cap_db: float = PSNR_CAP_DB):
    """PSNR in dB for peak 1.0: ``min(10 * log10(1 / mse), cap_db)``.

    Args:
        mse_value: a mean squared error (scalar or array), ``>= 0``.
        cap_db: value returned for an MSE of 0 and upper bound for tiny MSEs.

    Returns:
        A float for a scalar input, otherwise a float64 array.

    Raises:
        ValueError: if an MSE is negative or not finite.

    >>> psnr_from_mse(0.01)
    20.0
    >>> psnr_from_mse(0.0)
    100.0
    """
    m = np.asarray(mse_value, dtype=np.float64)
    if not np.isfinite(m).all() or (m < 0).any():
        raise ValueError(f"an MSE must be finite and >= 0; got {mse_value!r}")
    with np.errstate(divide="ignore"):
        out = np.minimum(-10.0 * np.log10(m), cap_db)
    return float(out) if out.ndim == 0 else out


def psnr_global(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """``10 * log10(1 / MSE)`` with the MSE over the whole set (peak 1.0, capped).

    >>> psnr_global(np.zeros((2, 2, 2, 1)), np.full((2, 2, 2, 1), 0.1))
    20.0
    """
    return psnr_from_mse(mse(y_true, y_pred, chunk_size))


def psnr_mean(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Mean of the per-image PSNRs (peak 1.0; each capped at :data:`PSNR_CAP_DB`).

    >>> y = np.zeros((2, 2, 2, 1))
    >>> p = y.copy(); p[1] = 0.1            # image 0 perfect (100 dB), image 1 20 dB
    >>> psnr_mean(y, p)
    60.0
    """
    a, b = _check_pair(y_true, y_pred)
    sq, _ = _per_image_errors(a, b, _check_chunk_size(chunk_size))
    return float(np.mean(psnr_from_mse(sq)))


# ---------------------------------------------------------------------------
# SSIM
# ---------------------------------------------------------------------------


def _gaussian_kernel(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian taps, as ``scipy.ndimage`` and ``cv2.getGaussianKernel`` build them."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _valid_filter_matrix(length: int, kernel: np.ndarray) -> np.ndarray:
    """Banded ``(length - k + 1, length)`` matrix whose product is a 'valid' correlation."""
    k = kernel.size
    out = np.zeros((length - k + 1, length), dtype=np.float64)
    for i in range(out.shape[0]):
        out[i, i : i + k] = kernel
    return out


def ssim_per_image(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    """SSIM of each image (Wang et al. 2004), channels averaged.

    Gaussian window 11x11 with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1,
    population (not sample) covariances. The local statistics are computed only
    where the whole window fits inside the image (a 'valid' filter, as in Wang's
    reference MATLAB code), so for a 32x32 image the SSIM map is 22x22 and no
    border padding is ever used. ``skimage.metrics.structural_similarity`` filters
    with reflected borders and then crops 5 pixels from each side before
    averaging, which keeps exactly the same 22x22 values: the two agree to
    floating-point rounding (tested to ``atol=1e-10`` on float64 input).

    The separable filter is applied as two small matrix products per chunk.

    Args:
        y_true: reference images ``(N, H, W, C)`` or ``(H, W, C)``, floats in [0, 1],
            with ``H, W >= 11``.
        y_pred: reconstructions of the same shape.
        chunk_size: images processed at once.

    Returns:
        float64 array of length N.

    Raises:
        ValueError: as :func:`mse`, or if an image is smaller than the 11x11 window.

    >>> x = np.random.default_rng(0).random((2, 16, 16, 3))
    >>> ssim_per_image(x, x)
    array([1., 1.])
    """
    a, b = _check_pair(y_true, y_pred)
    chunk_size = _check_chunk_size(chunk_size)
    n, h, w, _ = a.shape
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels; got {h}x{w}"
        )
    g = _gaussian_kernel()
    gh = _valid_filter_matrix(h, g)  # (h', h)
    gw_t = _valid_filter_matrix(w, g).T  # (w, w')
    c1 = (SSIM_K1 * 1.0) ** 2
    c2 = (SSIM_K2 * 1.0) ** 2
    out = np.empty(n, dtype=np.float64)
    for sl in _chunks(n, chunk_size):
        # (m, C, H, W) so that the two filter products act on the last two axes.
        x = np.moveaxis(a[sl].astype(np.float64), -1, 1)
        y = np.moveaxis(b[sl].astype(np.float64), -1, 1)
        stack = np.stack([x, y, x * x, y * y, x * y])  # (5, m, C, H, W)
        mu_x, mu_y, exx, eyy, exy = gh @ stack @ gw_t
        sxx = exx - mu_x * mu_x
        syy = eyy - mu_y * mu_y
        sxy = exy - mu_x * mu_y
        num = (2.0 * mu_x * mu_y + c1) * (2.0 * sxy + c2)
        den = (mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2)
        out[sl] = (num / den).reshape(num.shape[0], -1).mean(axis=1)
    return out


def ssim(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Mean SSIM over images (see :func:`ssim_per_image` for the definition).

    >>> x = np.random.default_rng(0).random((2, 16, 16, 3))
    >>> ssim(x, x)
    1.0
    """
    return float(np.mean(ssim_per_image(y_true, y_pred, chunk_size)))


# ---------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------


def per_image_metrics(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> dict[str, np.ndarray]:
    """Per-image MSE, MAE, PSNR (dB, capped) and SSIM, e.g. to pick best/worst images.

    Returns:
        dict with float64 arrays of length N under ``"mse"``, ``"mae"``,
        ``"psnr_db"`` and ``"ssim"``.

    >>> y = np.zeros((2, 12, 12, 1)); p = y + 0.1
    >>> per_image_metrics(y, p)["psnr_db"]
    array([20., 20.])
    """
    a, b = _check_pair(y_true, y_pred)
    chunk_size = _check_chunk_size(chunk_size)
    sq, ab = _per_image_errors(a, b, chunk_size)
    return {
        "mse": sq,
        "mae": ab,
        "psnr_db": psnr_from_mse(sq),
        "ssim": ssim_per_image(a, b, chunk_size),
    }


def reconstruction_metrics(y_true, y_pred, chunk_size: int = DEFAULT_CHUNK_SIZE) -> dict[str, float]:
    """Test-set summary of a reconstruction.

    Args:
        y_true: reference images ``(N, H, W, C)``, floats in [0, 1].
        y_pred: reconstructions, same shape (values outside [0, 1] are allowed).
        chunk_size: images processed at once.

    Returns:
        dict of floats: ``mse``, ``mae``, ``psnr_global_db`` (from the set's MSE),
        ``psnr_mean_db`` (mean of per-image PSNRs, each capped at 100 dB), ``ssim``
        (mean over images) and ``n_images``.

    Raises:
        ValueError: as :func:`mse`.

    >>> y = np.zeros((2, 12, 12, 3)); p = y + 0.1
    >>> r = reconstruction_metrics(y, p)
    >>> round(r["mse"], 6), round(r["psnr_global_db"], 6), r["n_images"]
    (0.01, 20.0, 2)
    """
    per = per_image_metrics(y_true, y_pred, chunk_size)
    return {
        "mse": float(np.mean(per["mse"])),
        "mae": float(np.mean(per["mae"])),
        "psnr_global_db": psnr_from_mse(float(np.mean(per["mse"]))),
        "psnr_mean_db": float(np.mean(per["psnr_db"])),
        "ssim": float(np.mean(per["ssim"])),
        "n_images": int(per["mse"].size),
    }


# ---------------------------------------------------------------------------
# colorization
# ---------------------------------------------------------------------------


def colourfulness(rgb) -> float | np.ndarray:
    """Colourfulness of Hasler & Suesstrunk (2003), "Measuring colourfulness in natural images".

    On a 0-255 scale, ``rg = R - G`` and ``yb = (R + G) / 2 - B`` per pixel, and
    ``M = sqrt(std_rg**2 + std_yb**2) + 0.3 * sqrt(mean_rg**2 + mean_yb**2)`` with
    population standard deviations over the image's pixels. A grey image scores
    0; the paper calls roughly 33 "moderately", 59 "quite" and 82 "highly"
    colourful.

    Args:
        rgb: ``(H, W, 3)`` or ``(N, H, W, 3)``; uint8 (0-255) or float in [0, 1]
            (multiplied by 255).

    Returns:
        A float for one image, a float64 array of length N for a batch.

    Raises:
        ValueError: on a wrong shape, or floats outside [0, 1].

    >>> colourfulness(np.full((4, 4, 3), 0.5))
    0.0
    >>> px = np.array([[[255, 0, 0], [0, 0, 0]]], dtype=np.uint8)   # red + black
    >>> round(colourfulness(px), 3)                                # 1.3 * 63.75 * sqrt(5)
    185.314
    """
    x = np.asarray(rgb)
    single = x.ndim == 3
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        raise ValueError(f"rgb must have shape (H, W, 3) or (N, H, W, 3); got {x.shape}")
    if x.size == 0:
        raise ValueError(f"rgb is empty (shape {x.shape})")
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all() or x.min() < 0.0 or x.max() > 1.0:
            raise ValueError(
                "float rgb must lie in [0, 1] (pass uint8 for 0-255 images); "
                f"got values in [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]"
            )
        x = x.astype(np.float64) * 255.0
    elif x.dtype == np.uint8:
        x = x.astype(np.float64)
    else:
        raise ValueError(f"rgb must be uint8 or float in [0, 1]; got dtype {x.dtype}")
    if single:
        x = x[None]
    x = x.reshape(x.shape[0], -1, 3)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    spread = np.sqrt(rg.var(axis=1) + yb.var(axis=1))
    centre = np.sqrt(rg.mean(axis=1) ** 2 + yb.mean(axis=1) ** 2)
    m = spread + _COLOURFULNESS_MEAN_WEIGHT * centre
    return float(m[0]) if single else m


def colorization_metrics(
    rgb_true, rgb_pred, ab_true, ab_pred, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> dict[str, float]:
    """Metrics of a colorization: RGB reconstruction, a*b* error and colourfulness.

    PSNR and SSIM on the rebuilt RGB reward grey, desaturated predictions (the
    average colour is the MSE-optimal guess), so the colourfulness of the outputs
    is reported next to that of the originals.

    Args:
        rgb_true: original images ``(N, H, W, 3)``, floats in [0, 1].
        rgb_pred: colorized images rebuilt from L and the predicted a*b*
            (e.g. ``cae_lib.color.rebuild_rgb``), same shape, floats in [0, 1].
        ab_true: the originals' a*, b* channels ``(N, H, W, 2)`` in **CIE units**
            (roughly -128..127), *not* the network's ``ab / AB_SCALE`` scale;
            convert with ``cae_lib.color.model_to_lab`` first.
        ab_pred: the predicted a*, b* in CIE units, same shape.
        chunk_size: images processed at once.

    Returns:
        dict of floats: the keys of :func:`reconstruction_metrics` computed on the
        RGB images, plus ``ab_mae`` and ``ab_rmse`` (over both channels, CIE
        units), ``ab_delta_mean`` (mean Euclidean distance in the a*b* plane,
        which is the CIE76 Delta E since L is shared), ``colourfulness_pred`` and
        ``colourfulness_true`` (means over images).

    Raises:
        ValueError: on mismatched shapes or bad ranges.

    >>> rgb = np.full((1, 12, 12, 3), 0.5); ab = np.zeros((1, 12, 12, 2))
    >>> m = colorization_metrics(rgb, rgb, ab, ab + 3.0)
    >>> m["ab_mae"], m["ab_rmse"], round(m["ab_delta_mean"], 4), m["colourfulness_true"]
    (3.0, 3.0, 4.2426, 0.0)
    """
    chunk_size = _check_chunk_size(chunk_size)
    rgb_t, rgb_p = _check_pair(rgb_true, rgb_pred, ("rgb_true", "rgb_pred"))
    if rgb_t.shape[-1] != 3:
        raise ValueError(f"rgb_true must have 3 channels; got shape {rgb_t.shape}")
    ab_t = _as_batch(ab_true, "ab_true")
    ab_p = _as_batch(ab_pred, "ab_pred")
    expected = rgb_t.shape[:-1] + (2,)
    for arr, name in ((ab_t, "ab_true"), (ab_p, "ab_pred")):
        if arr.shape != expected:
            raise ValueError(f"{name} must have shape {expected} (a*, b* of the RGB images); got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite floats in CIE units")

    out: dict[str, float] = dict(reconstruction_metrics(rgb_t, rgb_p, chunk_size))
    n = ab_t.shape[0]
    abs_sum = sq_sum = dist_sum = 0.0
    col_pred = np.empty(n)
    col_true = np.empty(n)
    for sl in _chunks(n, chunk_size):
        d = ab_t[sl].astype(np.float64) - ab_p[sl].astype(np.float64)
        abs_sum += float(np.abs(d).sum())
        sq = d * d
        sq_sum += float(sq.sum())
        dist_sum += float(np.sqrt(sq.sum(axis=-1)).sum())
        col_pred[sl] = colourfulness(np.clip(rgb_p[sl], 0.0, 1.0))
        col_true[sl] = colourfulness(rgb_t[sl])
    n_values = ab_t.size
    out["ab_mae"] = abs_sum / n_values
    out["ab_rmse"] = math.sqrt(sq_sum / n_values)
    out["ab_delta_mean"] = dist_sum / (n_values // 2)
    out["colourfulness_pred"] = float(col_pred.mean())
    out["colourfulness_true"] = float(col_true.mean())
    return out


# ---------------------------------------------------------------------------
# binary cross-entropy
# ---------------------------------------------------------------------------


def bce(y_true, y_pred, epsilon: float = KERAS_EPSILON, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Mean binary cross-entropy, clipped as Keras does.

    Keras (``backend/*/nn.py: binary_crossentropy``) clips the *prediction* to
    ``[epsilon, 1 - epsilon]`` and leaves the target alone:
    ``-[y log p + (1 - y) log(1 - p)]``, averaged over every value.

    Args:
        y_true: targets in [0, 1] (any shape).
        y_pred: predicted probabilities, same shape.
        epsilon: clipping constant (``keras.config.epsilon()``, 1e-7 by default).
        chunk_size: leading-axis rows processed at once.

    Returns:
        The mean BCE in nats, as a float.

    Raises:
        ValueError: on mismatched shapes, empty input, or targets outside [0, 1].

    >>> round(bce([[1.0, 0.0]], [[0.5, 0.5]]), 6)   # log 2
    0.693147
    """
    t = np.atleast_1d(np.asarray(y_true))
    p = np.atleast_1d(np.asarray(y_pred))
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("y_true is empty")
    if not 0.0 < epsilon < 0.5:
        raise ValueError(f"epsilon must be in (0, 0.5); got {epsilon}")
    if t.min() < 0 or t.max() > 1:
        raise ValueError(f"targets must lie in [0, 1]; got [{t.min():.4g}, {t.max():.4g}]")
    chunk_size = _check_chunk_size(chunk_size)
    total = 0.0
    for sl in _chunks(t.shape[0], chunk_size):
        y = t[sl].astype(np.float64)
        q = np.clip(p[sl].astype(np.float64), epsilon, 1.0 - epsilon)
        total += float(-(y * np.log(q) + (1.0 - y) * np.log1p(-q)).sum())
    return total / t.size


def bce_floor(targets, epsilon: float = KERAS_EPSILON, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    """Binary cross-entropy of a *perfect* reconstruction (``y_pred == targets``).

    For targets that are not 0/1 the BCE never reaches 0: its minimum is the mean
    binary entropy ``-[y log y + (1 - y) log(1 - y)]`` of the target values (with
    Keras' clipping, which adds about 1e-7 at 0 and 1). A BCE-trained autoencoder's
    loss should be read against this floor, not against 0.

    Args:
        targets: values in [0, 1], e.g. CIFAR-10 images scaled by 1/255.
        epsilon: Keras' clipping constant.
        chunk_size: leading-axis rows processed at once.

    Returns:
        The floor in nats, as a float.

    >>> round(bce_floor([0.5]), 6)        # one fair coin: log 2
    0.693147
    >>> bce_floor([0.0, 1.0]) < 1e-6
    True
    """
    return bce(targets, targets, epsilon=epsilon, chunk_size=chunk_size)


# ---------------------------------------------------------------------------
# Keras' "accuracy"
# ---------------------------------------------------------------------------


def keras_accuracy_kind(y_true_shape, y_pred_shape) -> str:
    """Which accuracy Keras 3 picks for ``metrics=["accuracy"]`` given the shapes.

    Mirrors ``keras/src/trainers/compile_utils.py``: ``get_metric`` calls
    ``is_binary_or_sparse_categorical(y_true, y_pred)``: a last prediction axis of
    1 gives ``BinaryAccuracy``; ``y_true`` of lower rank (or with last axis 1
    against a wider prediction) gives ``SparseCategoricalAccuracy``; anything else
    ``CategoricalAccuracy``. The compiled loss plays no part.

    Returns:
        ``"binary"``, ``"sparse_categorical"`` or ``"categorical"``.

    >>> keras_accuracy_kind((8, 32, 32, 3), (8, 32, 32, 3))
    'categorical'
    >>> keras_accuracy_kind((8, 32, 32, 1), (8, 32, 32, 1))
    'binary'
    """
    t, p = tuple(y_true_shape), tuple(y_pred_shape)
    if not t or not p:
        raise ValueError(f"shapes must have at least one axis; got {t} and {p}")
    if p[-1] == 1:
        return "binary"
    if len(t) < len(p) or (t[-1] == 1 and p[-1] > 1):
        return "sparse_categorical"
    return "categorical"


def keras_accuracy(y_true, y_pred, kind: str | None = None, threshold: float = 0.5) -> float:
    """NumPy copy of what Keras' ``"accuracy"`` reports for an autoencoder.

    With ``model.compile(loss=..., metrics=["accuracy"])`` Keras 3 chooses the
    accuracy from the *shapes* only (see :func:`keras_accuracy_kind`), whatever
    the loss (mse, mae or binary_crossentropy alike). For this autoencoder,
    ``y_true`` and ``y_pred`` are both ``(N, 32, 32, 3)`` so it is
    **categorical accuracy**: per pixel, ``argmax`` over the three channels of the
    target equals ``argmax`` of the reconstruction, i.e. "is the dominant RGB
    channel the same", averaged over pixels and images. For the colorization
    network (``(N, H, W, 2)`` a*, b* outputs) it asks whether ``a > b`` on both
    sides. For a one-channel output it is binary accuracy,
    ``y_true == (y_pred > threshold)`` with exact float equality, so only target
    pixels that are exactly 0 or 1 can ever count.

    Why it is a poor measure of reconstruction: it ignores brightness, contrast
    and the size of every error; a uniformly darkened or washed-out image with
    the same channel ordering scores 100 %, while a near-perfect reconstruction
    of a near-grey pixel flips its argmax on the smallest error. Ties decide many
    pixels: ``argmax`` returns the *first* maximal channel (NumPy, and TensorFlow
    on CPU, "returns the smallest index in case of ties"), so every grey target
    pixel (R = G = B, common with 8-bit data) counts as "red" and is right only
    when red is also the prediction's first maximal channel.

    Args:
        y_true: targets, e.g. ``(N, H, W, C)``.
        y_pred: model outputs of the same shape (for ``"sparse_categorical"``,
            ``y_true`` holds integer labels without the class axis).
        kind: ``None`` (choose as Keras does), ``"binary"``, ``"categorical"`` or
            ``"sparse_categorical"``.
        threshold: binary accuracy's threshold (Keras' default 0.5, strict ``>``).

    Returns:
        The accuracy in [0, 1] as a float (mean over all positions; Keras averages
        per sample then over samples, which is the same for equal-sized samples).

    Raises:
        ValueError: on an unknown ``kind`` or incompatible shapes.

    >>> y = np.array([[[0.9, 0.1, 0.0], [0.2, 0.2, 0.2]]])      # 2 pixels
    >>> p = np.array([[[0.5, 0.4, 0.0], [0.1, 0.3, 0.2]]])
    >>> keras_accuracy(y, p)      # pixel 1 agrees (red), grey pixel 2 -> red vs green
    0.5
    """
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.size == 0 or p.size == 0:
        raise ValueError("y_true and y_pred must not be empty")
    if kind is None:
        kind = keras_accuracy_kind(t.shape, p.shape)
    if kind not in _ACCURACY_KINDS:
        raise ValueError(f"kind must be None or one of {_ACCURACY_KINDS}; got {kind!r}")
    if kind == "binary":
        if t.shape != p.shape:
            raise ValueError(f"binary accuracy needs equal shapes; got {t.shape} and {p.shape}")
        hit = t == (p > threshold).astype(t.dtype)
    elif kind == "categorical":
        if t.shape != p.shape:
            raise ValueError(f"categorical accuracy needs equal shapes; got {t.shape} and {p.shape}")
        hit = np.argmax(t, axis=-1) == np.argmax(p, axis=-1)
    else:
        labels = t[..., 0] if t.ndim == p.ndim and t.shape[-1] == 1 else t
        if labels.shape != p.shape[:-1]:
            raise ValueError(
                f"sparse labels of shape {t.shape} do not match predictions of shape {p.shape}"
            )
        hit = labels == np.argmax(p, axis=-1).astype(labels.dtype)
    return float(np.mean(hit))
