"""Tests for cae_lib.color: published values, scikit-image, round trips, bad input."""

import doctest
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest
from skimage import color as skcolor

from cae_lib import color
from cae_lib.color import (
    AB_SCALE,
    ab_plane,
    in_gamut,
    lab_to_model,
    lab_to_rgb,
    model_to_lab,
    rebuild_rgb,
    rgb_to_lab,
)

# CIELAB (D65, 2 degree observer) of sRGB colours, from the sRGB definition
# (IEC 61966-2-1:1999: transfer function and RGB->XYZ matrix, D65 white
# Xn=0.95047, Zn=1.08883) and the CIE 15:2004 L*a*b* formulas, as given in
# B. Lindbloom's "RGB to XYZ" and "XYZ to Lab" equations (brucelindbloom.com).
# The same four-decimal values are quoted for the sRGB primaries across
# colour libraries; test_published_values_follow_the_cie_formulas recomputes them.
PUBLISHED = {
    "red": ((1.0, 0.0, 0.0), (53.2408, 80.0925, 67.2032)),
    "green": ((0.0, 1.0, 0.0), (87.7347, -86.1827, 83.1793)),
    "blue": ((0.0, 0.0, 1.0), (32.2970, 79.1875, -107.8602)),
    "white": ((1.0, 1.0, 1.0), (100.0, 0.0, 0.0)),
    "black": ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    "grey50": ((0.5, 0.5, 0.5), (53.3890, 0.0, 0.0)),
}
# OpenCV stores a*, b* in steps of 1/64 (rounding error up to 1/128 = 0.0078)
# and uses slightly different constants; at these colours it is within 0.01.
PUBLISHED_ATOL = 0.02

# OpenCV interpolates RGB->Lab in a lookup table. Its largest departure from
# the exact formulas (scikit-image) is 0.19 in L*, 0.47 in a*, 0.33 in b* over
# all 2^24 uint8 colours, and 0.24 / 0.64 / 0.53 (Delta E76 0.75) over five
# million random float colours; the mean is about 0.08 in each channel.
SKIMAGE_ATOL = np.array([0.3, 0.75, 0.75])
# Lab->RGB is computed directly and agrees with scikit-image to 3.3e-4.
LAB2RGB_ATOL = 1e-3
# RGB->Lab->RGB inherits the forward error: at most 0.0054 in RGB over all
# uint8 colours and millions of random floats, i.e. at most one uint8 level.
ROUNDTRIP_ATOL = 0.008

