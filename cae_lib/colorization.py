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
- ``RebalancedCrossEntropy`` / :func:`rebalanced_crossentropy`: the Keras loss.

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

Default step. Measured on 5,000 CIFAR-10 training images (500 per class from
the train part of ``data.split_indices``): the true L* is kept, the true a*b*
replaced by its nearest bin centre, and the RGB rebuilt with
:func:`cae_lib.color.rebuild_rgb` is compared with the original through
:func:`cae_lib.metrics.psnr_global`:

=====  =====  ============  =========  ==============
step   bins   bins in use   PSNR (dB)  mean |Δab|
=====  =====  ============  =========  ==============
6      686    527           39.3       2.2
8      395    313           36.9       2.9
10     262    209           35.1       3.6
12     190    154           33.7       4.2
16     110    93            31.5       5.4
=====  =====  ============  =========  ==============

For scale: the RGB -> Lab -> RGB round trip alone gives 59.8 dB, and the grey
image (a*b* = 0) 22.0 dB. Step 10 keeps quantisation above 35 dB, 13 dB above
the grey image, with 262 classes; step 8 buys 1.8 dB for 50% more classes
(and memory in every per-pixel distribution). The annealed mean is not
limited to the centres, so this is a bound only for decoding by the mode.

TensorFlow/Keras are not imported by ``import cae_lib.colorization``: only
the loss imports Keras, on first use (:func:`register`). For the same reason
``RebalancedCrossEntropy`` is left out of ``__all__``, so that
``from cae_lib.colorization import *`` stays free of Keras too.

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
    "rebalanced_crossentropy",
    "register",
    "smooth_prior",
    "soft_encode",
]

#: Grid size in CIE a*b* units: quantising CIFAR-10's a*b* to its 262 bins costs
#: 35.1 dB RGB PSNR (measured, see the module docstring); Zhang et al. also use 10.
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
    Deterministic; takes about 0.2 s and is cached.

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
    takes 8 bytes per neighbour and value (40 MB for 10^6 values; about 2.5 s).

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


# ---------------------------------------------------------------------------
# the Keras loss
# ---------------------------------------------------------------------------


