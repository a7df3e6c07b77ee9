"""RGB <-> CIELAB (D65) conversions and the colorization network's inputs/targets.

Conversions run through OpenCV's ``cv2.cvtColor`` on float32 data
(``COLOR_RGB2Lab`` / ``COLOR_Lab2RGB``), which works in sRGB with the D65
white point and the 2 degree observer and returns L* in [0, 100] and a*, b* in
CIE units. Inputs are RGB floats in [0, 1] or ``uint8`` in 0..255 (never
floats in 0..255), channels last, as one image ``(H, W, 3)`` or a batch
``(N, H, W, 3)``. A batch is converted in a single OpenCV call by viewing it as
one tall image ``(N * H, W, 3)``: the conversion is per pixel, so the result
is the same as converting image by image.

Accuracy. OpenCV computes RGB -> Lab for float input by interpolating in a
lookup table and stores a*, b* in steps of 1/64, so it departs from the exact
CIE formulas (e.g. ``skimage.color.rgb2lab``) by up to about 0.25 in L* and
0.65 in a*, b* (Delta E76 below 0.8, under the just-noticeable difference of
about 1 to 2.3; about 0.08 on average). At the corners of the RGB cube (the
primaries, black, white) it agrees with published values to within 0.01.
Lab -> RGB agrees with ``skimage.color.lab2rgb`` to about 3e-4, and
RGB -> Lab -> RGB returns every ``uint8`` colour to within one level.

Network scaling. :func:`lab_to_model` and :func:`model_to_lab` are the one
place where Lab meets the network, and are inverse to each other:

- ``l_input = L / 100``: L* spans [0, 100], so the grey input lands in [0, 1],
  the same scale as the RGB autoencoder's inputs.
- ``ab_target = ab / AB_SCALE`` with ``AB_SCALE = 128``: over the whole sRGB
  gamut a* stays within [-86.2, 98.2] (green .. magenta) and b* within
  [-107.9, 94.5] (blue .. yellow), so the targets stay within about
  [-0.85, 0.77], inside the range (-1, 1) of a ``tanh`` output and away from
  its flat tails. Values from outside sRGB are clipped to [-1, 1].

:func:`rebuild_rgb` turns a network's ``(l_input, ab_output)`` back into RGB.

Example:

>>> import numpy as np

from cae_lib import validate
>>> rgb = np.zeros((2, 2, 3), dtype=np.uint8); rgb[..., 0] = 255   # pure red
>>> lab = rgb_to_lab(rgb)
>>> np.round(lab[0, 0], 1)
array([53.2, 80.1, 67.2], dtype=float32)
>>> l_input, ab_target = lab_to_model(lab)
>>> l_input.shape, ab_target.shape
((2, 2, 1), (2, 2, 2))
>>> np.abs(rebuild_rgb(l_input, ab_target) - rgb / 255).max() < 0.01
np.True_
"""

from __future__ import annotations

import cv2
import numpy as np

from cae_lib import validate

__all__ = [
    "AB_SCALE",
    "L_SCALE",
    "ab_plane",
    "ab_summary",
    "srgb_ab_range",
    "scaled_range",
    "in_gamut",
    "lab_to_model",
    "lab_to_rgb",
    "model_to_lab",
    "rebuild_rgb",
    "rgb_to_lab",
]

#: Divisor taking a*, b* (CIE units) to the network's [-1, 1] targets.
AB_SCALE = 128.0
#: Divisor taking L* in [0, 100] to the network's [0, 1] input.
L_SCALE = 100.0

# Values this far outside their documented range (as a fraction of the range's
# span) are taken as rounding noise and clipped; anything further is refused.
_RANGE_TOL = 1e-3

# D65 reference white OpenCV uses for its Lab conversions (cv::cvtColor docs).
_WHITE_D65 = np.array([0.950456, 1.0, 1.088754], dtype=np.float64)