_SRGB_TO_XYZ = np.array(  # IEC 61966-2-1, D65
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPS, _KAPPA = 216 / 24389, 24389 / 27  # CIE 15:2004


def _reference_lab(rgb):
    """sRGB in [0, 1] -> CIELAB by the published formulas, in float64."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _SRGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def _reference_linear_rgb(lab):
    """CIELAB -> linear sRGB, unclipped, by the published formulas."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    return xyz @ np.linalg.inv(_SRGB_TO_XYZ).T


@pytest.fixture(scope="module")
def random_rgb():
    """10,000 seeded random sRGB colours as a (100, 100, 3) float64 image."""
    return np.random.default_rng(2024).random((100, 100, 3))


# --- published values ------------------------------------------------------


def test_published_values_follow_the_cie_formulas():
    for rgb, lab in PUBLISHED.values():
        np.testing.assert_allclose(_reference_lab(rgb), lab, atol=1e-4)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_rgb_to_lab_matches_published_values(name):
    rgb, expected = PUBLISHED[name]
    lab = rgb_to_lab(np.array([[rgb]], dtype=np.float32))
    np.testing.assert_allclose(lab[0, 0], expected, atol=PUBLISHED_ATOL)


@pytest.mark.parametrize("name", ["red", "green", "blue", "white", "black"])
def test_uint8_input_matches_published_values(name):
    rgb, expected = PUBLISHED[name]
    pixel = np.array([[rgb]]) * 255
    lab = rgb_to_lab(pixel.astype(np.uint8))
    np.testing.assert_allclose(lab[0, 0], expected, atol=PUBLISHED_ATOL)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_lab_to_rgb_matches_published_values(name):
    expected, lab = PUBLISHED[name]
    rgb = lab_to_rgb(np.array([[lab]], dtype=np.float64))
    np.testing.assert_allclose(rgb[0, 0], expected, atol=LAB2RGB_ATOL)


# --- agreement with scikit-image ---------------------------------------------


def test_rgb_to_lab_agrees_with_skimage(random_rgb):
    ours = rgb_to_lab(random_rgb)
    ref = skcolor.rgb2lab(random_rgb, illuminant="D65", observer="2")
    err = np.abs(ours - ref).reshape(-1, 3)
    assert np.all(err.max(axis=0) <= SKIMAGE_ATOL), err.max(axis=0)
    # The error is interpolation noise, not an offset: small on average.
    assert np.all(err.mean(axis=0) < 0.1), err.mean(axis=0)
    # scikit-image itself uses a four-decimal sRGB matrix: within 0.01 of the formulas
    np.testing.assert_allclose(ref, _reference_lab(random_rgb), atol=0.01)


def test_rgb_to_lab_agrees_with_skimage_on_uint8_grid():
    levels = np.arange(0, 256, 5, dtype=np.uint8)  # 52^3 colours, corners included
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(52, -1, 3)
    ref = skcolor.rgb2lab(cube / 255.0, illuminant="D65", observer="2")
    err = np.abs(rgb_to_lab(cube) - ref).reshape(-1, 3)
    assert np.all(err.max(axis=0) <= SKIMAGE_ATOL), err.max(axis=0)


def test_lab_to_rgb_agrees_with_skimage(random_rgb):
    lab = skcolor.rgb2lab(random_rgb, illuminant="D65", observer="2")
    ours = lab_to_rgb(lab)
    np.testing.assert_allclose(ours, skcolor.lab2rgb(lab), atol=LAB2RGB_ATOL)
    np.testing.assert_allclose(ours, random_rgb, atol=LAB2RGB_ATOL)


def test_out_of_gamut_lab_is_clipped_like_skimage():
    lab = np.array([[[50.0, 100.0, 100.0], [50.0, -120.0, 0.0], [0.0, 50.0, -80.0]]])
    ours = lab_to_rgb(lab)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skimage warns about the negative values it clips
        ref = skcolor.lab2rgb(lab)
    assert ours.min() >= 0.0 and ours.max() <= 1.0
    np.testing.assert_allclose(ours, ref, atol=LAB2RGB_ATOL)


# --- round trips, batches, dtypes -------------------------------------------


@pytest.mark.parametrize("shape", [(32, 32, 3), (16, 32, 32, 3)])
def test_float_round_trip(shape):
    rgb = np.random.default_rng(1).random(shape).astype(np.float32)
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=ROUNDTRIP_ATOL)


@pytest.mark.parametrize("shape", [(32, 32, 3), (16, 32, 32, 3)])
def test_uint8_round_trip_within_one_level(shape):
    rgb = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    back = np.round(lab_to_rgb(rgb_to_lab(rgb)) * 255).astype(int)
    assert np.abs(back - rgb.astype(int)).max() <= 1
    # uint8 and the same colours as floats give the same Lab
    np.testing.assert_allclose(rgb_to_lab(rgb), rgb_to_lab(rgb / 255.0), atol=1e-4)


def test_batch_equals_image_by_image():
    batch = np.random.default_rng(3).random((5, 8, 12, 3)).astype(np.float32)
    lab = rgb_to_lab(batch)
    assert lab.shape == batch.shape
    for i in range(len(batch)):
        np.testing.assert_array_equal(lab[i], rgb_to_lab(batch[i]))
        np.testing.assert_array_equal(lab_to_rgb(lab)[i], lab_to_rgb(lab[i]))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.uint8])
