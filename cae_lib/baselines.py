"""Classical baselines: functions from arrays to a prediction shaped and scaled like the task's target.

Every baseline returns float32 arrays on the scale of the task's target, so the
library's one evaluation route scores a model's prediction and a baseline's
prediction the same way:

- compression (chapter 2): images ``(N, H, W, C)`` in [0, 1] -> reconstructions
  of the same shape in [0, 1], keeping a known number of values per image
  (:func:`values_kept`): :class:`PCACodec` (fitted with :func:`fit_pca`) and
  :func:`resize_codec`;
- colorization (chapter 3): a*, b* in the network's scale ``ab / AB_SCALE``
  (:mod:`cae_lib.color`): :func:`grey_ab`, :func:`mean_ab`, :func:`constant_ab`
  and :func:`colorization_predictions`, keyed as :data:`COLORIZATION_BASELINES`;
- denoising (chapter 4): noisy images in [0, 1] -> restored images in [0, 1]:
  :func:`gaussian_blur`, :func:`nl_means` (with :func:`tune_nl_means` to pick its
  strength on the validation part) and, when the optional ``bm3d`` package is
  installed, :func:`bm3d`.

Importing this module imports NumPy, OpenCV, :mod:`cae_lib.validate` and
:mod:`cae_lib.metrics` only, never TensorFlow/Keras; scikit-learn is imported
inside :func:`fit_pca`, the ``bm3d`` package inside :func:`bm3d`.

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((2, 8, 8, 3), dtype=np.float32)
    >>> resize_codec(x, 4).shape, values_kept("resize", 4, x.shape[1:])
    ((2, 8, 8, 3), 48)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from cae_lib import metrics, validate

__all__ = [
    "PCA_SOLVERS",
    "PCACodec",
    "fit_pca",
    "resize_codec",
    "resize_values",
    "values_kept",
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
    "codec_curves",
    "rows_at",
    "PCA_LABEL",
    "THUMBNAIL_LABEL",
    "denoising_scores",
]

#: scikit-learn ``PCA(svd_solver=...)`` values :func:`fit_pca` accepts. ``"covariance_eigh"``
#: and ``"full"`` are exact (every component, nested subspaces); ``"randomized"`` approximates
#: the top ``k`` (Halko et al. 2011).
PCA_SOLVERS = ("covariance_eigh", "full", "randomized")

# Images encoded or decoded at once by PCACodec (2,048 x 3,072 float32 = 25 MB of temporaries).
_PCA_CHUNK = 2048

#: Key -> table label of the colorization baselines (the keys chapter 3's tables use).
COLORIZATION_BASELINES = {
    "grey": "grey input (a* = b* = 0)",
    "train_mean": "training-set mean a*, b*",
}

#: Default grid of NLM strengths searched by :func:`tune_nl_means`, in 0..255 grey levels:
#: brackets the best h measured on CIFAR-10 (15 at noise sigma 0.1, 30 at sigma 0.2).
#: The smallest side BM3D accepts: bm3d 4.0.3 ends the process with a segmentation fault on 8x8 images.
BM3D_MIN_SIDE = 9

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
# compression: PCA
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PCACodec:
    """A fitted PCA: images -> ``k`` codes -> images; build it with :func:`fit_pca`.

    An image ``x`` (flattened to ``D = H * W * C`` values) is encoded as
    ``(x - mean) @ components.T`` and decoded as ``codes @ components + mean``,
    reshaped and clipped to [0, 1]. The codec keeps :attr:`n_values` = ``k``
    values per image (the mean and components are shared by all images, like a
    trained decoder's weights).

    The first ``j`` columns of ``encode(x)`` are ``truncate(j).encode(x)``, so a
    curve over many ``k`` needs one encoding: ``codec.truncate(j).decode(codes[:, :j])``.

    Attributes:
        mean: float32 ``(D,)``, the training images' mean.
        components: float32 ``(k, D)``, orthonormal rows, by decreasing variance.
        explained_variance: float64 ``(k,)``, the variance along each component
            (``S**2 / (n - 1)``), decreasing.
        image_shape: ``(H, W, C)``.
        solver: the scikit-learn solver that fitted it (see :data:`PCA_SOLVERS`).

    Raises:
        ValueError: inconsistent shapes, non-finite values or an unknown solver.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((20, 2, 2, 3), dtype=np.float32)
        >>> codec = fit_pca(x, 4, solver="full")
        >>> codec.encode(x).shape, codec.n_values, codec.reconstruct(x).shape
        ((20, 4), 4, (20, 2, 2, 3))
        >>> codec.truncate(2).components.shape
        (2, 12)
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    image_shape: tuple[int, int, int]
    solver: str

    def __post_init__(self):
        shape = tuple(int(s) for s in np.asarray(self.image_shape).reshape(-1))
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"PCACodec.image_shape must be (H, W, C) with positive sizes; got {self.image_shape!r}")
        d = math.prod(shape)
        mean = np.ascontiguousarray(self.mean, dtype=np.float32)
        comps = np.ascontiguousarray(self.components, dtype=np.float32)
        var = np.ascontiguousarray(self.explained_variance, dtype=np.float64)
        if mean.shape != (d,):
            raise ValueError(f"PCACodec.mean must have shape ({d},) for images {shape}; got {mean.shape}")
        if comps.ndim != 2 or comps.shape[1] != d or not 1 <= comps.shape[0] <= d:
            raise ValueError(f"PCACodec.components must have shape (k, {d}) with 1 <= k <= {d}; got {comps.shape}")
        if var.shape != (comps.shape[0],):
            raise ValueError(
                f"PCACodec.explained_variance must have one value per component ({comps.shape[0]}); got {var.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(comps).all() and np.isfinite(var).all()):
            raise ValueError("PCACodec holds NaN or infinite values")
        solver = str(self.solver)
        if solver not in PCA_SOLVERS:
            raise ValueError(f"PCACodec.solver must be one of {PCA_SOLVERS}; got {self.solver!r}")
        for field, value in (
            ("mean", mean),
            ("components", comps),
            ("explained_variance", var),
            ("image_shape", shape),
            ("solver", solver),
        ):
            object.__setattr__(self, field, value)

    @property
    def n_values(self) -> int:
        """Values kept per image: the number of components ``k``."""
        return int(self.components.shape[0])

    def _flat(self, x) -> np.ndarray:
        arr = _unit_images(x, "x")
        if arr.shape[1:] != self.image_shape:
            raise ValueError(f"x must hold images of shape {self.image_shape} (the codec's); got {arr.shape[1:]}")
        return arr.reshape(arr.shape[0], -1)

    def encode(self, x) -> np.ndarray:
        """Codes of images.

        Args:
            x: float images ``(N, H, W, C)`` of the codec's ``image_shape``.

        Returns:
            float32 ``(N, k)``.

        Raises:
            ValueError: another image shape, a non-float dtype or non-finite values.

        Example:
            >>> import numpy as np
            >>> codec = fit_pca(np.eye(4, dtype=np.float32).reshape(4, 1, 1, 4), 2, solver="full")
            >>> codec.encode(np.zeros((3, 1, 1, 4), np.float32)).shape
            (3, 2)
        """
        flat = self._flat(x)
        out = np.empty((flat.shape[0], self.n_values), dtype=np.float32)
        for start in range(0, flat.shape[0], _PCA_CHUNK):
            part = flat[start : start + _PCA_CHUNK] - self.mean
            out[start : start + _PCA_CHUNK] = part @ self.components.T
        return out

    def decode(self, codes) -> np.ndarray:
        """Images from codes, clipped to [0, 1].

        Args:
            codes: ``(N, k)`` finite numbers (``k`` = :attr:`n_values`).

        Returns:
            float32 ``(N, H, W, C)`` in [0, 1].

        Raises:
            ValueError: codes of another shape or non-finite codes.

        Example:
            >>> import numpy as np
            >>> codec = fit_pca(np.eye(4, dtype=np.float32).reshape(4, 1, 1, 4), 2, solver="full")
            >>> codec.decode(np.zeros((1, 2))).ravel().tolist()    # zero codes decode to the mean
            [0.25, 0.25, 0.25, 0.25]
        """
        c = np.asarray(codes)
        if c.ndim != 2 or c.shape[1] != self.n_values or c.shape[0] == 0:
            raise ValueError(f"codes must have shape (N, {self.n_values}) with N >= 1; got {c.shape}")
        if not np.issubdtype(c.dtype, np.number) or not np.isfinite(c).all():
            raise ValueError("codes must hold finite numbers")
        c = c.astype(np.float32, copy=False)
        out = np.empty((c.shape[0], self.components.shape[1]), dtype=np.float32)
        for start in range(0, c.shape[0], _PCA_CHUNK):
            part = c[start : start + _PCA_CHUNK] @ self.components
            part += self.mean
            np.clip(part, 0.0, 1.0, out=out[start : start + _PCA_CHUNK])
        return out.reshape((c.shape[0], *self.image_shape))

    def reconstruct(self, x) -> np.ndarray:
        """``decode(encode(x))``: the baseline's prediction, float32 in [0, 1], shaped like ``x``.

        Example:
            >>> import numpy as np
            >>> x = np.random.default_rng(1).random((30, 2, 2, 3), dtype=np.float32)
            >>> bool(np.allclose(fit_pca(x, 12, solver="full").reconstruct(x), x, atol=1e-5))
            True
        """
        return self.decode(self.encode(x))

    def truncate(self, k: int) -> PCACodec:
        """The codec keeping only the first ``k`` components.

        With an exact solver (``"covariance_eigh"``, ``"full"``) this is the
        ``k``-component PCA itself (principal subspaces are nested). With
        ``"randomized"`` it is the leading part of a larger approximate fit,
        which is at least as close to the exact PCA as a direct ``k``-component
        randomized fit (more random probes). Measured on CIFAR-10 (test PSNR,
        fitted on 48,000 training images): truncating a randomized 1,024-component
        fit to k = 256, 512, 768 matched the exact PSNR to 0.001 dB, while
        direct randomized fits were 0.01 to 0.06 dB below it.

        Args:
            k: components kept, ``1 <= k <= n_values``.

        Returns:
            A new :class:`PCACodec` sharing the mean.

        Raises:
            ValueError: ``k`` out of range.

        Example:
            >>> import numpy as np
            >>> codec = fit_pca(np.eye(4, dtype=np.float32).reshape(4, 1, 1, 4), 3, solver="full")
            >>> codec.truncate(1).n_values
            1
        """
        k = validate.positive_int(k, "k")
        if k > self.n_values:
            raise ValueError(f"k must be at most the codec's {self.n_values} components; got {k}")
        return PCACodec(self.mean, self.components[:k], self.explained_variance[:k], self.image_shape, self.solver)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The codec as NumPy arrays, for ``np.savez(path, **codec.to_arrays())``.

        Returns:
            ``{"mean", "components", "explained_variance", "image_shape", "solver"}``
            (``image_shape`` an int64 array, ``solver`` a 0-d string array: no pickling).

        Example:
            >>> import numpy as np
            >>> codec = fit_pca(np.eye(4, dtype=np.float32).reshape(4, 1, 1, 4), 2, solver="full")
            >>> sorted(codec.to_arrays())
            ['components', 'explained_variance', 'image_shape', 'mean', 'solver']
        """
        return {
            "mean": self.mean.copy(),
            "components": self.components.copy(),
            "explained_variance": self.explained_variance.copy(),
            "image_shape": np.asarray(self.image_shape, dtype=np.int64),
            "solver": np.asarray(self.solver),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> PCACodec:
        """Rebuild a codec from :meth:`to_arrays` (or the ``np.load`` of its ``.npz``).

        Raises:
            ValueError: a missing key, or arrays that do not form a codec.

        Example:
            >>> import numpy as np
            >>> codec = fit_pca(np.eye(4, dtype=np.float32).reshape(4, 1, 1, 4), 2, solver="full")
            >>> PCACodec.from_arrays(codec.to_arrays()).n_values
            2
        """
        keys = ("mean", "components", "explained_variance", "image_shape", "solver")
        missing = [key for key in keys if key not in arrays]
        if missing:
            raise ValueError(f"arrays lack {missing}; expected the keys of PCACodec.to_arrays() {list(keys)}")
        return cls(
            mean=np.asarray(arrays["mean"]),
            components=np.asarray(arrays["components"]),
            explained_variance=np.asarray(arrays["explained_variance"]),
            image_shape=tuple(np.asarray(arrays["image_shape"]).tolist()),
            solver=str(np.asarray(arrays["solver"])),
        )


def fit_pca(x_train, n_components: int, seed: int = 0, solver: str = "covariance_eigh") -> PCACodec:
    """Fit a PCA codec on training images (scikit-learn ``PCA`` on images flattened to vectors).

    Fit on the training part only: the mean and components are computed from
    ``x_train`` and nothing else, so test images are never seen.

    Solvers (``svd_solver`` of ``sklearn.decomposition.PCA``), with the time of
    ``n_components=1024`` on 48,000 x 3,072 float32 values (random) on the
    2-core development machine:

    - ``"covariance_eigh"`` (default, about 13 s): eigendecomposition of the
      ``D x D`` covariance ``X.T @ X`` (one matrix product over the data, then
      ``eigh`` of a 3,072 x 3,072 matrix). Exact, every component for the price
      of any ``k``; the fastest when there are many more images than values per
      image. The covariance is formed in the data's float32; on CIFAR-10 its
      test PSNRs at k = 256 to 1,024 equal those of ``"full"`` to 0.001 dB.
    - ``"full"`` (about 31 s; 106 s on CIFAR-10 with the machine shared): LAPACK
      SVD of the centred data. Exact.
    - ``"randomized"`` (about 31 s at k = 1024, 12 s at k = 256): randomized
      SVD (Halko et al. 2011) seeded with ``seed``, for speed when ``k`` is far
      below ``D``. Approximate: 0.01 to 0.06 dB under the exact PSNR on CIFAR-10.

    With an exact solver, fit once with the largest ``k`` and use
    :meth:`PCACodec.truncate` for smaller ``k``: the result is the smaller PCA.

    Args:
        x_train: float images ``(N, H, W, C)`` in [0, 1], the training part.
        n_components: ``k``, the values kept per image, ``1 <= k <= min(N, H*W*C)``.
        seed: random state of the randomized solver (the exact solvers use none).
        solver: one of :data:`PCA_SOLVERS`.

    Returns:
        A :class:`PCACodec`.

    Raises:
        ValueError: bad images, ``k`` out of range, a negative seed or an unknown solver.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((50, 4, 4, 3), dtype=np.float32)
        >>> codec = fit_pca(x, 8)
        >>> codec.components.shape, codec.solver
        ((8, 48), 'covariance_eigh')
    """
    arr = _unit_images(x_train, "x_train")
    k = validate.positive_int(n_components, "n_components")
    seed = validate.non_negative_int(seed, "seed")
    if solver not in PCA_SOLVERS:
        raise ValueError(f"solver must be one of {PCA_SOLVERS}; got {solver!r}")
    n, d = arr.shape[0], math.prod(arr.shape[1:])
    if k > min(n, d):
        raise ValueError(
            f"n_components must be at most min(images, values per image) = min({n}, {d}); got {k}"
        )
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, svd_solver=solver, random_state=seed if solver == "randomized" else None)
    pca.fit(arr.reshape(n, d))
    return PCACodec(
        mean=pca.mean_,
        components=pca.components_,
        explained_variance=pca.explained_variance_,
        image_shape=arr.shape[1:],
        solver=solver,
    )


# --------------------------------------------------------------------------------------
# compression: resizing
# --------------------------------------------------------------------------------------


def resize_values(k: int, channels: int = 3) -> int:
    """Values kept by :func:`resize_codec` at side ``k``: ``channels * k**2``.

    Example:
        >>> resize_values(18)
        972
    """
    return validate.positive_int(channels, "channels") * validate.positive_int(k, "k") ** 2


def resize_codec(x, k: int) -> np.ndarray:
    """Shrink each image to ``k x k`` by area averaging, enlarge it back bicubically.

    The ``k x k x C`` small image is the code (:func:`resize_values` values):
    OpenCV ``cv2.resize`` with ``INTER_AREA`` (each small pixel the mean of the
    large pixels it covers, fractionally for sizes that do not divide) down,
    ``INTER_CUBIC`` (bicubic, a = -0.75) back up, then clipped to [0, 1]
    (bicubic overshoots at edges). ``k`` equal to the image side returns the
    images themselves. About 0.25 s for 6,000 CIFAR-10 images at k = 18.

    Args:
        x: float images ``(N, H, W, C)`` in [0, 1].
        k: side of the small image, ``1 <= k <= min(H, W)``.

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1].

    Raises:
        ValueError: bad images or ``k`` out of range.

    Example:
        >>> import numpy as np
        >>> x = np.full((1, 8, 8, 3), 0.5, np.float32)
        >>> float(np.abs(resize_codec(x, 3) - x).max())
        0.0
    """
    arr = _unit_images(x, "x")
    n, h, w, c = arr.shape
    k = validate.positive_int(k, "k")
    if k > min(h, w):
        raise ValueError(f"k must be at most the image size min(H, W) = {min(h, w)}; got {k}")
    out = np.empty_like(arr)
    for i in range(n):  # cv2 per image: ~40 us each for 32x32x3
        small = cv2.resize(arr[i], (k, k), interpolation=cv2.INTER_AREA)
        out[i] = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, c)
    return np.clip(out, 0.0, 1.0, out=out)


def values_kept(kind: str, param: int, image_shape: Sequence[int] = (32, 32, 3)) -> int:
    """Values per image a compression baseline keeps, to share the "latent values" axis with models.

    Args:
        kind: ``"pca"`` (``param`` = components ``k``), ``"resize"`` (``param``
            = side ``k`` of :func:`resize_codec`) or ``"identity"`` (every value;
            ``param`` ignored but must be a positive integer).
        param: as above.
        image_shape: ``(H, W, C)``.

    Returns:
        ``k``, ``C * k**2`` or ``H * W * C``.

    Raises:
        ValueError: an unknown kind, or ``param`` out of range for the images.

    Example:
        >>> values_kept("pca", 972), values_kept("resize", 18), values_kept("identity", 1)
        (972, 972, 3072)
    """
    param = validate.positive_int(param, "param")
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W, C) with positive sizes; got {image_shape!r}")
    h, w, c = shape
    if kind == "pca":
        if param > h * w * c:
            raise ValueError(f"a PCA of {shape} images keeps at most {h * w * c} values; got k = {param}")
        return param
    if kind == "resize":
        if param > min(h, w):
            raise ValueError(f"resize side k must be at most min(H, W) = {min(h, w)}; got {param}")
        return resize_values(param, c)
    if kind == "identity":
        return h * w * c
    raise ValueError(f"kind must be 'pca', 'resize' or 'identity'; got {kind!r}")


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
    of a CIFAR-10 image, so dissimilar regions get averaged in. Measured PSNR
    (dB) on the first 300 CIFAR-10 test images (JPEG mirror; noise clipped to
    [0, 1]), with each setting's best h of 10, 15, 20 (sigma 0.1) or 20, 30, 40 (0.2):

    ==================  ==================  ==================
    template x search   sigma 0.1           sigma 0.2
    ==================  ==================  ==================
    7 x 21 (OpenCV)     24.4 (h = 10)       20.6 (h = 20)
    3 x 21              25.5 (h = 15)       21.6 (h = 30)
    3 x 11 (default)    26.2 (h = 15)       22.1 (h = 30)
    3 x 7               26.2 (h = 20)       22.1 (h = 40)
    ==================  ==================  ==================

    On the first 2,000 test images the default reaches 25.4 dB (h = 15) and
    21.6 dB (h = 30), against 23.8 and 20.0 dB with 7 x 21 at the same h.

    Args:
        x: float images ``(N, H, W, C)`` with C = 1 or 3, in [0, 1] (clipped).
        h: filter strength for luminance (> 0).
        template: odd side of the compared patches (3: best for 32x32 images, table above).
        search: odd side of the window searched for similar patches (11: best
            with 7 for 32x32 images, and faster than 21; table above).
        h_color: strength for a*, b*; ``None`` (default) uses ``h``: the added
            noise is independent per RGB channel, so it reaches chroma as much
            as lightness. On 500 CIFAR-10 test images ``h`` beat ``h / 2`` and
            ``2 h`` (sigma 0.1: 24.2 against 23.0 and 23.8 dB with 7 x 21 windows),
            and OpenCV's own default of 10 lost 5.3 dB at sigma 0.2 (2,000 images).

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
    space). Slow: about 1.1 to 1.5 s per 32x32 colour image on the 2-core
    development machine (a fixed cost per call, in the compiled library), so
    evaluate it on a subset: 200 images take about 4 minutes. On 100 CIFAR-10
    test images: 28.9 dB at sigma 0.1, 24.3 dB at sigma 0.2.

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


def _data_key(data) -> dict:
    return {"data": data.fingerprint, "split": data.split, "sizes": data.sizes(), "task": data.task,
            "noise_sigma": data.noise_sigma}


#: The labels of :func:`codec_curves`' two curves.
PCA_LABEL, THUMBNAIL_LABEL = "PCA", "area down, bicubic up"


def codec_curves(data, pca_sizes: Sequence[int], resize_sides: Sequence[int], *, cache_dir=None) -> dict:
    """Test scores of PCA at ``pca_sizes`` components and of the resize codec at ``resize_sides``.

    PCA is fitted once, on the training part only, with the exact
    ``covariance_eigh`` solver at the largest size, and truncated for the
    smaller ones (exact PCA subspaces are nested, so this equals fitting each
    size). The fitted codec is kept in the run cache (:func:`cae_lib.cache.memo`).

    Args:
        data: :func:`cae_lib.tasks.task_data` of ``"reconstruct"``.
        pca_sizes: numbers of components (values kept per image).
        resize_sides: sides ``k`` of the k×k thumbnails (``3k²`` values kept).
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).

    Returns:
        ``{PCA_LABEL: rows, THUMBNAIL_LABEL: rows}``, one row per point:
        ``{"codec", "latent_size", "mse", "psnr_global_db", "psnr_mean_db", "ssim"}``
        (``latent_size``: values kept per image).
    """
    from cae_lib import cache, evaluation

    sizes = sorted({validate.positive_int(k, "pca size") for k in pca_sizes})
    k_max = min(sizes[-1], data.x_train.shape[0], int(np.prod(data.x_train.shape[1:])))
    stored = cache.memo(
        "pca", {**_data_key(data), "components": k_max, "solver": "covariance_eigh"},
        lambda: fit_pca(data.x_train, k_max, solver="covariance_eigh").to_arrays(),
        cache_dir=cache_dir, what="cached PCA",
    )
    codec = PCACodec.from_arrays(stored)
    pca, thumbnails = [], []
    for k in (k for k in sizes if k <= k_max):
        scores = evaluation.prediction_metrics(data, codec.truncate(k).reconstruct(data.x_test))
        pca.append({"codec": PCA_LABEL, "latent_size": k, **_picked(scores)})
    for side in sorted({validate.positive_int(s, "resize side") for s in resize_sides}):
        scores = evaluation.prediction_metrics(data, resize_codec(data.x_test, side))
        thumbnails.append({"codec": f"{THUMBNAIL_LABEL} ({side}×{side})", "side": side,
                           "latent_size": resize_values(side, data.x_test.shape[-1]), **_picked(scores)})
    return {PCA_LABEL: pca, THUMBNAIL_LABEL: thumbnails}


def rows_at(curves: dict, sizes) -> list[dict]:
    """The rows of every curve whose ``latent_size`` is one of ``sizes``.

    Example:
        >>> rows_at({"a": [{"latent_size": 4}, {"latent_size": 8}]}, (8,))
        [{'latent_size': 8}]
    """
    return [row for rows in curves.values() for row in rows if row["latent_size"] in sizes]


def _picked(scores: Mapping[str, float]) -> dict:
    return {k: scores[k] for k in ("mse", "psnr_global_db", "psnr_mean_db", "ssim")}


def denoising_scores(data, *, bm3d_images: int = 200, nl_means_images: int = 500, cache_dir=None) -> list[dict]:
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
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).

    Returns:
        Rows ``{"method", "psnr_global_db", "ssim", "n_images", "psnr_subset_db", "h"}``
        (``h``: the non-local means strength, on its row); every method is also
        scored on the BM3D subset (``psnr_subset_db``).
    """
    from cae_lib import cache, evaluation

    if data.task != "denoise":
        raise ValueError(f"denoising_scores needs denoise data, got task {data.task!r}")
    sigma = data.noise_sigma
    n_sub = min(validate.positive_int(bm3d_images, "bm3d_images"), len(data.x_test))
    subset = type(data)(**{**data.__dict__, "x_test": data.x_test[:n_sub], "y_test": data.y_test[:n_sub],
                           "test_index": data.test_index[:n_sub]})

    def compute():
        n_val = min(validate.positive_int(nl_means_images, "nl_means_images"), len(data.x_val))
        h, _ = tune_nl_means(data.x_val[:n_val], data.y_val[:n_val])
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
    stored = cache.memo("denoising_baselines", {**_data_key(data), "bm3d_images": n_sub, "bm3d": installed,
                                                "nl_means_images": nl_means_images},
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