# kind -> (allowed value range, whether uint8 0..255 is accepted)
_KINDS = {
    "rgb": ((0.0, 1.0), True),
    "lab": ((0.0, 100.0), False),  # range applies to L* only; a*, b* are unbounded
    "l_input": ((0.0, 1.0), False),
    "ab_output": ((-1.0, 1.0), False),
}
_EXPECTED = {
    "rgb": "RGB floats in [0, 1] or uint8 in 0..255",
    "lab": "float CIELAB with L* in [0, 100]",
    "l_input": "float L*/100 in [0, 1]",
    "ab_output": "float ab/AB_SCALE in [-1, 1]",
}


def _shape_hint(shape: tuple[int, ...], channels: int) -> str:
    """A suggestion for turning an array of ``shape`` into ``(..., H, W, channels)``."""
    if len(shape) == 2 and channels == 1:
        return "add the channel axis with x[..., None]"
    if len(shape) == 2 and channels == 3:
        return "a grey image needs three channels: np.repeat(x[..., None], 3, axis=-1)"
    if len(shape) in (3, 4) and shape[-1] == 4 and channels == 3:
        return "drop the alpha channel with x[..., :3]"
    if len(shape) in (3, 4) and shape[len(shape) - 3] == channels:
        return f"channels must come last: np.moveaxis(x, {len(shape) - 3}, -1)"
    if len(shape) > 4:
        return "merge the leading axes with x.reshape(-1, *x.shape[-3:])"
    return f"pass one image (H, W, {channels}) or a batch (N, H, W, {channels})"


def _validated(array, *, name: str, channels: int, kind: str) -> np.ndarray:
    """Check a channels-last image or batch and return it as C-contiguous float32.

    This is the single gate for every public function of the module.

    Args:
        array: array-like of shape ``(H, W, channels)`` or ``(N, H, W, channels)``.
        name: argument name used in error messages.
        channels: required size of the last axis.
        kind: one of ``"rgb"``, ``"lab"``, ``"l_input"``, ``"ab_output"``; sets the
            accepted dtypes and value range (see ``_KINDS``).

    Returns:
        float32 C-contiguous array; ``uint8`` RGB is divided by 255, and values
        within ``_RANGE_TOL`` of the allowed range are clipped into it.

    Raises:
        ValueError: wrong number of axes, wrong last-axis size, unsupported dtype,
            NaN/inf, or values outside the allowed range.
    """
    x = np.asarray(array)
    (lo, hi), accepts_uint8 = _KINDS[kind]
    expected = _EXPECTED[kind]
    if x.ndim not in (3, 4) or x.shape[-1] != channels:
        raise ValueError(
            f"{name} must have shape (H, W, {channels}) or (N, H, W, {channels}) "
            f"(channels last), got shape {x.shape}; {_shape_hint(x.shape, channels)}."
        )
    if x.dtype == np.uint8 and accepts_uint8:
        return np.ascontiguousarray(x, dtype=np.float32) / np.float32(255.0)
    if not np.issubdtype(x.dtype, np.floating):
        if accepts_uint8 and np.issubdtype(x.dtype, np.integer):
            fix = (
                "convert with x.astype(np.uint8) if the values are 0..255, "
                "or scale to floats in [0, 1] (x / 255.0)"
            )
        else:
            fix = "convert with x.astype(np.float32)"
        raise ValueError(f"{name} must be {expected}; got dtype {x.dtype}: {fix}.")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size == 0:
        return x
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values; {name} must be {expected}.")
    checked = x[..., :1] if kind == "lab" else x
    low, high = float(checked.min()), float(checked.max())
    tol = _RANGE_TOL * (hi - lo)
    if low < lo - tol or high > hi + tol:
        what = "L* (channel 0)" if kind == "lab" else "values"
        fix = {
            "rgb": "scale floats to [0, 1] (e.g. x / 255.0) or pass uint8 0..255",
            "lab": "L* must lie in [0, 100]; is the array really CIELAB, channels (L, a, b)?",
            "l_input": "pass L*/100 (see lab_to_model), not L* itself",
            "ab_output": "pass ab/AB_SCALE from a tanh output, or np.clip(x, -1, 1) first",
        }[kind]
        raise ValueError(
            f"{name} must be {expected}; its {what} span [{low:.4g}, {high:.4g}], "
            f"outside [{lo:g}, {hi:g}]: {fix}."
        )
    if low < lo or high > hi:
        x = x.copy()  # never clip the caller's array in place
        checked = x[..., :1] if kind == "lab" else x
        np.clip(checked, lo, hi, out=checked)
    return x