def test_outputs_are_float32(dtype):
    rgb = np.ones((4, 4, 3), dtype=dtype)
    lab = rgb_to_lab(rgb)
    assert lab.dtype == np.float32
    assert lab_to_rgb(lab.astype(np.float64)).dtype == np.float32
    l_in, ab = lab_to_model(lab.astype(np.float64))
    assert l_in.dtype == ab.dtype == np.float32
    assert model_to_lab(l_in.astype(np.float64), ab.astype(np.float64)).dtype == np.float32
    assert rebuild_rgb(l_in, ab).dtype == np.float32


def test_non_contiguous_input():
    rgb = np.random.default_rng(4).random((6, 10, 10, 3))
    view = rgb[::2, :, ::-1]  # strided, reversed
    np.testing.assert_allclose(rgb_to_lab(view), rgb_to_lab(view.copy()), atol=0)


def test_empty_batch():
    assert rgb_to_lab(np.zeros((0, 32, 32, 3), np.uint8)).shape == (0, 32, 32, 3)
    assert lab_to_rgb(np.zeros((0, 32, 32, 3), np.float32)).shape == (0, 32, 32, 3)


def test_tiny_overshoot_is_clipped_without_touching_the_input():
    rgb = np.full((2, 2, 3), 1.0005, dtype=np.float32)
    lab = rgb_to_lab(rgb)
    assert np.all(rgb == np.float32(1.0005))
    np.testing.assert_allclose(lab, rgb_to_lab(np.ones((2, 2, 3), np.float32)), atol=0)


# --- network scaling ---------------------------------------------------------


def test_lab_to_model_by_hand():
    lab = np.array(
        [[[0.0, 0.0, 0.0], [100.0, 64.0, -128.0]], [[50.0, 96.0, -32.0], [25.0, -256.0, 300.0]]]
    )
    l_in, ab = lab_to_model(lab)
    assert l_in.shape == (2, 2, 1) and ab.shape == (2, 2, 2)
    np.testing.assert_allclose(l_in[..., 0], [[0.0, 1.0], [0.5, 0.25]])
    # ab / 128, and values beyond +-128 (outside sRGB) clipped to +-1
    np.testing.assert_allclose(ab, [[[0, 0], [0.5, -1.0]], [[0.75, -0.25], [-1.0, 1.0]]])


def test_srgb_targets_fit_inside_tanh_range():
    # Every colour of a 52^3 grid of the RGB cube, corners included.
    levels = np.linspace(0.0, 1.0, 52)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(52, -1, 3)
    l_in, ab = lab_to_model(rgb_to_lab(cube))
    assert l_in.min() >= 0.0 and l_in.max() <= 1.0
    assert np.abs(ab).max() < 0.9  # |b*| <= 107.9 (blue) -> 0.843: no clipping
    assert np.abs(ab).max() > 0.8


@pytest.mark.parametrize("shape", [(32, 32, 3), (8, 32, 32, 3)])
def test_model_round_trip(shape):
    lab = rgb_to_lab(np.random.default_rng(5).random(shape))
    l_in, ab = lab_to_model(lab)
    assert l_in.shape == shape[:-1] + (1,) and ab.shape == shape[:-1] + (2,)
    np.testing.assert_allclose(model_to_lab(l_in, ab), lab, atol=1e-4)
    np.testing.assert_allclose(ab * AB_SCALE, lab[..., 1:], atol=1e-4)


def test_rebuild_rgb_with_true_ab_reproduces_the_image():
    rgb = np.random.default_rng(6).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    rebuilt = rebuild_rgb(*lab_to_model(rgb_to_lab(rgb)))
    assert rebuilt.shape == rgb.shape
    np.testing.assert_allclose(rebuilt, rgb / 255.0, atol=ROUNDTRIP_ATOL)


