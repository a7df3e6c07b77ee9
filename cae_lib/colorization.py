"""Colour as classes: quantised a*b*, class rebalancing and the annealed mean.

After Zhang, Isola and Efros, "Colorful Image Colorization" (ECCV 2016): the
a*b* plane is cut into square cells of side ``step`` (CIE units) centred on the
multiples of ``step``, and a network predicts, for every pixel, a probability
distribution over the cells that hold sRGB colours (the *bins*). Training uses
a class-rebalanced cross-entropy against a soft encoding of the true a*b*;
decoding takes the annealed mean of the predicted distribution.

The pieces, in the order a chapter uses them:

- :func:`ab_bins` -> :class:`AbBins`: the bin centres (CIE units).
- :func:`nearest_bin`, :func:`soft_encode`: hard and soft (Gaussian over the 5
  nearest centres) encodings of a*b* values (CIE units).
- :func:`class_prior`: the training pixels' bin frequencies (input in network
  scale ``ab / AB_SCALE``, as the task data holds the targets).
- :func:`smooth_prior`, :func:`rebalance_weights`: Zhang's eq. 4.
- :func:`annealed_mean` (CIE units) and :func:`predict_ab` (network scale, so a
  classification model goes through the same evaluation as a regression one).
- the Keras loss: :class:`cae_lib.tasks.colour_loss.RebalancedCrossEntropy`,
  which the task :class:`cae_lib.tasks.colorize.ColourClasses` builds.

Units. Bin centres, :func:`nearest_bin`, :func:`soft_encode` and
:func:`annealed_mean` work in CIE a*b* units; :func:`class_prior`,
:func:`predict_ab` and the Keras loss work in the network scale
``ab / color.AB_SCALE`` of :func:`cae_lib.color.lab_to_model`.

Which bins. A cell (the square of side ``step`` around a multiple of
``step``) is kept when it holds the a*b* of some 8-bit sRGB colour, at any
lightness; see :func:`ab_bins`. Keeping only cells whose *centre* is in gamut
would leave the rim of the gamut up to about a step from the nearest centre;
keeping every cell the gamut reaches puts every sRGB colour within
``step / sqrt(2)`` of a centre and every training pixel in a bin's cell.
With step 10 this gives 262 bins (226 cells have their centre in gamut at
some L*). Zhang et al. report 313 bins for the same grid size: 51 cells more
than any 8-bit sRGB colour reaches, so their set covers a region about 20%
larger than the sRGB a*b* gamut, and no sRGB criterion gives 313.

Default step. Quantising the training images' true a*b* to the nearest bin
centre (their L* kept) bounds what decoding by the mode can reach; the step
is the coarsest grid that keeps that bound well above the grey image's PSNR
with a few hundred classes (``bench/bench_defaults.py`` measures the bound per
step; its last results are in ``bench/results/defaults.md``). The annealed
mean is not limited to the centres, so this is a bound only for the mode.

Importing this module imports neither TensorFlow nor Keras.

Example:
    >>> import numpy as np
    >>> bins = ab_bins()
    >>> len(bins), bins.step
    (262, 10.0)
    >>> ab = np.array([[12.0, -31.0], [0.4, 0.2]], dtype=np.float32)
    >>> bins.centres[nearest_bin(ab, bins)]
    array([[ 10., -30.],
           [  0.,   0.]], dtype=float32)
    >>> probs = np.zeros((1, len(bins)), np.float32); probs[0, nearest_bin(ab, bins)] = 0.5
    >>> annealed_mean(probs, bins, temperature=1.0)
    array([[  5., -15.]], dtype=float32)
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from cae_lib import color, validate

__all__ = [
    "ANNEALED_T",
    "DEFAULT_STEP",
    "LAMBDA",
    "NEIGHBOURS",
    "SIGMA",
    "AbBins",
    "ab_bins",
    "annealed_mean",
    "class_prior",
    "nearest_bin",
    "predict_ab",
    "rebalance_weights",
    "smooth_prior",
    "soft_encode",
]

#: Grid size in CIE a*b* units: 262 bins (see the module docstring and bench/bench_defaults.py);
#: Zhang et al. also use 10.
DEFAULT_STEP = 10.0
#: Gaussian width (CIE units) of the soft encoding and the prior smoothing (Zhang et al., sec. 2.1).
SIGMA = 5.0
#: Nearest centres that share a pixel's soft encoding (Zhang et al., sec. 2.1).
NEIGHBOURS = 5
#: Weight of the uniform distribution mixed into the smoothed prior (Zhang et al., eq. 4).
LAMBDA = 0.5
#: Temperature of the annealed mean Zhang et al. chose by inspection (sec. 2.3).
ANNEALED_T = 0.38

# Bytes one chunk's largest temporary may take in the chunked NumPy functions
# (they hold two or three such temporaries at a time).
_CHUNK_BYTES = 8 * 2**20
# Slack (in units of step) allowed when checking that centres are multiples of step.
_GRID_TOL = 1e-4


# ---------------------------------------------------------------------------
# the bins
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AbBins:
    """The centres of the a*b* bins and the grid size they sit on.

    Args:
        centres: ``(K, 2)`` (a*, b*) centres in CIE units, each a multiple of
            ``step``, no two alike. Stored as a read-only float32 array.
        step: the grid size (side of a bin's square cell), in CIE units.

    Raises:
        ValueError: bad shape, non-finite values, a centre off the grid of
            multiples of ``step``, repeated centres, or a bad ``step``.

    Example:
        >>> b = AbBins(np.array([[0, 0], [10, -20]]), step=10)
        >>> len(b), b.centres.dtype.name
        (2, 'float32')
        >>> AbBins.from_dict(b.to_dict()) == b
        True
    """

    centres: np.ndarray
    step: float = DEFAULT_STEP

    def __post_init__(self) -> None:
        step = validate.positive_float(self.step, "AbBins.step")
        centres = np.array(self.centres, dtype=np.float32)  # a copy the caller cannot change
        if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) == 0:
            raise ValueError(f"AbBins.centres must have shape (K, 2) with K >= 1, got shape {centres.shape}")
        if not np.isfinite(centres).all():
            raise ValueError("AbBins.centres holds NaN or infinite values")
        keys = centres.astype(np.float64) / step
        if np.abs(keys - np.rint(keys)).max() > _GRID_TOL:
            raise ValueError(f"AbBins.centres must be multiples of step={step:g}; some are not")
        if len(np.unique(np.rint(keys), axis=0)) != len(centres):
            raise ValueError("AbBins.centres has repeated centres")
        centres.flags.writeable = False
        object.__setattr__(self, "centres", centres)
        object.__setattr__(self, "step", step)

    def __len__(self) -> int:
        return len(self.centres)

    def __eq__(self, other) -> bool:
        if not isinstance(other, AbBins):
            return NotImplemented
        return self.step == other.step and np.array_equal(self.centres, other.centres)

    def __hash__(self) -> int:
        return hash((self.step, self.centres.tobytes()))

    def __repr__(self) -> str:
        return f"AbBins(K={len(self)}, step={self.step:g})"

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``{"step": float, "centres": [[a, b], ...]}``."""
        return {"step": self.step, "centres": self.centres.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> AbBins:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: ``d`` lacks ``"step"`` or ``"centres"``, or has other keys.
        """
        if not isinstance(d, dict) or set(d) != {"step", "centres"}:
            raise ValueError(f"AbBins.from_dict needs a dict with keys 'step' and 'centres', got {d!r:.80}")
        return cls(centres=np.asarray(d["centres"], dtype=np.float32), step=d["step"])

    @functools.cached_property
    def _lookup(self) -> tuple[np.ndarray, int]:
        """``(table, offset)``: ``table[i + offset, j + offset]`` is the index of the
        centre ``(i * step, j * step)``, or -1 where there is no bin."""
        keys = np.rint(self.centres.astype(np.float64) / self.step).astype(np.int64)
        offset = int(np.abs(keys).max()) + 1
        table = np.full((2 * offset + 1, 2 * offset + 1), -1, dtype=np.int32)
        table[keys[:, 0] + offset, keys[:, 1] + offset] = np.arange(len(keys), dtype=np.int32)
        return table, offset


def ab_bins(step: float = DEFAULT_STEP) -> AbBins:
    """The bins of the a*b* grid of size ``step`` that hold 8-bit sRGB colours.

    A cell (the square of side ``step`` around a multiple of ``step``, points
    on its edge going to the lower a*, then b*, as in :func:`nearest_bin`) is
    kept when it holds the a*b* (:func:`cae_lib.color.rgb_to_lab`) of some
    ``uint8`` colour on the surface of the RGB cube. The surface reaches every
    a*b* the whole cube does (at fixed a*b*, the largest L* in gamut lies on
    the gamut's surface, the image of the cube's), and 6 x 256^2 colours are
    cheaper than 256^3; for steps 6, 8, 10, 12 and 16 the cells are exactly
    those of all 256^3 colours (checked once, 80 s). Every sRGB
    colour thus lies within ``step / sqrt(2)`` of a centre (up to OpenCV's
    rounding of a*b*, under 0.7 units), and every pixel of an 8-bit image
    converted by :func:`cae_lib.color.rgb_to_lab` lies in a bin's cell.
    Deterministic, and cached.

    Args:
        step: grid size in CIE units (at least 2: a finer grid has thousands of bins).

    Returns:
        :class:`AbBins` with the centres sorted by a*, then b*.

    Raises:
        ValueError: a bad ``step``.

    Example:
        >>> [len(ab_bins(s)) for s in (10, 16)]
        [262, 110]
    """
    step = validate.positive_float(step, "step")
    if step < 2.0:
        raise ValueError(f"step must be at least 2 CIE units (a finer grid has thousands of bins), got {step!r}")
    return _ab_bins(step)


@functools.lru_cache(maxsize=16)
def _ab_bins(step: float) -> AbBins:
    ab = color.rgb_to_lab(_rgb_cube_surface())[..., 1:].reshape(-1, 2)
    keys = np.unique(_grid_keys(ab, step), axis=0)  # sorted by a*, then b*
    return AbBins(centres=(keys * step).astype(np.float32), step=step)


def _rgb_cube_surface() -> np.ndarray:
    """The ``6 * 256**2`` uint8 colours with a channel at 0 or 255, as ``(6, 256, 256, 3)``."""
    levels = np.arange(256, dtype=np.uint8)
    u, v = np.meshgrid(levels, levels, indexing="ij")
    faces = np.empty((6, 256, 256, 3), dtype=np.uint8)
    for face, (channel, value) in enumerate((c, x) for c in range(3) for x in (0, 255)):
        free = [c for c in range(3) if c != channel]
        faces[face, ..., channel] = value
        faces[face, ..., free[0]] = u
        faces[face, ..., free[1]] = v
    return faces


def _grid_keys(ab: np.ndarray, step: float) -> np.ndarray:
    """The integer ``(i, j)`` of the grid point ``(i * step, j * step)`` nearest each a*b*.

    Halves round down, so ties go to the lower a*, then b*, which is the lower
    bin index (centres are sorted), as ``argmin`` and ``keras.ops.top_k`` break them.
    """
    keys = np.array(ab, dtype=np.float64)
    keys /= step
    keys -= 0.5
    np.ceil(keys, out=keys)
    return keys.astype(np.int64)


# ---------------------------------------------------------------------------
# encodings
# ---------------------------------------------------------------------------


def _check_bins(bins) -> AbBins:
    if not isinstance(bins, AbBins):
        raise ValueError(f"bins must be an AbBins (see ab_bins()), got {type(bins).__name__}")
    return bins


def _ab_pixels(ab, what: str) -> np.ndarray:
    """``ab`` as a finite float array whose last axis has 2 entries, viewed as ``(M, 2)``."""
    arr = np.asarray(ab)
    if arr.ndim < 1 or arr.shape[-1] != 2:
        raise ValueError(f"{what} must have shape (..., 2) (a*, b* last), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what} must hold floats; got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    return arr.reshape(-1, 2)


def _chunk_rows(row_bytes: int) -> int:
    return max(1, _CHUNK_BYTES // row_bytes)


def _squared_distances(ab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``(M, K)`` float32 squared distances, from differences (no cancellation)."""
    da = ab[:, 0:1] - centres[:, 0]
    db = ab[:, 1:2] - centres[:, 1]
    da *= da
    db *= db
    da += db
    return da


def _nearest_flat(ab: np.ndarray, bins: AbBins) -> np.ndarray:
    """Nearest centre of each row of a float ``(M, 2)`` array in CIE units (int32)."""
    table, offset = bins._lookup
    # The nearest point of the whole grid is the nearest bin if it is a bin at all.
    keys = np.clip(_grid_keys(ab, bins.step), -offset, offset) + offset
    index = table[keys[:, 0], keys[:, 1]]
    missed = np.flatnonzero(index < 0)  # the grid point is not a bin: search all bins
    if missed.size:
        centres = bins.centres
        rows = _chunk_rows(4 * len(centres))
        for start in range(0, missed.size, rows):
            part = missed[start:start + rows]
            index[part] = _squared_distances(ab[part].astype(np.float32), centres).argmin(axis=1)
    return index


def nearest_bin(ab, bins: AbBins) -> np.ndarray:
    """Index of the nearest bin centre of each a*b* value (the hard encoding).

    Looks the value's grid cell up in a table and searches all centres only for
    values whose cell is not a bin (outside the gamut), so it runs at NumPy speed
    on millions of pixels. Ties go to the lower a*, then the lower b*: the
    lower bin index for the sorted centres of :func:`ab_bins`.

    Args:
        ab: float array ``(..., 2)`` of (a*, b*) in CIE units.
        bins: the bins (:func:`ab_bins`).

    Returns:
        int32 array of shape ``ab.shape[:-1]``.

    Raises:
        ValueError: bad shape, non-float dtype or non-finite values.

    Example:
        >>> bins = AbBins(np.array([[0, 0], [10, 0]]), step=10)
        >>> nearest_bin(np.array([[4.0, 3.0], [6.0, -2.0], [80.0, 0.0]]), bins)
        array([0, 1, 1], dtype=int32)
    """
    bins = _check_bins(bins)
    arr = np.asarray(ab)
    flat = _ab_pixels(arr, "ab")
    return _nearest_flat(flat, bins).reshape(arr.shape[:-1])


def soft_encode(ab, bins: AbBins, sigma: float = SIGMA, neighbours: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Zhang et al.'s soft encoding: a Gaussian over the nearest bin centres.

    For each value, the ``neighbours`` nearest centres ``c_j`` get the weights
    ``exp(-|ab - c_j|^2 / (2 sigma^2))``, normalised to sum to 1; every other bin
    gets 0. The result is returned sparse (indices and weights), since the dense
    ``(..., K)`` distribution of a training set does not fit in memory.

    Computed in chunks: the temporaries stay under about 20 MB and the result
    takes 8 bytes per neighbour and value (40 MB for 10^6 values).

    Args:
        ab: float array ``(..., 2)`` of (a*, b*) in CIE units.
        bins: the bins (:func:`ab_bins`).
        sigma: Gaussian width in CIE units (> 0).
        neighbours: centres per value (1 <= neighbours <= K).

    Returns:
        ``(index, weight)``: int32 and float32 arrays of shape
        ``ab.shape[:-1] + (neighbours,)``, nearest centre first (ties to the
        lower index); ``index[..., 0]`` is :func:`nearest_bin`'s answer (up
        to float32 rounding of near ties).

    Raises:
        ValueError: a bad argument.

    Example:
        >>> bins = AbBins(np.array([[0, 0], [10, 0], [0, 10]]), step=10)
        >>> index, weight = soft_encode(np.array([[5.0, 0.0]]), bins, neighbours=2)
        >>> index, weight
        (array([[0, 1]], dtype=int32), array([[0.5, 0.5]], dtype=float32))
    """
    bins = _check_bins(bins)
    sigma = validate.positive_float(sigma, "sigma")
    n = validate.positive_int(neighbours, "neighbours")
    if n > len(bins):
        raise ValueError(f"neighbours must be at most the number of bins ({len(bins)}), got {n}")
    arr = np.asarray(ab)
    flat = _ab_pixels(arr, "ab")
    index = np.empty((len(flat), n), dtype=np.int32)
    weight = np.empty((len(flat), n), dtype=np.float32)
    rows = _chunk_rows(4 * len(bins))
    for start in range(0, len(flat), rows):
        part = slice(start, start + rows)
        d2 = _squared_distances(flat[part].astype(np.float32), bins.centres)
        r = np.arange(len(d2))
        found = np.empty((len(d2), n), dtype=np.float64)
        for j in range(n):  # n passes of argmin: ties go to the lower index, as keras.ops.top_k
            k = d2.argmin(axis=1)
            index[part, j] = k
            found[:, j] = d2[r, k]
            d2[r, k] = np.inf
        del d2  # before the next chunk's distances are computed
        g = np.exp(-(found - found[:, :1]) / (2.0 * sigma**2))  # relative to the nearest: no underflow
        weight[part] = g / g.sum(axis=1, keepdims=True)
    shape = arr.shape[:-1] + (n,)
    return index.reshape(shape), weight.reshape(shape)


# ---------------------------------------------------------------------------
# prior and rebalancing
# ---------------------------------------------------------------------------


def class_prior(ab_train, bins: AbBins, chunk: int = 1024) -> np.ndarray:
    """The empirical distribution of the training pixels over the bins.

    Args:
        ab_train: the network's targets, ``ab / color.AB_SCALE`` in [-1, 1]
            (as :func:`cae_lib.color.lab_to_model` returns them), float array of
            shape ``(N, H, W, 2)`` (any ``(..., 2)``); multiplied by ``AB_SCALE``
            here, chunk by chunk.
        bins: the bins (:func:`ab_bins`).
        chunk: leading-axis entries (images) converted at once (1024 CIFAR-10
            images: about 50 MB of temporaries, 0.2 s).

    Returns:
        float64 ``(K,)``: the fraction of pixels whose nearest centre is each bin
        (sums to 1).

    Raises:
        ValueError: a bad shape or dtype, values outside [-1, 1] (CIE units
            passed by mistake), or no pixels.

    Example:
        >>> bins = AbBins(np.array([[0, 0], [10, 0]]), step=10)
        >>> class_prior(np.array([[0.0, 0.0], [0.08, 0.0], [0.07, 0.01]]), bins)
        array([0.33333333, 0.66666667])
    """
    bins = _check_bins(bins)
    chunk = validate.positive_int(chunk, "chunk")
    arr = np.asarray(ab_train)
    if arr.ndim < 1 or arr.shape[-1] != 2:
        raise ValueError(f"ab_train must have shape (N, H, W, 2) (network-scale a*, b* last), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"ab_train is empty (shape {arr.shape})")
    if arr.ndim == 1:
        arr = arr[None]
    counts = np.zeros(len(bins), dtype=np.int64)
    for start in range(0, len(arr), chunk):
        flat = _ab_pixels(arr[start:start + chunk], "ab_train")
        if np.abs(flat).max() > 1.0:
            raise ValueError(
                "ab_train must be in network scale ab / AB_SCALE, within [-1, 1]; its values reach "
                f"{np.abs(flat).max():.4g}: pass ab / color.AB_SCALE, not CIE units"
            )
        counts += np.bincount(_nearest_flat(flat * np.float32(color.AB_SCALE), bins), minlength=len(bins))
    return counts / counts.sum()


def _check_prior(prior, bins: AbBins) -> np.ndarray:
    p = np.asarray(prior, dtype=np.float64)
    if p.shape != (len(bins),):
        raise ValueError(f"prior must have shape (K,) = ({len(bins)},), one entry per bin, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise ValueError("prior must hold finite non-negative values with a positive sum")
    return p / p.sum()


def smooth_prior(prior, bins: AbBins, sigma: float = SIGMA) -> np.ndarray:
    """The prior smoothed by a Gaussian of width ``sigma`` over the bin centres.

    Each bin's probability is spread over the bins with weights
    ``exp(-|c_q - c_r|^2 / (2 sigma^2))`` normalised over ``q``, so no mass
    leaves the bins and the result still sums to 1. ``sigma=0`` returns the
    prior unchanged.

    Args:
        prior: ``(K,)`` non-negative values (probabilities or counts; normalised here).
        bins: the bins.
        sigma: Gaussian width in CIE units (>= 0).

    Returns:
        float64 ``(K,)`` summing to 1.

    Raises:
        ValueError: a bad argument.

    Example:
        >>> bins = AbBins(np.array([[0, 0], [10, 0]]), step=10)
        >>> np.round(smooth_prior([1.0, 0.0], bins, sigma=5.0), 4)
        array([0.8808, 0.1192])
    """
    bins = _check_bins(bins)
    p = _check_prior(prior, bins)
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    if sigma == 0:
        return p
    c = bins.centres.astype(np.float64)
    d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1)
    kernel = np.exp(-d2 / (2.0 * float(sigma) ** 2))
    kernel /= kernel.sum(axis=0, keepdims=True)  # column r: where bin r's mass goes
    smoothed = kernel @ p
    return smoothed / smoothed.sum()


def rebalance_weights(prior, bins: AbBins, lam: float = LAMBDA, sigma: float = SIGMA) -> np.ndarray:
    """Zhang et al.'s class-rebalancing weights (eq. 4).

    ``w_q ∝ ((1 - lam) p~_q + lam / K)^-1`` with ``p~ = smooth_prior(prior,
    bins, sigma)``, scaled so that the expected weight under the *smoothed*
    prior is 1: ``sum_q p~_q w_q = 1``. ``lam = 1`` gives all weights 1;
    smaller ``lam`` boosts the rare bins more.

    Args:
        prior: ``(K,)`` bin frequencies (:func:`class_prior`; counts are normalised).
        bins: the bins.
        lam: weight of the uniform distribution in the mix, in [0, 1].
        sigma: smoothing width in CIE units (>= 0; 0: no smoothing).

    Returns:
        float64 ``(K,)`` positive weights.

    Raises:
        ValueError: a bad argument, or ``lam = 0`` with a bin of smoothed probability 0.

    Example:
        >>> bins = AbBins(np.array([[0, 0], [50, 0]]), step=10)
        >>> w = rebalance_weights([0.75, 0.25], bins, lam=0.5, sigma=0)
        >>> w * 7, [0.75, 0.25] @ w  # (0.5 * p + 0.25)^-1, scaled to mean 1 under p
        (array([ 6., 10.]), np.float64(1.0))
    """
    lam = validate.probability(lam, "lam")
    smoothed = smooth_prior(prior, bins, sigma)
    mix = (1.0 - lam) * smoothed + lam / len(smoothed)
    if (mix <= 0).any():
        raise ValueError("lam = 0 leaves a bin of smoothed probability 0 with an infinite weight; use lam > 0")
    w = 1.0 / mix
    return w / (smoothed @ w)


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------


def _check_temperature(t) -> float:
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or t < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0: the mode), got {t!r}")
    return float(t)


def annealed_mean(probs, bins: AbBins, temperature: float = ANNEALED_T) -> np.ndarray:
    """Decode distributions over the bins into a*b* with the annealed mean.

    ``f_T(z) = exp(log z / T) / sum exp(log z / T)`` (computed with the
    log-sum-exp shift, in float64, chunk by chunk), then the expectation of the
    bin centres under ``f_T``: ``T = 1`` is the plain mean, ``T -> 0`` the mode
    (``T = 0`` takes the mode itself, ties to the lower index), and Zhang et al.
    use ``T = 0.38``. ``probs`` need not be normalised.

    Args:
        probs: non-negative float array ``(..., K)`` (e.g. a softmax output).
        bins: the bins the ``K`` classes stand for.
        temperature: ``T >= 0``.

    Returns:
        float32 ``(..., 2)`` (a*, b*) in CIE units.

    Raises:
        ValueError: bad shape or values (negative, non-finite, or all zero in a pixel).

    Example:
        >>> bins = AbBins(np.array([[0, 0], [10, 0]]), step=10)
        >>> p = np.array([0.75, 0.25])
        >>> annealed_mean(p, bins, 1.0), annealed_mean(p, bins, 0.5), annealed_mean(p, bins, 0)
        (array([2.5, 0. ], dtype=float32), array([1., 0.], dtype=float32), array([0., 0.], dtype=float32))
    """
    bins = _check_bins(bins)
    t = _check_temperature(temperature)
    z = np.asarray(probs)
    k = len(bins)
    if z.ndim < 1 or z.shape[-1] != k:
        raise ValueError(f"probs must have shape (..., K) with K = {k} bins, got shape {z.shape}")
    if not np.issubdtype(z.dtype, np.floating):
        raise ValueError(f"probs must hold floats; got dtype {z.dtype}")
    flat = z.reshape(-1, k)
    centres = bins.centres.astype(np.float64)
    out = np.empty((len(flat), 2), dtype=np.float32)
    rows = _chunk_rows(8 * k)
    for start in range(0, len(flat), rows):
        part = flat[start:start + rows].astype(np.float64)
        if not np.isfinite(part).all() or (part < 0).any():
            raise ValueError("probs must hold finite non-negative values")
        if (part.max(axis=1) <= 0).any():
            raise ValueError("probs has a pixel whose probabilities are all 0")
        if t == 0:
            out[start:start + rows] = centres[part.argmax(axis=1)]
            continue
        with np.errstate(divide="ignore"):
            logits = np.log(part)
        logits /= t
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        out[start:start + rows] = logits @ centres
    return out.reshape(z.shape[:-1] + (2,))


def predict_ab(model, l_input, bins: AbBins, temperature: float | Iterable[float] = ANNEALED_T, batch_size: int = 256):
    """Run a classification colorization model and decode its output to network-scale a*b*.

    The model's per-pixel distributions are decoded batch by batch and never
    kept: the test set's would take 6000 x 32 x 32 x K floats (several GB).

    Args:
        model: a Keras model from ``(N, H, W, 1)`` L*/100 to ``(N, H, W, K)`` probabilities.
        l_input: float ``(N, H, W, 1)`` in [0, 1] (:func:`cae_lib.color.lab_to_model`).
        bins: the bins the model's ``K`` classes stand for.
        temperature: one ``T >= 0`` or several (decoded from the same model run).
        batch_size: images per model call (256 CIFAR-10 images at K = 255:
            about 270 MB of probabilities).

    Returns:
        float32 ``(N, H, W, 2)`` ``ab / color.AB_SCALE`` (what
        :func:`cae_lib.color.rebuild_rgb` takes), or, for several temperatures,
        a dict ``{float(T): array}``.

    Raises:
        ValueError: a bad argument, or a model whose output is not ``(n, H, W, K)``.
    """
    bins = _check_bins(bins)
    x = validate.float_images(l_input, "l_input", channels=1)
    batch_size = validate.positive_int(batch_size, "batch_size")
    several = not isinstance(temperature, numbers.Real)
    temps = [_check_temperature(t) for t in (temperature if several else [temperature])]
    if several and not temps:
        raise ValueError("temperature must be a number or a non-empty sequence of numbers")
    out = {t: np.empty(x.shape[:-1] + (2,), dtype=np.float32) for t in temps}
    for start in range(0, len(x), batch_size):
        batch = np.asarray(x[start:start + batch_size], dtype=np.float32)
        probs = np.asarray(model.predict_on_batch(batch))
        h, w = batch.shape[1:3]
        if probs.ndim != 4 or probs.shape[0] != len(batch) or probs.shape[-1] != len(bins) or h % probs.shape[1]:
            raise ValueError(
                f"the model must map (n, H, W, 1) to (n, H/s, W/s, K) with K = {len(bins)} bins; "
                f"it gave {probs.shape} for {batch.shape}"
            )
        for t in temps:
            ab = annealed_mean(probs, bins, t) / np.float32(color.AB_SCALE)
            if ab.shape[1:3] != (h, w):  # colour predicted at a coarser scale: spread it over the pixels
                ab = np.stack([cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR) for a in ab])
            out[t][start:start + len(batch)] = ab
    return out if several else out[temps[0]]