def _cvt(x: np.ndarray, code: int) -> np.ndarray:
    """``cv2.cvtColor`` on a float32 (H, W, 3) or (N, H, W, 3) array in one call."""
    if x.size == 0:
        return np.empty(x.shape, dtype=np.float32)
    tall = x.reshape(-1, x.shape[-2], 3)  # (N*H, W, 3): a view, conversion is per pixel
    return cv2.cvtColor(tall, code).reshape(x.shape)


def rgb_to_lab(rgb) -> np.ndarray:
    """Convert sRGB to CIELAB (D65, 2 degree observer) with OpenCV.

    Args:
        rgb: one image ``(H, W, 3)`` or a batch ``(N, H, W, 3)``, channels last,
            either floats in [0, 1] (any float dtype) or ``uint8`` in 0..255.

    Returns:
        float32 array of the same shape with channels (L*, a*, b*): L* in
        [0, 100], a* and b* in CIE units (about [-86, 98] and [-108, 95] for sRGB).

    Raises:
        ValueError: wrong shape, an integer dtype other than ``uint8``, NaN, or
            floats outside [0, 1] (e.g. floats in 0..255).

    Example:
        >>> import numpy as np
        >>> white = np.ones((1, 1, 3), dtype=np.float32)
        >>> np.round(rgb_to_lab(white)[0, 0], 3)
        array([100.,   0.,   0.], dtype=float32)
    """
    return _cvt(_validated(rgb, name="rgb", channels=3, kind="rgb"), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab) -> np.ndarray:
    """Convert CIELAB (D65) to sRGB with OpenCV, clipped to the sRGB gamut.

    Args:
        lab: ``(H, W, 3)`` or ``(N, H, W, 3)`` float array of (L*, a*, b*) with
            L* in [0, 100]; a*, b* may be anything finite.

    Returns:
        float32 RGB of the same shape in [0, 1]. Colours outside the sRGB gamut
        are clipped channel by channel (see :func:`in_gamut` to find them).

    Raises:
        ValueError: wrong shape, non-float dtype, NaN, or L* outside [0, 100].

    Example:
        >>> import numpy as np
        >>> grey = np.array([[[53.389, 0.0, 0.0]]])
        >>> np.round(lab_to_rgb(grey)[0, 0], 3)
        array([0.5, 0.5, 0.5], dtype=float32)
    """
    rgb = _cvt(_validated(lab, name="lab", channels=3, kind="lab"), cv2.COLOR_Lab2RGB)
    return np.clip(rgb, 0.0, 1.0, out=rgb)