def test_rebuild_rgb_with_zero_ab_is_grey_of_the_same_lightness():
    rgb = np.random.default_rng(7).random((16, 16, 3))
    l_in, ab = lab_to_model(rgb_to_lab(rgb))
    grey = rebuild_rgb(l_in, np.zeros_like(ab))
    np.testing.assert_allclose(grey[..., 0], grey[..., 1], atol=1e-3)
    np.testing.assert_allclose(grey[..., 0], grey[..., 2], atol=1e-3)
    # the grey's L* is the input's L*: compare with the exact formulas
    np.testing.assert_allclose(_reference_lab(grey)[..., 0], 100 * l_in[..., 0], atol=0.3)


# --- gamut and the a*b* plane ------------------------------------------------


def test_in_gamut_of_srgb_colours_and_beyond():
    inside = np.random.default_rng(8).uniform(0.1, 0.9, (50, 50, 3))
    assert in_gamut(_reference_lab(inside)).all()
    outside = np.array(
        [[[50.0, 0.0, -100.0], [100.0, 20.0, 0.0], [50.0, 100.0, 100.0], [87.7, -100.0, 83.2]]]
    )
    assert not in_gamut(outside).any()


#: The D65 white OpenCV converts with, as its documentation publishes it (OpenCV, "Color conversions",
#: RGB <-> CIE L*a*b*: X/Xn with Xn = 0.950456 and Z/Zn with Zn = 1.088754;
#: https://docs.opencv.org/4.x/de/d25/imgproc_color_conversions.html). The CIE/ASTM E308 tabulated
#: D65 (0.95047, 1, 1.08883, the ``_WHITE`` of the reference formulas above) differs in the fifth digit.
OPENCV_D65 = (0.950456, 1.0, 1.088754)


def test_the_white_point_is_the_one_opencv_converts_with():
    xyz_of_white = cv2.cvtColor(np.ones((1, 1, 3), np.float32), cv2.COLOR_RGB2XYZ)[0, 0]
    np.testing.assert_allclose(color._WHITE_D65, xyz_of_white, rtol=0, atol=1e-6,
                               err_msg="in_gamut's white is not the XYZ OpenCV gives pure white")
    np.testing.assert_allclose(color._WHITE_D65, OPENCV_D65, rtol=0, atol=1e-9,
                               err_msg="in_gamut's white is not OpenCV's published D65")


def test_pure_white_is_lab_100_0_0_and_on_the_gamut_edge():
    # CIE 15:2004, section 8.2.1: the reference white itself has L* = 100, a* = b* = 0, and sRGB's white
    # (IEC 61966-2-1) is D65. So Lab (100, 0, 0) is sRGB white, inside the gamut to rounding, and the
    # least tint either way along b* (more or less blue than white) leaves it.
    white = np.ones((1, 1, 3), np.float32)
    np.testing.assert_allclose(rgb_to_lab(white)[0, 0], (100.0, 0.0, 0.0), atol=1e-4)
    np.testing.assert_allclose(lab_to_rgb(np.array([[[100.0, 0.0, 0.0]]]))[0, 0], (1.0, 1.0, 1.0), atol=1e-5)
    assert in_gamut(np.array([[[100.0, 0.0, 0.0]]]), atol=1e-6).all(), "sRGB white is outside in_gamut's gamut"
    assert in_gamut(np.zeros((1, 1, 3)), atol=1e-6).all()  # black
    assert not in_gamut(np.array([[[100.0, 0.0, -0.05], [100.0, 0.0, 0.05]]]), atol=1e-6).any()


