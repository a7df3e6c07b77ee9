"""Bjontegaard deltas: how much rate (or PSNR) one rate-distortion curve saves over another, on average.

The classical method of Bjontegaard (VCEG-M33, 2001): each curve's points are
fitted by a cubic polynomial (least squares, ``numpy.polyfit``), and the two
fits are integrated over the interval both curves cover.

- :func:`bd_rate`: ``log(rate)`` as a cubic of PSNR, averaged over the common
  PSNR interval; the mean log-rate difference ``d`` gives
  ``100 * (exp(d) - 1)`` percent. Negative: the test codec needs fewer bits
  for the same PSNR.
- :func:`bd_psnr`: PSNR as a cubic of ``log(rate)``, averaged over the common
  log-rate interval, in dB. Positive: the test codec is better at the same rate.

Both take ``rate_range=(lo, hi)`` to keep only the points of each curve with a
rate in ``[lo, hi]`` (e.g. "over their common range between 0.5 and 4 bpp").
The ``bjontegaard`` package's ``method="cubic"`` is the same computation
(``tests/test_bdrate.py`` compares them); its default ``"akima"`` and
``"pchip"`` are the piecewise interpolations of later VCEG/JVET practice.

Example:
    >>> rate, psnr = [0.5, 1.0, 2.0, 4.0], [28.0, 31.0, 34.0, 37.0]
    >>> round(bd_rate(rate, psnr, [r / 2 for r in rate], psnr), 6)
    -50.0
    >>> round(bd_psnr(rate, psnr, rate, [p + 1 for p in psnr]), 6)
    1.0
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["bd_rate", "bd_psnr", "MIN_POINTS"]

#: Points a curve needs for the cubic fit (four coefficients).
MIN_POINTS = 4


def _check_range(rate_range) -> tuple[float, float] | None:
    if rate_range is None:
        return None
    try:
        lo, hi = rate_range
    except (TypeError, ValueError):
        raise ValueError(f"rate_range must be a pair (lo, hi) of rates, got {rate_range!r}") from None
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in (lo, hi)) \
            or not 0 <= lo < hi:
        raise ValueError(f"rate_range must be finite rates with 0 <= lo < hi, got {rate_range!r}")
    return float(lo), float(hi)


def _curve(rate, psnr, which: str, rate_range) -> tuple[np.ndarray, np.ndarray]:
    """``(log(rate), psnr)`` of one curve, sorted by rate, filtered to ``rate_range`` and checked."""
    try:
        r, p = np.asarray(rate, dtype=np.float64), np.asarray(psnr, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"the {which} curve's rates and PSNRs must be numbers") from None
    if r.ndim != 1 or p.ndim != 1 or r.shape != p.shape:
        raise ValueError(f"the {which} curve needs as many rates as PSNRs, as 1-D sequences; got shapes {r.shape} "
                         f"and {p.shape}")
    if not (np.isfinite(r).all() and np.isfinite(p).all()):
        raise ValueError(f"the {which} curve holds NaN or infinite values")
    if (r <= 0).any():
        raise ValueError(f"the {which} curve's rates must be positive, got {r.tolist()}")
    if rate_range is not None:
        keep = (r >= rate_range[0]) & (r <= rate_range[1])
        r, p = r[keep], p[keep]
    if len(r) < MIN_POINTS:
        where = "" if rate_range is None else f" with a rate in [{rate_range[0]:g}, {rate_range[1]:g}]"
        raise ValueError(f"the {which} curve has {len(r)} points{where}; the cubic fit needs at least {MIN_POINTS}")
    order = np.argsort(r, kind="stable")
    r, p = r[order], p[order]
    if not (np.all(np.diff(r) > 0) and np.all(np.diff(p) > 0)):
        raise ValueError(f"the {which} curve must be strictly monotone: PSNR rising with rate, no repeated rate; "
                         f"got rates {r.tolist()} and PSNRs {p.tolist()}")
    return np.log(r), p


def _mean_gap(x_anchor, y_anchor, x_test, y_test, axis: str) -> float:
    """Mean of (cubic fit of test - cubic fit of anchor), ``y`` against ``x``, over the common ``x`` interval."""
    lo, hi = max(x_anchor[0], x_test[0]), min(x_anchor[-1], x_test[-1])
    if not lo < hi:
        raise ValueError(f"the curves do not overlap in {axis}: anchor [{x_anchor[0]:.4g}, {x_anchor[-1]:.4g}], "
                         f"test [{x_test[0]:.4g}, {x_test[-1]:.4g}]")
    areas = []
    for x, y in ((x_anchor, y_anchor), (x_test, y_test)):
        integral = np.polyint(np.polyfit(x, y, 3))
        areas.append(np.polyval(integral, hi) - np.polyval(integral, lo))
    return float((areas[1] - areas[0]) / (hi - lo))


def bd_rate(rate_anchor, psnr_anchor, rate_test, psnr_test, *, rate_range=None) -> float:
    """Bjontegaard delta rate: the test codec's mean rate change at equal PSNR, in percent.

    ``log(rate)`` of each curve is fitted as a cubic polynomial of PSNR and
    integrated over the PSNR interval both curves cover; the mean difference
    ``d`` (test - anchor) gives ``100 * (exp(d) - 1)``.

    Args:
        rate_anchor: the reference codec's rates (e.g. bits per pixel), positive.
        psnr_anchor: its PSNRs (dB), one per rate.
        rate_test: the codec compared's rates.
        psnr_test: its PSNRs.
        rate_range: ``(lo, hi)``: keep only each curve's points with a rate in
            ``[lo, hi]`` (``None``: all).

    Returns:
        The delta rate in percent; negative when the test codec needs fewer bits.

    Raises:
        ValueError: a curve with mismatched lengths, non-finite values,
            non-positive rates, fewer than :data:`MIN_POINTS` points (after the
            range filter) or not strictly monotone; a bad ``rate_range``; curves
            that do not overlap in PSNR.

    Example:
        >>> round(bd_rate([1, 2, 4, 8], [30, 33, 36, 39], [1, 2, 4, 8], [30, 33, 36, 39]), 9)
        0.0
    """
    rate_range = _check_range(rate_range)
    log_ra, psnr_a = _curve(rate_anchor, psnr_anchor, "anchor", rate_range)
    log_rt, psnr_t = _curve(rate_test, psnr_test, "test", rate_range)
    gap = _mean_gap(psnr_a, log_ra, psnr_t, log_rt, "PSNR")
    return 100.0 * math.expm1(gap)


def bd_psnr(rate_anchor, psnr_anchor, rate_test, psnr_test, *, rate_range=None) -> float:
    """Bjontegaard delta PSNR: the test codec's mean PSNR change at equal rate, in dB.

    PSNR of each curve is fitted as a cubic polynomial of ``log(rate)`` and
    integrated over the log-rate interval both curves cover; the result is the
    mean difference (test - anchor).

    Args:
        rate_anchor, psnr_anchor, rate_test, psnr_test, rate_range: as for :func:`bd_rate`.

    Returns:
        The delta PSNR in dB; positive when the test codec is better.

    Raises:
        ValueError: as for :func:`bd_rate`, with curves that do not overlap in rate.

    Example:
        >>> round(bd_psnr([1, 2, 4, 8], [30, 33, 36, 39], [1, 2, 4, 8], [29, 32, 35, 38]), 6)
        -1.0
    """
    rate_range = _check_range(rate_range)
    log_ra, psnr_a = _curve(rate_anchor, psnr_anchor, "anchor", rate_range)
    log_rt, psnr_t = _curve(rate_test, psnr_test, "test", rate_range)
    return _mean_gap(log_ra, psnr_a, log_rt, psnr_t, "rate")