def in_gamut(lab, *, atol: float = 1e-5) -> np.ndarray:
    """Whether each Lab colour lies inside the sRGB gamut.

    ``cv2.COLOR_Lab2RGB`` clips, so this does not ask it: it inverts the CIE
    L*a*b* formulas to XYZ (with OpenCV's D65 white) and applies OpenCV's
    unclipped ``COLOR_XYZ2RGB`` matrix, then tests the linear RGB against [0, 1].

    Args:
        lab: ``(H, W, 3)`` or ``(N, H, W, 3)`` float CIELAB, L* in [0, 100].
        atol: slack allowed outside [0, 1] in linear RGB.

    Returns:
        bool array of shape ``lab.shape[:-1]``.

    Raises:
        ValueError: as :func:`lab_to_rgb`.

    Example:
        >>> import numpy as np
        >>> in_gamut(np.array([[[50.0, 0.0, 0.0], [50.0, 0.0, -100.0]]]))
        array([[ True, False]])
    """
    x = _validated(lab, name="lab", channels=3, kind="lab").astype(np.float64)
    fy = (x[..., 0] + 16.0) / 116.0
    f = np.stack([fy + x[..., 1] / 500.0, fy, fy - x[..., 2] / 200.0], axis=-1)
    eps, kappa = 6.0 / 29.0, 24389.0 / 27.0  # CIE 15:2004 constants
    xyz = np.where(f > eps, f**3, (116.0 * f - 16.0) / kappa) * _WHITE_D65
    linear = _cvt(xyz.astype(np.float32), cv2.COLOR_XYZ2RGB)
    return ((linear >= -atol) & (linear <= 1.0 + atol)).all(axis=-1)


def lab_to_model(lab) -> tuple[np.ndarray, np.ndarray]:
    """Split CIELAB into the colorization network's input and target.

    Args:
        lab: ``(H, W, 3)`` or ``(N, H, W, 3)`` float CIELAB (e.g. from
            :func:`rgb_to_lab`), L* in [0, 100].

    Returns:
        ``(l_input, ab_target)``: ``l_input = L* / 100``, float32 of shape
        ``(..., H, W, 1)`` in [0, 1]; ``ab_target = (a*, b*) / AB_SCALE``, float32
        of shape ``(..., H, W, 2)`` clipped to [-1, 1] (sRGB colours never need
        the clip; see the module docstring).

    Raises:
        ValueError: as :func:`lab_to_rgb`.

    Example:
        >>> import numpy as np
        >>> l_in, ab = lab_to_model(np.array([[[50.0, 64.0, -32.0]]]))
        >>> l_in[0, 0], ab[0, 0]
        (array([0.5], dtype=float32), array([ 0.5 , -0.25], dtype=float32))
    """
    x = _validated(lab, name="lab", channels=3, kind="lab")
    l_input = x[..., :1] / np.float32(L_SCALE)
    ab_target = np.clip(x[..., 1:] / np.float32(AB_SCALE), -1.0, 1.0)
    return l_input, ab_target


def model_to_lab(l_input, ab_output) -> np.ndarray:
    """Inverse of :func:`lab_to_model`: rebuild CIELAB from network input and output.

    Args:
        l_input: ``(H, W, 1)`` or ``(N, H, W, 1)`` float L*/100 in [0, 1].
        ab_output: same leading shape with 2 channels, float ab/AB_SCALE in
            [-1, 1] (a ``tanh`` output).

    Returns:
        float32 CIELAB of shape ``(..., H, W, 3)``: ``L* = 100 * l_input``,
        ``(a*, b*) = AB_SCALE * ab_output``.

    Raises:
        ValueError: bad shapes/dtypes/ranges, or leading shapes that differ.

    Example:
        >>> import numpy as np
        >>> model_to_lab(np.full((1, 1, 1), 0.5), np.array([[[0.5, -0.25]]]))[0, 0]
        array([ 50.,  64., -32.], dtype=float32)
    """
    l_in = _validated(l_input, name="l_input", channels=1, kind="l_input")
    ab = _validated(ab_output, name="ab_output", channels=2, kind="ab_output")
    if l_in.shape[:-1] != ab.shape[:-1]:
        raise ValueError(
            f"l_input and ab_output must share their leading shape (..., H, W), got "
            f"{l_in.shape} and {ab.shape}; pass the grey input and the prediction made from it."
        )
    return np.concatenate([l_in * np.float32(L_SCALE), ab * np.float32(AB_SCALE)], axis=-1)