@pytest.mark.parametrize("L", [5.0, 25.0, 50.0, 75.0, 95.0])
def test_ab_plane_gamut_mask_matches_formulas(L):
    size, extent = 129, 110.0
    rgb, mask = ab_plane(L=L, size=size, extent=extent)
    assert rgb.shape == (size, size, 3) and rgb.dtype == np.float32
    assert mask.shape == (size, size) and mask.dtype == bool
    axis = np.linspace(-extent, extent, size)
    b, a = np.meshgrid(axis[::-1], axis, indexing="ij")
    linear = _reference_linear_rgb(np.stack([np.full_like(a, L), a, b], -1))
    margin = np.minimum(linear.min(-1), 1 - linear.max(-1))
    clear = np.abs(margin) > 1e-3  # away from the gamut's edge
    np.testing.assert_array_equal(mask[clear], margin[clear] > 0)
    assert 0 < mask.sum() < size * size


def test_ab_plane_orientation_and_fill():
    size, extent, L = 9, 80.0, 60.0
    rgb, mask = ab_plane(L=L, size=size, extent=extent, fill=0.25)
    axis = np.linspace(-extent, extent, size)
    row, col = 2, 6  # b* = axis[::-1][2] = +40, a* = axis[6] = +40
    expected = lab_to_rgb(np.array([[[L, axis[col], axis[::-1][row]]]]))[0, 0]
    assert mask[row, col]
    np.testing.assert_allclose(rgb[row, col], expected, atol=1e-6)
    assert np.all(rgb[~mask] == 0.25)
    centre = rgb[size // 2, size // 2]  # a* = b* = 0: neutral grey
    np.testing.assert_allclose(centre, centre.mean(), atol=1e-3)
    assert mask[2, size // 2] and mask[size // 2, 6]
    assert rgb[2, size // 2, 0] > rgb[2, size // 2, 2]  # upper half, b* > 0: yellowish
    assert rgb[size // 2, 6, 0] > rgb[size // 2, 6, 1]  # right half, a* > 0: reddish


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"L": 120}, "L must"),
        ({"size": 1}, "size must"),
        ({"extent": 0}, "extent must"),
        ({"fill": 2}, "fill must"),
    ],
)
def test_ab_plane_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ab_plane(**kwargs)


# --- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((32, 32)), r"shape \(32, 32\).*three channels"),
        (np.zeros((32, 32, 4)), r"shape \(32, 32, 4\).*alpha"),
        (np.zeros((3, 32, 32)), r"channels must come last: np.moveaxis\(x, 0, -1\)"),
        (np.zeros((8, 3, 32, 32)), r"np.moveaxis\(x, 1, -1\)"),
        (np.zeros((2, 8, 32, 32, 3)), r"shape \(2, 8, 32, 32, 3\).*reshape"),
        (np.zeros(3), r"shape \(3,\)"),
        (np.zeros((4, 4, 3), dtype=np.int64), r"dtype int64.*astype\(np.uint8\)"),
        (np.zeros((4, 4, 3), dtype=np.uint16), r"dtype uint16"),
        (np.zeros((4, 4, 3), dtype=bool), r"dtype bool"),
        (np.full((4, 4, 3), 255.0), r"\[255, 255\], outside \[0, 1\].*/ 255"),
        (np.full((4, 4, 3), -0.5), r"outside \[0, 1\]"),
        (np.full((4, 4, 3), np.nan), r"NaN"),
    ],
)
def test_rgb_to_lab_rejects_bad_input(array, match):
    with pytest.raises(ValueError, match=match):
        rgb_to_lab(array)


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((32, 32, 2)), r"shape \(32, 32, 2\)"),
        (np.zeros((4, 4, 3), dtype=np.uint8), r"dtype uint8.*float32"),
        (np.array([[[150.0, 0.0, 0.0]]]), r"L\* \(channel 0\) span \[150, 150\]"),
        (np.array([[[-5.0, 0.0, 0.0]]]), r"outside \[0, 100\]"),
        (np.array([[[50.0, np.inf, 0.0]]]), r"infinite"),
    ],
)
def test_lab_functions_reject_bad_input(array, match):
    for func in (lab_to_rgb, lab_to_model, in_gamut):
        with pytest.raises(ValueError, match=match):
            func(array)


