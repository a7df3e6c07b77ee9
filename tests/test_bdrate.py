"""cae_lib.bdrate: against the reference ``bjontegaard`` package (its cubic method) and hand computations."""

import math

import bjontegaard
import numpy as np
import pytest

from cae_lib.bdrate import bd_psnr, bd_rate

REFERENCE_ATOL_PERCENT = 1e-8  # the same least-squares cubics in log10 (theirs) and ln (ours): rounding only
REFERENCE_ATOL_DB = 1e-9
EXACT_ATOL = 1e-9

# Realistic curves: (bits per pixel, PSNR dB) of classical codecs on seven 32x32 photographs
# (skimage's astronaut, coffee, chelsea, rocket and astronaut crops, INTER_AREA), measured once with
# cae_lib.codecs.classical; plus two close four-point curves in kbit/s, listed by falling rate.
CURVES = {
    "jpeg_payload": ([0.27, 0.42, 0.67, 1.06, 1.36, 1.85, 2.49, 3.60, 6.10], [17.6, 19.4, 21.6, 23.5, 24.5, 26.0,
                                                                              27.5, 29.8, 33.1]),
    "webp": ([0.81, 1.28, 1.49, 1.91, 2.54, 3.17, 4.23, 5.08, 6.21], [20.5, 23.3, 24.3, 26.1, 28.4, 30.0, 31.9, 32.7,
                                                                      33.5]),
    "jpegxl": ([0.94, 1.08, 1.39, 1.88, 2.44, 3.07, 3.95, 4.68, 6.25, 7.70], [19.9, 20.6, 22.8, 25.0, 26.9, 28.7,
                                                                              30.7, 32.3, 34.9, 36.4]),
    "jpeg2000": ([1.51, 1.74, 2.01, 2.61, 3.41, 3.98, 5.03, 5.75, 7.01, 7.81], [17.5, 19.8, 21.8, 24.8, 28.0, 29.8,
                                                                                33.0, 34.8, 37.9, 39.8]),
    "avif": ([2.64, 2.81, 3.01, 3.28, 3.56, 4.07, 4.72, 5.48, 6.24, 7.58], [20.3, 22.0, 23.7, 25.5, 27.1, 29.6,
                                                                            32.0, 34.8, 36.7, 39.7]),
}
VIDEO_ANCHOR = ([9487.76, 4593.60, 2486.44, 1358.24], [40.28, 37.18, 34.24, 31.42])
VIDEO_TEST = ([9787.80, 4469.00, 2451.52, 1356.24], [40.39, 37.21, 34.17, 31.24])

PAIRS = [("jpeg_payload", "webp"), ("webp", "jpegxl"), ("jpegxl", "jpeg2000"), ("jpeg2000", "avif"),
         ("webp", "jpeg2000")]


def _sorted(rate, psnr):
    order = np.argsort(rate)
    return np.asarray(rate, float)[order], np.asarray(psnr, float)[order]


def _reference(fn, anchor, test):
    (ra, pa), (rt, pt) = _sorted(*anchor), _sorted(*test)
    return fn(ra, pa, rt, pt, method="cubic", require_matching_points=False, min_overlap=0)


@pytest.mark.parametrize(("anchor", "test"), PAIRS)
def test_bd_rate_and_psnr_match_the_bjontegaard_packages_cubic_method(anchor, test):
    a, t = CURVES[anchor], CURVES[test]
    assert bd_rate(*a, *t) == pytest.approx(_reference(bjontegaard.bd_rate, a, t), abs=REFERENCE_ATOL_PERCENT)
    assert bd_psnr(*a, *t) == pytest.approx(_reference(bjontegaard.bd_psnr, a, t), abs=REFERENCE_ATOL_DB)


def test_a_four_point_video_curve_matches_the_reference_and_is_order_free():
    expected = _reference(bjontegaard.bd_rate, VIDEO_ANCHOR, VIDEO_TEST)
    assert bd_rate(*VIDEO_ANCHOR, *VIDEO_TEST) == pytest.approx(expected, abs=REFERENCE_ATOL_PERCENT)
    assert bd_psnr(*VIDEO_ANCHOR, *VIDEO_TEST) == pytest.approx(
        _reference(bjontegaard.bd_psnr, VIDEO_ANCHOR, VIDEO_TEST), abs=REFERENCE_ATOL_DB)
    assert abs(expected) < 5  # close curves: a small delta


def test_swapping_anchor_and_test_inverts_the_rate_ratio():
    a, t = CURVES["webp"], CURVES["jpegxl"]
    forward, backward = 1 + bd_rate(*a, *t) / 100, 1 + bd_rate(*t, *a) / 100
    assert forward * backward == pytest.approx(1.0, abs=1e-12)
    assert bd_psnr(*a, *t) == pytest.approx(-bd_psnr(*t, *a), abs=1e-12)


def test_identical_curves_give_zero():
    rate, psnr = CURVES["jpegxl"]
    assert bd_rate(rate, psnr, rate, psnr) == pytest.approx(0.0, abs=EXACT_ATOL)
    assert bd_psnr(rate, psnr, rate, psnr) == pytest.approx(0.0, abs=EXACT_ATOL)


def test_halving_every_rate_is_minus_fifty_percent():
    rate, psnr = CURVES["webp"]
    half = [r / 2 for r in rate]
    assert bd_rate(rate, psnr, half, psnr) == pytest.approx(-50.0, abs=EXACT_ATOL)
    assert bd_rate(half, psnr, rate, psnr) == pytest.approx(100.0, abs=EXACT_ATOL)