def rebuild_rgb(l_input, ab_output) -> np.ndarray:
    """RGB image(s) from the network's grey input and predicted chroma.

    Args:
        l_input: ``(H, W, 1)`` or ``(N, H, W, 1)`` float L*/100 in [0, 1].
        ab_output: same leading shape with 2 channels, ab/AB_SCALE in [-1, 1].

    Returns:
        float32 RGB of shape ``(..., H, W, 3)`` in [0, 1], clipped to the sRGB gamut.

    Raises:
        ValueError: as :func:`model_to_lab`.

    Example:
        >>> import numpy as np
        >>> grey = rebuild_rgb(np.full((1, 1, 1), 0.53389), np.zeros((1, 1, 2)))
        >>> np.round(grey[0, 0], 3)
        array([0.5, 0.5, 0.5], dtype=float32)
    """
    return lab_to_rgb(model_to_lab(l_input, ab_output))


def ab_plane(
    L: float = 50.0, size: int = 256, extent: float = 100.0, fill: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The a*b* plane at fixed lightness, for plotting, with out-of-gamut pixels marked.

    Pixel centres sample a*, b* on ``np.linspace(-extent, extent, size)``;
    columns run along a* (left = -extent) and rows along b* with +extent on the
    top row, so ``plt.imshow(rgb, extent=(-extent, extent, -extent, extent))``
    puts a* on the x axis and b* on the y axis.

    Args:
        L: lightness L* in [0, 100].
        size: pixels per side (at least 2).
        extent: half-width of the plotted a*, b* range (> 0).
        fill: grey level in [0, 1] painted where the colour is outside sRGB
            (1.0 = white).

    Returns:
        ``(rgb, mask)``: float32 RGB ``(size, size, 3)`` in [0, 1] and a bool
        ``(size, size)`` array, True where the colour is inside the sRGB gamut
        (see :func:`in_gamut`).

    Raises:
        ValueError: L outside [0, 100], size < 2, extent <= 0 or fill outside [0, 1].

    Example:
        >>> rgb, mask = ab_plane(L=50, size=5, extent=100)
        >>> rgb.shape, bool(mask[2, 2]), bool(mask[4, 4])
        ((5, 5, 3), True, False)
    """
    if not 0.0 <= L <= 100.0:
        raise ValueError(f"L must be a lightness in [0, 100], got {L}.")
    if int(size) != size or size < 2:
        raise ValueError(f"size must be an integer >= 2 (pixels per side), got {size}.")
    if not extent > 0:
        raise ValueError(f"extent must be > 0 (half-width of the a*, b* range), got {extent}.")
    if not 0.0 <= fill <= 1.0:
        raise ValueError(f"fill must be a grey level in [0, 1], got {fill}.")
    axis = np.linspace(-extent, extent, int(size))
    b, a = np.meshgrid(axis[::-1], axis, indexing="ij")
    lab = np.stack([np.full_like(a, L), a, b], axis=-1)
    mask = in_gamut(lab)
    rgb = lab_to_rgb(lab)
    rgb[~mask] = fill
    return rgb, mask


# ---------------------------------------------------------------------------
# a*b* statistics
# ---------------------------------------------------------------------------

# Pixels per chunk in ab_summary (about 16 MB of float64 temporaries).
_CHUNK_PIXELS = 1 << 20


def srgb_ab_range(levels: int = 17) -> dict[str, float]:
    """Extremes of a*, b* (CIE units) over a uniform grid of the sRGB cube.

    The grid has ``levels`` values per channel from 0 to 1, so it contains the
    cube's eight corners, where a* and b* take their extreme values (green and
    magenta for a*, blue and yellow for b*).

    Args:
        levels: grid values per RGB channel, at least 2.

    Returns:
        ``{"a_min", "a_max", "b_min", "b_max"}`` as floats, converted with
        :func:`cae_lib.rgb_to_lab`.

    Raises:
        ValueError: if ``levels`` is not an integer >= 2.

    Example:
        >>> r = srgb_ab_range(2)          # the eight corners
        >>> round(r["a_min"]), round(r["b_min"])
        (-86, -108)
    """
    if isinstance(levels, bool) or int(levels) != levels or levels < 2:
        raise ValueError(f"levels must be an integer >= 2 (grid values per RGB channel); got {levels!r}")
    axis = np.linspace(0.0, 1.0, int(levels), dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(1, -1, 3)
    lab = rgb_to_lab(grid)
    return {
        "a_min": float(lab[..., 1].min()),
        "a_max": float(lab[..., 1].max()),
        "b_min": float(lab[..., 2].min()),
        "b_max": float(lab[..., 2].max()),
    }


def ab_summary(ab_target) -> dict[str, float]:
    """Range, mean and saturation of a*, b* given in the network's scale.

    Args:
        ab_target: ``(H, W, 2)`` or ``(N, H, W, 2)`` floats ``ab / AB_SCALE``
            (targets from :func:`lab_to_model`, or predictions).

    Returns:
        dict of floats, a*, b* in CIE units unless stated:
        ``a_min``, ``a_max``, ``b_min``, ``b_max``, ``a_mean``, ``b_mean``;
        ``chroma_mean``: mean chroma ``C* = sqrt(a*^2 + b*^2)`` over pixels (0 for
        grey, larger for more saturated colours); ``max_abs_scaled``: the
        largest ``|ab / AB_SCALE|``; ``tanh_preactivation``: ``artanh`` of it,
        the input a ``tanh`` output unit needs to reach that value (infinite
        at 1).

    Raises:
        ValueError: on a wrong shape or non-finite values.

    Example:
        >>> import numpy as np
        >>> s = ab_summary(np.zeros((2, 2, 2), dtype=np.float32))
        >>> s["chroma_mean"], s["max_abs_scaled"], s["tanh_preactivation"]
        (0.0, 0.0, 0.0)
    """
    x = validate.float_images(ab_target, "ab_target (a*, b* in the network's scale ab / AB_SCALE)", channels=2, ndim=(3, 4))
    flat = x.reshape(-1, 2)
    lo = np.full(2, np.inf)
    hi = np.full(2, -np.inf)
    total = np.zeros(2)
    chroma_total = 0.0
    for start in range(0, len(flat), _CHUNK_PIXELS):  # float64 temporaries stay small
        part = flat[start : start + _CHUNK_PIXELS].astype(np.float64) * AB_SCALE
        lo = np.minimum(lo, part.min(axis=0))
        hi = np.maximum(hi, part.max(axis=0))
        total += part.sum(axis=0)
        chroma_total += float(np.hypot(part[:, 0], part[:, 1]).sum())
    max_abs = float(np.abs(np.concatenate([lo, hi])).max()) / AB_SCALE
    with np.errstate(divide="ignore"):
        pre = float(np.arctanh(min(max_abs, 1.0)))
    return {
        "a_min": float(lo[0]),
        "a_max": float(hi[0]),
        "b_min": float(lo[1]),
        "b_max": float(hi[1]),
        "a_mean": float(total[0] / len(flat)),
        "b_mean": float(total[1] / len(flat)),
        "chroma_mean": chroma_total / len(flat),
        "max_abs_scaled": max_abs,
        "tanh_preactivation": pre,
    }


def scaled_range(gamut: dict) -> dict:
    """The smallest and largest network-scale target (a*/128, b*/128) of an a*b* range.

    Example:
        >>> scaled_range({"a_min": -86.2, "a_max": 98.2, "b_min": -107.9, "b_max": 94.5})
        {'scaled_min': -0.84296875, 'scaled_max': 0.7671875}
    """
    return {
        "scaled_min": min(gamut["a_min"], gamut["b_min"]) / AB_SCALE,
        "scaled_max": max(gamut["a_max"], gamut["b_max"]) / AB_SCALE,
    }