class _RebalancedCrossEntropy:
    """The body of ``RebalancedCrossEntropy``, a ``keras.losses.Loss``.

    ``import cae_lib.colorization`` must not import Keras, and a Keras loss
    must subclass ``keras.losses.Loss``; so the methods live here, at module
    level, and :func:`register` combines them with ``keras.losses.Loss`` into
    ``cae_lib.colorization.RebalancedCrossEntropy`` on first use (reading that
    attribute calls it). The class is registered with Keras as
    ``"cae_lib>RebalancedCrossEntropy"``.

    Loading a saved model compiled with it: call
    ``cae_lib.colorization.register()`` (or touch ``RebalancedCrossEntropy``)
    in the loading process before ``keras.saving.load_model``.

    The loss of a pixel with target ``y`` (network scale, ``(a*, b*) / AB_SCALE``)
    and predicted probabilities ``p`` is ``-w_{q*} sum_j g_j log p_{q_j}``, where
    ``q_1..q_n`` are the ``neighbours`` centres nearest to ``AB_SCALE * y``
    (found with ``keras.ops.top_k``, ties to the lower index), ``g`` their
    normalised Gaussian weights (:func:`soft_encode`), ``q* = q_1`` the nearest
    bin and ``w`` the rebalancing weights; ``p`` is clipped to ``[epsilon, 1]``.
    The pixel losses are averaged (Keras' ``"sum_over_batch_size"``).

    Args:
        centres: ``(K, 2)`` bin centres in CIE units (``AbBins.centres``).
        weights: ``(K,)`` positive weights (:func:`rebalance_weights`; all ones: no rebalancing).
        sigma: soft-encoding width in CIE units.
        neighbours: centres per pixel in the soft encoding.
        epsilon: lower clip of the probabilities (Keras' fuzz factor).
        name, reduction, dtype: as ``keras.losses.Loss``.
    """

    def __init__(
        self,
        centres,
        weights,
        sigma: float = SIGMA,
        neighbours: int = NEIGHBOURS,
        epsilon: float = 1e-7,
        name: str = "rebalanced_crossentropy",
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        c = np.asarray(centres, dtype=np.float32)
        if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0 or not np.isfinite(c).all():
            raise ValueError(f"centres must be a finite (K, 2) array of bin centres, got shape {c.shape}")
        w = np.asarray(weights, dtype=np.float32)
        if w.shape != (len(c),) or not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError(f"weights must be {len(c)} finite positive numbers (one per centre), got shape {w.shape}")
        self.centres = c
        self.weights = w
        self.sigma = validate.positive_float(sigma, "sigma")
        self.neighbours = validate.positive_int(neighbours, "neighbours")
        if self.neighbours > len(c):
            raise ValueError(f"neighbours must be at most the number of centres ({len(c)}), got {self.neighbours}")
        self.epsilon = validate.positive_float(epsilon, "epsilon")

    def call(self, y_true, y_pred):
        from keras import ops

        if y_true.shape[1] is not None and y_pred.shape[1] is not None and y_true.shape[1] != y_pred.shape[1]:
            # a model that predicts colour at a coarser scale (CAESpec.output_scale): compare
            # with the targets' averages over the same cells
            f = y_true.shape[1] // y_pred.shape[1]
            y_true = ops.average_pool(y_true, pool_size=f, strides=f, padding="valid")
        ab = y_true * color.AB_SCALE  # (B, H, W, 2) in CIE units
        centres = ops.convert_to_tensor(self.centres, dtype=ab.dtype)
        da = ab[..., 0:1] - centres[:, 0]  # (B, H, W, K)
        db = ab[..., 1:2] - centres[:, 1]
        neg_d2, index = ops.top_k(-(da * da + db * db), k=self.neighbours)  # nearest first
        g = ops.exp((neg_d2 - neg_d2[..., :1]) / (2.0 * self.sigma**2))
        g = g / ops.sum(g, axis=-1, keepdims=True)
        p = ops.clip(ops.take_along_axis(y_pred, index, axis=-1), self.epsilon, 1.0)
        w = ops.take(ops.convert_to_tensor(self.weights, dtype=y_pred.dtype), index[..., 0])
        return -w * ops.sum(g * ops.log(p), axis=-1)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "centres": self.centres.tolist(),
            "weights": self.weights.tolist(),
            "sigma": self.sigma,
            "neighbours": self.neighbours,
            "epsilon": self.epsilon,
        }


_LOSS_CLASS = None


def register():
    """Build (once) and register with Keras the class ``RebalancedCrossEntropy``; return it.

    Imports Keras. Call it before ``keras.saving.load_model`` on a model
    compiled with the loss (reading ``cae_lib.colorization.RebalancedCrossEntropy``
    does the same).
    """
    global _LOSS_CLASS
    if _LOSS_CLASS is None:
        import keras

        cls = type(
            "RebalancedCrossEntropy",
            (_RebalancedCrossEntropy, keras.losses.Loss),
            {"__module__": __name__, "__qualname__": "RebalancedCrossEntropy", "__doc__": _RebalancedCrossEntropy.__doc__},
        )
        _LOSS_CLASS = keras.saving.register_keras_serializable(package="cae_lib")(cls)
        globals()["RebalancedCrossEntropy"] = _LOSS_CLASS
    return _LOSS_CLASS


def __getattr__(name: str):
    if name == "RebalancedCrossEntropy":
        return register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"RebalancedCrossEntropy"})


def rebalanced_crossentropy(bins: AbBins, weights, sigma: float = SIGMA, **kwargs):
    """``RebalancedCrossEntropy(bins.centres, weights, sigma, **kwargs)`` (imports Keras).

    Example:
        >>> bins = ab_bins()
        >>> loss = rebalanced_crossentropy(bins, np.ones(len(bins)))
        >>> loss.name, loss.centres.shape
        ('rebalanced_crossentropy', (262, 2))
    """
    bins = _check_bins(bins)
    return register()(bins.centres, weights, sigma=sigma, **kwargs)