def test_one_db_better_everywhere_is_plus_one_db():
    rate, psnr = CURVES["jpeg2000"]
    assert bd_psnr(rate, psnr, rate, [p + 1 for p in psnr]) == pytest.approx(1.0, abs=EXACT_ATOL)


def test_straight_lines_give_the_integral_by_hand():
    # anchor: ln r = 0.2 (p - 30) on p in [30, 40]; test: ln r = 0.1 (p - 30) on [30, 45].
    # Common PSNR interval [30, 40]; the mean of -0.1 (p - 30) over it is -0.5, so BD-rate = exp(-0.5) - 1.
    pa, pt = np.linspace(30, 40, 5), np.linspace(30, 45, 6)
    ra, rt = np.exp(0.2 * (pa - 30)), np.exp(0.1 * (pt - 30))
    assert bd_rate(ra, pa, rt, pt) == pytest.approx(100 * (math.exp(-0.5) - 1), abs=EXACT_ATOL)
    # BD-PSNR: p = 30 + 5 ln r on ln r in [0, 2] (anchor), 30 + 10 ln r on [0, 1.5] (test); common [0, 1.5]:
    # the mean of 5 ln r over it is 5 * 0.75 = 3.75 dB
    assert bd_psnr(ra, pa, rt, pt) == pytest.approx(3.75, abs=EXACT_ATOL)


def test_rate_range_keeps_each_curves_points_inside_it():
    a, t = CURVES["webp"], CURVES["jpeg2000"]
    lo, hi = 0.5, 4.0

    def inside(curve):
        r, p = np.asarray(curve[0]), np.asarray(curve[1])
        keep = (r >= lo) & (r <= hi)
        return r[keep], p[keep]

    ai, ti = inside(a), inside(t)
    assert len(ai[0]) < len(a[0]) and len(ti[0]) < len(t[0])  # the filter drops points on both curves
    assert bd_rate(*a, *t, rate_range=(lo, hi)) == pytest.approx(bd_rate(*ai, *ti), abs=1e-12)
    assert bd_psnr(*a, *t, rate_range=(lo, hi)) == pytest.approx(bd_psnr(*ai, *ti), abs=1e-12)
    assert bd_rate(*a, *t, rate_range=(lo, hi)) != pytest.approx(bd_rate(*a, *t), abs=1e-3)
    # a range holding every point changes nothing; the bounds are inclusive
    assert bd_rate(*a, *t, rate_range=(0.81, 7.81)) == bd_rate(*a, *t)


def test_unsorted_points_give_the_sorted_answer():
    rate, psnr = CURVES["jpegxl"]
    order = np.random.default_rng(0).permutation(len(rate))
    shuffled = (np.asarray(rate)[order], np.asarray(psnr)[order])
    assert bd_rate(*shuffled, *CURVES["avif"]) == pytest.approx(bd_rate(rate, psnr, *CURVES["avif"]), abs=1e-9)


GOOD = CURVES["webp"]


@pytest.mark.parametrize(("anchor", "test", "kwargs", "match"), [
    ((GOOD[0][:-1], GOOD[1]), GOOD, {}, "as many rates as PSNRs"),
    (GOOD, (GOOD[0], GOOD[1][:-1]), {}, "the test curve needs as many rates"),
    (([1, 2, 4], [30, 33, 36]), GOOD, {}, "3 points; the cubic fit needs at least 4"),
    (([1, 2, 4, math.nan], [30, 33, 36, 39]), GOOD, {}, "NaN or infinite"),
    (GOOD, ([1, 2, 4, 8], [30, 33, math.inf, 39]), {}, "NaN or infinite"),
    (([0, 2, 4, 8], [30, 33, 36, 39]), GOOD, {}, "must be positive"),
    (([1, 2, 4, -8], [30, 33, 36, 39]), GOOD, {}, "must be positive"),
    (([1, 2, 4, 8], [30, 29, 36, 39]), GOOD, {}, "strictly monotone"),
    (([1, 2, 2, 8], [30, 33, 36, 39]), GOOD, {}, "strictly monotone"),
    ((["a", 2, 4, 8], [30, 33, 36, 39]), GOOD, {}, "must be numbers"),
    (([[1, 2], [4, 8]], [[30, 33], [36, 39]]), GOOD, {}, "1-D"),
    (GOOD, GOOD, {"rate_range": (1.0, 2.0)}, r"points with a rate in \[1, 2\]; the cubic fit needs at least 4"),
    (GOOD, GOOD, {"rate_range": (4.0, 1.0)}, "0 <= lo < hi"),
    (GOOD, GOOD, {"rate_range": (0.5, math.inf)}, "finite"),
    (GOOD, GOOD, {"rate_range": 4.0}, "a pair"),
])
def test_bad_curves_are_refused_with_a_clear_message(anchor, test, kwargs, match):
    for fn in (bd_rate, bd_psnr):
        with pytest.raises(ValueError, match=match):
            fn(*anchor, *test, **kwargs)


def test_curves_that_do_not_overlap_are_refused():
    low = ([0.1, 0.2, 0.4, 0.8], [20.0, 22.0, 24.0, 26.0])
    high = ([1.0, 2.0, 4.0, 8.0], [30.0, 33.0, 36.0, 39.0])
    with pytest.raises(ValueError, match="do not overlap in PSNR"):
        bd_rate(*low, *high)
    with pytest.raises(ValueError, match="do not overlap in rate"):
        bd_psnr(*low, *high)