def test_lab_accepts_any_finite_chroma():
    lab = np.array([[[50.0, 500.0, -500.0]]])
    assert lab_to_rgb(lab).max() <= 1.0
    np.testing.assert_allclose(lab_to_model(lab)[1], [[[1.0, -1.0]]])


@pytest.mark.parametrize(
    "l_input, ab_output, match",
    [
        (np.zeros((4, 4)), np.zeros((4, 4, 2)), r"l_input.*\[\.\.\., None\]"),
        (np.zeros((4, 4, 1)), np.zeros((4, 4, 3)), r"ab_output must have shape \(H, W, 2\)"),
        (np.zeros((4, 4, 1)), np.zeros((4, 5, 2)), r"leading shape.*\(4, 4, 1\) and \(4, 5, 2\)"),
        (np.full((4, 4, 1), 50.0), np.zeros((4, 4, 2)), r"l_input.*L\*/100"),
        (np.zeros((4, 4, 1)), np.full((4, 4, 2), 64.0), r"ab_output.*np.clip"),
        (np.zeros((4, 4, 1), dtype=np.int32), np.zeros((4, 4, 2)), r"l_input.*dtype int32"),
    ],
)
def test_model_functions_reject_bad_input(l_input, ab_output, match):
    for func in (model_to_lab, rebuild_rgb):
        with pytest.raises(ValueError, match=match):
            func(l_input, ab_output)


# --- module hygiene ----------------------------------------------------------------


def test_docstring_examples_run():
    result = doctest.testmod(color, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_import_does_not_load_tensorflow():
    code = (
        "import sys, cae_lib.color; "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_srgb_ab_range_matches_published_primaries():
    # Lab (D65) of the sRGB secondaries/primaries at the extremes, from
    # Bruce Lindbloom's RGB -> Lab calculator (sRGB, D65, 2 degree observer):
    # green (0,255,0) a* = -86.18, magenta (255,0,255) a* = 98.23,
    # blue (0,0,255) b* = -107.86, yellow (255,255,0) b* = 94.48.
    r = color.srgb_ab_range()
    assert r["a_min"] == pytest.approx(-86.18, abs=0.05)
    assert r["a_max"] == pytest.approx(98.23, abs=0.05)
    assert r["b_min"] == pytest.approx(-107.86, abs=0.05)
    assert r["b_max"] == pytest.approx(94.48, abs=0.05)
    # A finer grid finds nothing beyond the corners.
    fine = color.srgb_ab_range(33)
    for key, value in r.items():
        assert fine[key] == pytest.approx(value, abs=1e-3), key


@pytest.mark.parametrize("levels", [1, 0, 2.5, True])
def test_srgb_ab_range_rejects_bad_levels(levels):
    with pytest.raises(ValueError, match="levels"):
        color.srgb_ab_range(levels)


def test_ab_summary_by_hand():
    ab = np.array([[[[0.5, 0.0], [0.0, -0.75]], [[-0.25, 0.25], [0.0, 0.0]]]], dtype=np.float32)
    s = color.ab_summary(ab)
    a = np.array([64.0, 0.0, -32.0, 0.0])
    b = np.array([0.0, -96.0, 32.0, 0.0])
    assert (s["a_min"], s["a_max"], s["b_min"], s["b_max"]) == (-32.0, 64.0, -96.0, 32.0)
    assert s["a_mean"] == pytest.approx(a.mean())
    assert s["b_mean"] == pytest.approx(b.mean())
    assert s["chroma_mean"] == pytest.approx((64 + 96 + 32 * 2**0.5 + 0) / 4)
    assert s["max_abs_scaled"] == pytest.approx(0.75)
    assert np.tanh(s["tanh_preactivation"]) == pytest.approx(0.75)


def test_ab_summary_rejects_bad_shape():
    with pytest.raises(ValueError, match="2 channels"):
        color.ab_summary(np.zeros((2, 4, 4, 3), dtype=np.float32))