# ---------------------------------------------------------------------------
# colorizing a photograph of any size
# ---------------------------------------------------------------------------


def lightness(image) -> np.ndarray:
    """L*/100 of an RGB or greyscale image, ``(H, W, 1)`` float32 in [0, 1].

    Args:
        image: ``(H, W, 3)`` RGB or ``(H, W)`` / ``(H, W, 1)`` grey; uint8, or floats in [0, 1].

    Raises:
        ValueError: another shape, an empty image, or values out of range.

    Example:
        >>> lightness(np.full((2, 3), 255, np.uint8)).round(3)[0, 0]
        array([1.], dtype=float32)
    """
    x = np.asarray(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=-1)
    if x.ndim != 3 or x.shape[-1] != 3 or min(x.shape[:2]) < 1:
        raise ValueError(f"image must be (H, W, 3) RGB or (H, W) grey; got shape {np.shape(image)}")
    rgb = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return (color.rgb_to_lab(rgb)[..., :1] / color.L_SCALE).astype(np.float32)


def work_shape(height: int, width: int, work_size: int, multiple: int) -> tuple[int, int]:
    """The size an image is colorized at: its shorter side near ``work_size``, both sides multiples of ``multiple``.

    Example:
        >>> work_shape(300, 451, 32, 4)
        (32, 48)
    """
    scale = work_size / min(height, width)
    return tuple(max(multiple, int(round(side * scale / multiple)) * multiple) for side in (height, width))


def colorize_image(model, image, *, work_size: int = 32, temperature: float | None = None) -> np.ndarray:
    """Colorize one image of any size with a trained colorization network.

    The network saw whole 32×32 CIFAR-10 images, so the image's lightness is
    shrunk until its shorter side is about ``work_size`` pixels, the network
    predicts a*b* there, and the a*b* planes are enlarged (bilinear) onto the
    full-resolution L*, as colorization systems do: colour varies slowly, so
    the detail of the result comes from the image's own lightness.

    Args:
        model: a colorization model of :func:`cae_lib.training.run` (regression,
            2 outputs, or colour classes, K outputs).
        image: RGB (its colour is discarded) or grey, uint8 or float in [0, 1], any size.
        work_size: shorter side, in pixels, at which colour is predicted.
        temperature: annealed-mean temperature of a colour-class model
            (``None``: :data:`ANNEALED_T`).

    Returns:
        float32 ``(H, W, 3)`` RGB in [0, 1].
    """
    from cae_lib.models import any_size, spec_of

    lum = lightness(image)
    h, w = lum.shape[:2]
    spec = spec_of(model)
    wh, ww = work_shape(h, w, validate.positive_int(work_size, "work_size"), spec.downsampling * spec.output_scale)
    small = cv2.resize(lum[..., 0], (ww, wh), interpolation=cv2.INTER_AREA)[None, ..., None]
    flexible = any_size(model)
    if spec.output_channels == 2:
        ab = np.clip(flexible.predict(small, verbose=0)[0], -1.0, 1.0)
    else:
        t = ANNEALED_T if temperature is None else temperature
        ab = predict_ab(flexible, small, ab_bins(), t)[0]
    ab_full = cv2.resize(ab, (w, h), interpolation=cv2.INTER_LINEAR)
    return color.rebuild_rgb(lum, ab_full)


#: Colour photographs that ship with scikit-image (nothing is downloaded).
PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket")


def sample_photographs(names=PHOTOGRAPHS) -> dict:
    """scikit-image's sample colour photographs by name, as uint8 RGB (needs scikit-image).

    Example:
        >>> sample_photographs(["coffee"])["coffee"].shape
        (400, 600, 3)
    """
    from skimage import data as samples

    return {name: np.ascontiguousarray(getattr(samples, name)()[..., :3]) for name in names}


def colorize_photos(models: dict, photos: dict, *, temperature: float | None = None) -> dict:
    """:func:`colorize_image` of every photograph by every model: ``{model label: {photo name: RGB}}``."""
    return {label: {name: colorize_image(model, image, temperature=temperature) for name, image in photos.items()}
            for label, model in models.items()}
