"""PCA as a codec: the classical transform code (the Karhunen-Loeve transform that JPEG's DCT approximates).

:func:`fit_pca` fits a :class:`PCABasis` on the training part (scikit-learn);
:class:`PCA` is the byte-level :class:`~cae_lib.codecs.base.Codec` that keeps
its ``k`` coefficients per image as float32 (``32 k`` bits, the "values kept"
of chapter 2 made into bytes). :func:`pca_codecs` fits once, at the largest
size asked for, caches the basis (:func:`cae_lib.cache.memo`) and truncates it
for the smaller sizes (exact PCA subspaces are nested, so this equals fitting
each size).

Example:
    >>> x = np.random.default_rng(0).random((20, 2, 2, 3), dtype=np.float32)
    >>> codec = PCA(fit_pca(x, 4, solver="full"))
    >>> images = (x * 255).astype(np.uint8)
    >>> [len(p) for p in codec.encode(images)][:2], codec.label(), codec.values_kept((2, 2, 3))
    ([16, 16], 'PCA (4 components)', 4)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cae_lib import validate
from cae_lib.codecs.base import Codec, register
from cae_lib.data import to_float

__all__ = ["PCA_SOLVERS", "PCABasis", "fit_pca", "PCA", "pca_codecs"]

#: scikit-learn ``PCA(svd_solver=...)`` values :func:`fit_pca` accepts. ``"covariance_eigh"``
#: and ``"full"`` are exact (every component, nested subspaces); ``"randomized"`` approximates
#: the top ``k`` (Halko et al. 2011).
PCA_SOLVERS = ("covariance_eigh", "full", "randomized")

# Images encoded or decoded at once by PCACodec (2,048 x 3,072 float32 = 25 MB of temporaries).
_PCA_CHUNK = 2048


def _unit_images(x, what: str) -> np.ndarray:
    return validate.float_images(x, what).astype(np.float32, copy=False)


@dataclass(frozen=True, eq=False)
class PCABasis:
    """A fitted PCA basis: images -> ``k`` float codes -> images; build it with :func:`fit_pca`.

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
            raise ValueError(f"PCABasis.image_shape must be (H, W, C) with positive sizes; got {self.image_shape!r}")
        d = math.prod(shape)
        mean = np.ascontiguousarray(self.mean, dtype=np.float32)
        comps = np.ascontiguousarray(self.components, dtype=np.float32)
        var = np.ascontiguousarray(self.explained_variance, dtype=np.float64)
        if mean.shape != (d,):
            raise ValueError(f"PCABasis.mean must have shape ({d},) for images {shape}; got {mean.shape}")
        if comps.ndim != 2 or comps.shape[1] != d or not 1 <= comps.shape[0] <= d:
            raise ValueError(f"PCABasis.components must have shape (k, {d}) with 1 <= k <= {d}; got {comps.shape}")
        if var.shape != (comps.shape[0],):
            raise ValueError(
                f"PCABasis.explained_variance must have one value per component ({comps.shape[0]}); got {var.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(comps).all() and np.isfinite(var).all()):
            raise ValueError("PCABasis holds NaN or infinite values")
        solver = str(self.solver)
        if solver not in PCA_SOLVERS:
            raise ValueError(f"PCABasis.solver must be one of {PCA_SOLVERS}; got {self.solver!r}")
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

    def truncate(self, k: int) -> PCABasis:
        """The codec keeping only the first ``k`` components.

        With an exact solver (``"covariance_eigh"``, ``"full"``) this is the
        ``k``-component PCA itself (principal subspaces are nested). With
        ``"randomized"`` it is the leading part of a larger approximate fit,
        which is at least as close to the exact PCA as a direct ``k``-component
        randomized fit (more random probes; ``bench/bench_defaults.py`` compares
        it with the exact fit).

        Args:
            k: components kept, ``1 <= k <= n_values``.

        Returns:
            A new :class:`PCABasis` sharing the mean.

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
        return PCABasis(self.mean, self.components[:k], self.explained_variance[:k], self.image_shape, self.solver)

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
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> PCABasis:
        """Rebuild a codec from :meth:`to_arrays` (or the ``np.load`` of its ``.npz``).

        Raises:
            ValueError: a missing key, or arrays that do not form a codec.

        Example:
            >>> import numpy as np
            >>> codec = fit_pca(np.eye(4, dtype=np.float32).reshape(4, 1, 1, 4), 2, solver="full")
            >>> PCABasis.from_arrays(codec.to_arrays()).n_values
            2
        """
        keys = ("mean", "components", "explained_variance", "image_shape", "solver")
        missing = [key for key in keys if key not in arrays]
        if missing:
            raise ValueError(f"arrays lack {missing}; expected the keys of PCABasis.to_arrays() {list(keys)}")
        return cls(
            mean=np.asarray(arrays["mean"]),
            components=np.asarray(arrays["components"]),
            explained_variance=np.asarray(arrays["explained_variance"]),
            image_shape=tuple(np.asarray(arrays["image_shape"]).tolist()),
            solver=str(np.asarray(arrays["solver"])),
        )


def fit_pca(x_train, n_components: int, seed: int = 0, solver: str = "covariance_eigh") -> PCABasis:
    """Fit a PCA codec on training images (scikit-learn ``PCA`` on images flattened to vectors).

    Fit on the training part only: the mean and components are computed from
    ``x_train`` and nothing else, so test images are never seen.

    Solvers (``svd_solver`` of ``sklearn.decomposition.PCA``; their times and
    test PSNRs on CIFAR-10 are measured by ``bench/bench_defaults.py``):

    - ``"covariance_eigh"`` (default): eigendecomposition of the ``D x D``
      covariance ``X.T @ X`` (one matrix product over the data, then ``eigh``
      of a 3,072 x 3,072 matrix). Exact, and every component for the price of any ``k``.
    - ``"full"``: LAPACK SVD of the centred data. Exact, and slower.
    - ``"randomized"``: randomized SVD (Halko et al. 2011) seeded with ``seed``,
      for speed when ``k`` is far below ``D``. Approximate.

    With an exact solver, fit once with the largest ``k`` and use
    :meth:`PCABasis.truncate` for smaller ``k``: the result is the smaller PCA.

    Args:
        x_train: float images ``(N, H, W, C)`` in [0, 1], the training part.
        n_components: ``k``, the values kept per image, ``1 <= k <= min(N, H*W*C)``.
        seed: random state of the randomized solver (the exact solvers use none).
        solver: one of :data:`PCA_SOLVERS`.

    Returns:
        A :class:`PCABasis`.

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
    return PCABasis(
        mean=pca.mean_,
        components=pca.components_,
        explained_variance=pca.explained_variance_,
        image_shape=arr.shape[1:],
        solver=solver,
    )


@register("pca")
class PCA(Codec):
    """A fitted PCA basis as a codec: each image's ``k`` coefficients, as little-endian float32.

    Args:
        basis: a :class:`PCABasis` (:func:`fit_pca`).
    """

    family = "PCA"

    def __init__(self, basis: PCABasis):
        if not isinstance(basis, PCABasis):
            raise ValueError(f"PCA needs a fitted PCABasis (cae_lib.codecs.pca.fit_pca), got {type(basis).__name__}")
        self.basis = basis

    def label(self) -> str:
        return f"PCA ({self.basis.n_values} components)"

    def values_kept(self, image_shape) -> int:
        return self.basis.n_values

    def encode(self, images) -> list[bytes]:
        codes = self.basis.encode(to_float(images)).astype("<f4")
        return [row.tobytes() for row in codes]

    def decode(self, payloads, image_shape) -> np.ndarray:
        k = self.basis.n_values
        for i, p in enumerate(payloads):
            if len(p) != 4 * k:
                raise ValueError(f"payload {i} has {len(p)} bytes; a {k}-component PCA code has {4 * k}")
        codes = np.frombuffer(b"".join(payloads), dtype="<f4").reshape(len(payloads), k)
        return self.basis.decode(codes)


def pca_codecs(data, sizes: Sequence[int], *, cache_dir=None) -> list[PCA]:
    """:class:`PCA` codecs at each of ``sizes`` components, from one fit on the training part, cached.

    Sizes above what the training part allows (``min(images, values per image)``) are left out.

    Args:
        data: a :class:`cae_lib.tasks.TaskData` of the reconstruction task.
        sizes: numbers of components.
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).
    """
    from cae_lib import cache

    sizes = sorted({validate.positive_int(k, "pca size") for k in sizes})
    n, d = data.x_train.shape[0], int(np.prod(data.x_train.shape[1:]))
    k_max = min(sizes[-1], n, d)
    # Both solvers are exact; the covariance's eigh costs a D x D decomposition whatever N is, the SVD of
    # the centred data one of N x D: with fewer images than values (the smoke profile) the SVD is the faster.
    solver = "covariance_eigh" if n >= d else "full"
    stored = cache.memo(
        "pca", {**data.key_fields(), "components": k_max, "solver": solver},
        lambda: fit_pca(data.x_train, k_max, solver=solver).to_arrays(),
        cache_dir=cache_dir, what="cached PCA",
    )
    basis = PCABasis.from_arrays(stored)
    return [PCA(basis.truncate(k)) for k in sizes if k <= k_max]
