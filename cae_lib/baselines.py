"""Classical baselines of colorization and denoising: functions from arrays to a prediction like the task's target.

Every baseline returns float32 arrays on the scale of the task's target, so the
library's one evaluation route scores a model's prediction and a baseline's
prediction the same way (the compression baselines, PCA and thumbnails, are
codecs: :mod:`cae_lib.codecs`):

- colorization (chapter 3): a*, b* in the network's scale ``ab / AB_SCALE``
  (:mod:`cae_lib.color`): :func:`grey_ab`, :func:`mean_ab`, :func:`constant_ab`
  and :func:`colorization_predictions`, keyed as :data:`COLORIZATION_BASELINES`;
- denoising (chapter 4): noisy images in [0, 1] -> restored images in [0, 1]:
  :func:`gaussian_blur`, :func:`nl_means` (with :func:`tune_nl_means` to pick its
  strength on the validation part) and, when the optional ``bm3d`` package is
  installed, :func:`bm3d`; :func:`denoising_scores` scores them all, cached.

Importing this module imports NumPy, OpenCV, :mod:`cae_lib.validate` and
:mod:`cae_lib.metrics` only, never TensorFlow/Keras; the ``bm3d`` package is
imported inside :func:`bm3d`.

Example:
    >>> import numpy as np
    >>> gaussian_blur(np.full((2, 8, 8, 3), 0.5, np.float32)).shape
    (2, 8, 8, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from cae_lib import metrics, validate

__all__ = [
    "COLORIZATION_BASELINES",
    "grey_ab",
    "mean_ab",
    "constant_ab",
    "colorization_predictions",
    "gaussian_blur",
    "nl_means",
    "NL_MEANS_HS",
    "tune_nl_means",
    "bm3d",
    "BM3D_MIN_SIDE",
    "denoising_scores",
]

#: Key -> table label of the colorization baselines (the keys chapter 3's tables use).
COLORIZATION_BASELINES = {
    "grey": "grey input (a* = b* = 0)",
    "train_mean": "training-set mean a*, b*",
}

#: The smallest side BM3D accepts: bm3d 4.0.3 ends the process with a segmentation fault on 8x8 images.
BM3D_MIN_SIDE = 9

#: Default grid of NLM strengths searched by :func:`tune_nl_means`, in 0..255 grey levels:
#: brackets the best h measured on CIFAR-10 (15 at noise sigma 0.1, 30 at sigma 0.2).
NL_MEANS_HS = (5, 10, 15, 20, 25, 30, 40, 50, 60)


# --------------------------------------------------------------------------------------
# checks shared by the baselines
# --------------------------------------------------------------------------------------


def _unit_images(x, what: str, channels=None) -> np.ndarray:
    """``x`` as float32 images ``(N, H, W, C)`` (see :func:`cae_lib.validate.float_images`)."""
    return validate.float_images(x, what, channels=channels).astype(np.float32, copy=False)


def _ab_shape(shape, what: str = "shape") -> tuple[int, ...]:
    """``shape`` as a tuple if it is ``(H, W, 2)`` or ``(N, H, W, 2)`` with positive sizes."""
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        out = ()
    if len(out) not in (3, 4) or out[-1] != 2 or min(out) < 1:
        raise ValueError(
            f"{what} must be (H, W, 2) or (N, H, W, 2) with positive sizes (a*, b* last); got {shape!r}"
        )
    return out


# --------------------------------------------------------------------------------------
# colorization
# --------------------------------------------------------------------------------------


def grey_ab(shape) -> np.ndarray:
    """The grey baseline: a* = b* = 0 everywhere, i.e. the grey input shown as it is.

    Args:
        shape: ``(H, W, 2)`` or ``(N, H, W, 2)``, the shape of the targets.

    Returns:
        float32 zeros of that shape (network scale ``ab / AB_SCALE``).

    Raises:
        ValueError: another shape.

    Example:
        >>> import numpy as np
        >>> g = grey_ab((1, 2, 2, 2))
        >>> float(np.abs(g).max()), g.dtype.name
        (0.0, 'float32')
    """
    return np.zeros(_ab_shape(shape), dtype=np.float32)


def mean_ab(y_train) -> np.ndarray:
    """Per-channel mean of the training targets, in the network's scale.

    The best constant prediction under a squared error.

    Args:
        y_train: training targets ``(N, H, W, 2)`` or ``(H, W, 2)``: a*/AB_SCALE, b*/AB_SCALE.

    Returns:
        float32 ``(2,)``: mean a*/AB_SCALE and mean b*/AB_SCALE over every
        pixel of every training image (accumulated in float64).

    Raises:
        ValueError: another shape, a non-float dtype or non-finite values.

    Example:
        >>> import numpy as np
        >>> y = np.zeros((2, 1, 1, 2), np.float32); y[0, ..., 0] = 0.5; y[1, ..., 1] = -0.25
        >>> mean_ab(y).tolist()
        [0.25, -0.125]
    """
    y = validate.float_images(y_train, "y_train", channels=2, ndim=(3, 4))
    return np.mean(y, axis=tuple(range(y.ndim - 1)), dtype=np.float64).astype(np.float32)


def constant_ab(ab, shape) -> np.ndarray:
    """One a*, b* pair (e.g. :func:`mean_ab`) for every pixel of every image.

    Args:
        ab: ``(2,)`` finite a*/AB_SCALE, b*/AB_SCALE.
        shape: ``(H, W, 2)`` or ``(N, H, W, 2)``.

    Returns:
        float32 array of that shape (a writable copy, not a broadcast view).

    Raises:
        ValueError: ``ab`` not two finite numbers, or a bad shape.

    Example:
        >>> constant_ab([0.25, -0.5], (1, 1, 2, 2))[0, 0].tolist()
        [[0.25, -0.5], [0.25, -0.5]]
    """
    pair = np.asarray(ab)
    if pair.shape != (2,) or not np.issubdtype(pair.dtype, np.number) or not np.isfinite(pair).all():
        raise ValueError(f"ab must be two finite numbers (a*/AB_SCALE, b*/AB_SCALE); got {ab!r}")
    return np.broadcast_to(pair.astype(np.float32), _ab_shape(shape)).copy()


def colorization_predictions(y_train, shape) -> dict[str, np.ndarray]:
    """Every colorization baseline's prediction, keyed as :data:`COLORIZATION_BASELINES`.

    Args:
        y_train: training targets (for the mean), as :func:`mean_ab`.
        shape: the shape of the targets to predict (e.g. ``y_test.shape``).

    Returns:
        ``{"grey": grey_ab(shape), "train_mean": constant_ab(mean_ab(y_train), shape)}``.

    Example:
        >>> import numpy as np
        >>> preds = colorization_predictions(np.full((3, 2, 2, 2), 0.1, np.float32), (1, 2, 2, 2))
        >>> sorted(preds), round(float(preds["train_mean"].mean()), 6)
        (['grey', 'train_mean'], 0.1)
    """
    shape = _ab_shape(shape)
    return {"grey": grey_ab(shape), "train_mean": constant_ab(mean_ab(y_train), shape)}


# --------------------------------------------------------------------------------------
# denoising
# --------------------------------------------------------------------------------------


def gaussian_blur(x, ksize: int = 3, sigma: float = 0.0) -> np.ndarray:
    """Gaussian blur of each image (``cv2.GaussianBlur``, borders reflected: ``BORDER_REFLECT_101``).

    Args:
        x: float images ``(N, H, W, C)`` (noisy, in [0, 1]).
        ksize: odd kernel side. On CIFAR-10, 3 (default) is the better blur at
            noise sigma 0.1 (24.8 dB against 23.6 for 5) and 5 at sigma 0.2
            (21.5 against 21.3 dB).
        sigma: the Gaussian's standard deviation in pixels; 0 lets OpenCV derive
            it from ``ksize`` (``0.3 * ((ksize - 1) / 2 - 1) + 0.8``, 0.8 for 3x3,
            taps 1/4, 1/2, 1/4).

    Returns:
        float32 ``(N, H, W, C)`` clipped to [0, 1].

    Raises:
        ValueError: bad images, an even or non-positive ``ksize`` or a negative ``sigma``.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((1, 5, 5, 1), np.float32); x[0, 2, 2] = 1.0   # an impulse: the kernel
        >>> gaussian_blur(x)[0, 1:4, 1:4, 0].tolist()
        [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]
    """
    arr = _unit_images(x, "x")
    ksize = validate.positive_int(ksize, "ksize")
    if ksize % 2 == 0:
        raise ValueError(f"ksize must be odd (a centred kernel); got {ksize}")
    if isinstance(sigma, bool) or not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0 (0: derived from ksize); got {sigma!r}")
    out = np.empty_like(arr)
    for i in range(arr.shape[0]):
        out[i] = cv2.GaussianBlur(arr[i], (ksize, ksize), float(sigma)).reshape(arr.shape[1:])
    return np.clip(out, 0.0, 1.0, out=out)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)


def nl_means(x, h: float, template: int = 3, search: int = 11, h_color: float | None = None) -> np.ndarray:
    """Non-local means (Buades et al. 2005) of each image, by OpenCV.

    Colour images go through ``cv2.fastNlMeansDenoisingColored`` (given in
    OpenCV's BGR order), which converts to 8-bit CIELAB, filters L* with
    strength ``h`` and a*, b* with ``hColor``, and converts back; grey images
    through ``cv2.fastNlMeansDenoising``. OpenCV works on uint8, so images are
    rounded to 0..255 first (at most 1/510 of error, about 59 dB PSNR on its
    own) and the result is divided by 255. The 8-bit Lab round trip of the
    colour route moves pixels by 0.7 levels on average (up to 4; 48 dB PSNR on
    uniformly random colours; a mid grey 0.5 comes back as 127/255): far below
    the noise levels this baseline is for.

    ``h`` is in grey levels of 0..255: a larger ``h`` removes more noise and
    more detail; pick it with :func:`tune_nl_means`.

    Window defaults for 32x32 images. OpenCV recommends 7x7 patches searched in
    21x21 windows for photographs of ordinary size; a 21x21 window covers most
    of a CIFAR-10 image, so dissimilar regions get averaged in. Smaller
    windows denoise CIFAR-10 better at both noise levels of chapter 4
    (``bench/bench_defaults.py``, each window at its best ``h``; last results
    in ``bench/results/defaults.md``).

    Args:
        x: float images ``(N, H, W, C)`` with C = 1 or 3, in [0, 1] (clipped).
        h: filter strength for luminance (> 0).
        template: odd side of the compared patches (3, for 32x32 images; see above).
        search: odd side of the window searched for similar patches (11, for
            32x32 images, and faster than 21; see above).
        h_color: strength for a*, b*; ``None`` (default) uses ``h``: the added
            noise is independent per RGB channel, so it reaches chroma as much
            as lightness.

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1], multiples of 1/255.

    Raises:
        ValueError: bad images or parameters.

    Example:
        >>> import numpy as np
        >>> x = np.full((1, 8, 8, 3), 0.4, np.float32)
        >>> np.unique(nl_means(x, h=10) * 255).round(3).tolist()   # constant stays constant
        [101.0]
    """
    arr = _unit_images(x, "x", channels=(1, 3))
    h = validate.positive_float(h, "h")
    h_color = h if h_color is None else validate.positive_float(h_color, "h_color")
    for value, what in ((template, "template"), (search, "search")):
        if validate.positive_int(value, what) % 2 == 0:
            raise ValueError(f"{what} must be an odd window side; got {value}")
    out = np.empty_like(arr)
    colour = arr.shape[-1] == 3
    for i in range(arr.shape[0]):
        img = _to_uint8(arr[i])
        if colour:
            bgr = np.ascontiguousarray(img[..., ::-1])
            den = cv2.fastNlMeansDenoisingColored(bgr, None, h, h_color, template, search)[..., ::-1]
        else:
            den = cv2.fastNlMeansDenoising(img[..., 0], None, h, template, search)
        out[i] = den.reshape(arr.shape[1:])
    out /= 255.0
    return out


def tune_nl_means(x_noisy_val, y_val, hs: Sequence[float] = NL_MEANS_HS, **kwargs) -> tuple[float, dict[float, float]]:
    """Pick the NLM strength ``h`` with the best PSNR on the validation part.

    PSNR is :func:`cae_lib.metrics.psnr_global` (``10 log10(1 / MSE)``, the MSE
    over the whole set). Ties go to the first ``h`` in ``hs``.

    Args:
        x_noisy_val: noisy validation images, as :func:`nl_means` takes.
        y_val: the clean validation images, same shape, in [0, 1].
        hs: candidate strengths (positive, at least one).
        **kwargs: passed to :func:`nl_means` (``template``, ``search``, ``h_color``).

    Returns:
        ``(best_h, {h: psnr_db})`` in the order of ``hs``.

    Raises:
        ValueError: empty ``hs``, or as :func:`nl_means` and :func:`cae_lib.metrics.psnr_global`.

    Example:
        >>> import numpy as np
        >>> y = np.full((2, 8, 8, 3), 0.5, np.float32)
        >>> noisy = np.clip(y + np.random.default_rng(0).normal(0, 0.1, y.shape), 0, 1).astype(np.float32)
        >>> best, table = tune_nl_means(noisy, y, hs=(1, 30))
        >>> best, table[30] > table[1]
        (30, True)
    """
    hs = tuple(hs)
    if not hs:
        raise ValueError("hs must hold at least one NLM strength")
    table = {h: metrics.psnr_global(y_val, nl_means(x_noisy_val, h, **kwargs)) for h in hs}
    best = max(hs, key=lambda h: table[h])  # max keeps the first of equal values
    return best, table


def bm3d(x, sigma: float) -> np.ndarray:
    """BM3D (Dabov et al. 2007) of each colour image, by the optional ``bm3d`` package (``pip install bm3d``).

    Calls ``bm3d.bm3d_rgb(image, sigma)`` per image (the reference
    implementation by Makinen, Azzari and Foi; it filters in an opponent colour
    space). Slow: a fixed cost of about a second per call, in the compiled
    library, however small the image, so chapter 4 scores it on a subset.

    Args:
        x: noisy float images ``(N, H, W, 3)`` in [0, 1].
        sigma: the noise's standard deviation on the [0, 1] scale (> 0).

    Returns:
        float32 ``(N, H, W, 3)`` clipped to [0, 1].

    Raises:
        ImportError: the ``bm3d`` package is not installed.
        ValueError: bad images or ``sigma``.

    Example:
        >>> import numpy as np
        >>> x = np.full((1, 16, 16, 3), 0.5, np.float32)
        >>> bm3d(x, 0.1).shape   # needs the optional bm3d package
        (1, 16, 16, 3)
    """
    arr = _unit_images(x, "x", channels=3)
    sigma = validate.positive_float(sigma, "sigma")
    if min(arr.shape[1:3]) < BM3D_MIN_SIDE:
        raise ValueError(
            f"BM3D needs images of at least {BM3D_MIN_SIDE}x{BM3D_MIN_SIDE} pixels (the reference implementation "
            f"crashes the process on smaller ones); got {arr.shape[1]}x{arr.shape[2]}"
        )
    try:
        import bm3d as bm3d_package
    except ImportError as exc:
        raise ImportError("the BM3D baseline needs the optional bm3d package: pip install bm3d") from exc
    out = np.empty_like(arr)
    for i in range(arr.shape[0]):
        out[i] = bm3d_package.bm3d_rgb(arr[i], sigma)
    return np.clip(out, 0.0, 1.0, out=out)


# ---------------------------------------------------------------------------
# the chapters' baseline curves and scores, cached like runs
# ---------------------------------------------------------------------------


def denoising_scores(data, *, bm3d_images: int = 200, nl_means_images: int = 500, nl_means_hs=NL_MEANS_HS,
                     cache_dir=None) -> list[dict]:
    """Test scores of the classical denoisers on a denoise task's data, cached.

    - the noisy input itself;
    - a 3×3 Gaussian blur;
    - non-local means, its ``h`` chosen on the first ``nl_means_images``
      validation images (:func:`tune_nl_means`);
    - BM3D on the first ``bm3d_images`` test images (slow; skipped, with a
      row that says so, when the ``bm3d`` package is not installed).

    Args:
        data: :func:`cae_lib.tasks.task_data` of ``"denoise"``.
        bm3d_images: test images BM3D is scored on (its ``n_images`` says how many).
        nl_means_images: validation images the NLM strength is chosen on.
        nl_means_hs: the NLM strengths tried (:func:`tune_nl_means`).
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).

    Returns:
        Rows ``{"method", "psnr_global_db", "ssim", "n_images", "psnr_subset_db", "h"}``
        (``h``: the non-local means strength, on its row); every method is also
        scored on the BM3D subset (``psnr_subset_db``).
    """
    from cae_lib import cache, evaluation
    from cae_lib.tasks import Denoise

    if not isinstance(data.task, Denoise):
        raise ValueError(f"denoising_scores needs denoise data, got task {data.task.name!r}")
    sigma = data.task.sigma
    subset = data.first_test(validate.positive_int(bm3d_images, "bm3d_images"))
    n_sub = len(subset.x_test)
    hs = tuple(float(validate.positive_float(h, "nl_means_hs")) for h in nl_means_hs)
    n_val = min(validate.positive_int(nl_means_images, "nl_means_images"), len(data.x_val))

    def compute():
        h, _ = tune_nl_means(data.x_val[:n_val], data.y_val[:n_val], hs)
        preds = {"noisy input": data.x_test, "Gaussian blur 3×3": gaussian_blur(data.x_test),
                 f"non-local means (h = {h:g})": nl_means(data.x_test, h)}
        out = {"h": np.asarray(h)}
        for i, (name, pred) in enumerate(preds.items()):
            full = evaluation.prediction_metrics(data, pred)
            sub = evaluation.prediction_metrics(subset, pred[:n_sub])
            out[f"m{i}"] = np.asarray([full["psnr_global_db"], full["ssim"], full["n_images"], sub["psnr_global_db"]])
            out[f"name{i}"] = np.asarray(name)
        try:
            pred = bm3d(subset.x_test, sigma)
            sub = evaluation.prediction_metrics(subset, pred)
            out["bm3d"] = np.asarray([sub["psnr_global_db"], sub["ssim"], sub["n_images"], sub["psnr_global_db"]])
        except ImportError:
            pass
        return out

    import importlib.util

    installed = importlib.util.find_spec("bm3d") is not None
    stored = cache.memo("denoising_baselines", {**data.key_fields(), "bm3d_images": n_sub, "bm3d": installed,
                                                "nl_means_images": n_val, "nl_means_hs": list(hs)},
                        compute, cache_dir=cache_dir, what="cached denoising baselines")
    rows = []
    for i in range(3):
        psnr, ssim, n, sub = stored[f"m{i}"]
        rows.append({"method": str(stored[f"name{i}"]), "psnr_global_db": psnr, "ssim": ssim, "n_images": int(n),
                     "psnr_subset_db": sub, "h": float(stored["h"]) if i == 2 else None})
    if "bm3d" in stored:
        psnr, ssim, n, sub = stored["bm3d"]
        rows.append({"method": "BM3D", "psnr_global_db": psnr, "ssim": ssim, "n_images": int(n),
                     "psnr_subset_db": sub})
    else:
        rows.append({"method": "BM3D (not installed: pip install bm3d)", "psnr_global_db": None, "ssim": None,
                     "n_images": 0, "psnr_subset_db": None})
    return rows
