"""Colorization helpers for chapter 3: Lab statistics, baselines and their evaluation.

Two baselines put the colorization network's test metrics in context. Both
predict a*, b* in the network's scale (``ab / AB_SCALE``, see
:mod:`cae_lib.color`) and are scored by :func:`evaluate_colorization`, which
follows exactly the route :func:`cae_lib.runs.run` takes for a trained model's
test metrics: RGB is rebuilt from the true L and the predicted a*, b* with
:func:`cae_lib.color.rebuild_rgb`, the reference RGB is rebuilt from the true
L, a*, b*, and :func:`cae_lib.metrics.colorization_metrics` gets a*, b* in CIE
units. A model's row and a baseline's row of a table are therefore computed the
same way.

- ``"grey"``: a* = b* = 0 everywhere, i.e. the grey input shown as it is.
- ``"train_mean"``: the training targets' mean (a*, b*), the same for every
  pixel of every image; the best constant prediction under a squared error.

Example:
    >>> import numpy as np
    >>> ab = np.array([[[[0.25, -0.5]]]], dtype=np.float32)   # one pixel, network scale
    >>> s = ab_summary(ab)
    >>> s["a_min"], s["b_min"], s["chroma_mean"] == float(np.hypot(32.0, 64.0))
    (32.0, -64.0, True)
"""

from __future__ import annotations

import numpy as np

from cae_lib import color

__all__ = [
    "BASELINES",
    "srgb_ab_range",
    "ab_summary",
    "training_mean_ab",
    "baseline_predictions",
    "evaluate_colorization",
    "lab_split_figure",
]

# Pixels per chunk in ab_summary (about 16 MB of float64 temporaries).
_CHUNK_PIXELS = 1 << 20

#: Baseline key -> description (table label).
BASELINES = {
    "grey": "grey input (a* = b* = 0)",
    "train_mean": "training-set mean a*, b*",
}


def _check_ab(ab, name: str) -> np.ndarray:
    x = np.asarray(ab)
    if x.ndim not in (3, 4) or x.shape[-1] != 2:
        raise ValueError(
            f"{name} must have shape (H, W, 2) or (N, H, W, 2) (a*, b* in the network's scale ab / AB_SCALE); "
            f"got shape {x.shape}"
        )
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise ValueError(f"{name} must hold finite floats (ab / AB_SCALE); got dtype {x.dtype}")
    return x


def _check_colorize(task_data) -> None:
    task = getattr(task_data, "task", None)
    if task != "colorize":
        raise ValueError(
            f"task_data must be cae_lib.runs.task_data('colorize'); got task {task!r}"
        )


def srgb_ab_range(levels: int = 17) -> dict[str, float]:
    """Extremes of a*, b* (CIE units) over a uniform grid of the sRGB cube.

    The grid has ``levels`` values per channel from 0 to 1, so it contains the
    cube's eight corners, where a* and b* take their extreme values (green and
    magenta for a*, blue and yellow for b*).

    Args:
        levels: grid values per RGB channel, at least 2.

    Returns:
        ``{"a_min", "a_max", "b_min", "b_max"}`` as floats, converted with
        :func:`cae_lib.color.rgb_to_lab`.

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
    lab = color.rgb_to_lab(grid)
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
            (targets from :func:`cae_lib.color.lab_to_model`, or predictions).

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
    x = _check_ab(ab_target, "ab_target")
    flat = x.reshape(-1, 2)
    lo = np.full(2, np.inf)
    hi = np.full(2, -np.inf)
    total = np.zeros(2)
    chroma_total = 0.0
    for start in range(0, len(flat), _CHUNK_PIXELS):  # float64 temporaries stay small
        part = flat[start : start + _CHUNK_PIXELS].astype(np.float64) * color.AB_SCALE
        lo = np.minimum(lo, part.min(axis=0))
        hi = np.maximum(hi, part.max(axis=0))
        total += part.sum(axis=0)
        chroma_total += float(np.hypot(part[:, 0], part[:, 1]).sum())
    max_abs = float(np.abs(np.concatenate([lo, hi])).max()) / color.AB_SCALE
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


def training_mean_ab(task_data) -> np.ndarray:
    """Per-channel mean of the training targets, in the network's scale.

    Args:
        task_data: :func:`cae_lib.runs.task_data` for ``"colorize"``.

    Returns:
        float32 array ``(2,)``: mean a*/AB_SCALE and mean b*/AB_SCALE over every
        pixel of every training image (accumulated in float64).

    Raises:
        ValueError: if ``task_data`` is not colorization data.

    Example:
        >>> from cae_lib.runs import task_data
        >>> training_mean_ab(task_data("colorize")) * 128   # doctest: +SKIP
    """
    _check_colorize(task_data)
    y = _check_ab(task_data.y_train, "task_data.y_train")
    return np.mean(y, axis=tuple(range(y.ndim - 1)), dtype=np.float64).astype(np.float32)


def baseline_predictions(task_data) -> dict[str, np.ndarray]:
    """The baselines' a*, b* predictions for the test images (network scale).

    Args:
        task_data: :func:`cae_lib.runs.task_data` for ``"colorize"``.

    Returns:
        ``{"grey": zeros, "train_mean": the training mean everywhere}``, each a
        float32 array shaped like ``task_data.y_test`` (see :data:`BASELINES`).

    Raises:
        ValueError: if ``task_data`` is not colorization data.

    Example:
        >>> from cae_lib.runs import task_data
        >>> preds = baseline_predictions(task_data("colorize"))   # doctest: +SKIP
        >>> sorted(preds)                                          # doctest: +SKIP
        ['grey', 'train_mean']
    """
    _check_colorize(task_data)
    shape = np.shape(task_data.y_test)
    mean = training_mean_ab(task_data)
    return {
        "grey": np.zeros(shape, dtype=np.float32),
        "train_mean": np.broadcast_to(mean, shape).astype(np.float32),
    }


def evaluate_colorization(task_data, ab_pred) -> dict[str, float]:
    """Test metrics of an a*, b* prediction, computed as :func:`cae_lib.runs.run` does.

    Rebuilds the reference RGB from the true L, a*, b* and the prediction's RGB
    from the true L and ``ab_pred`` (:func:`cae_lib.color.rebuild_rgb`), and
    calls :func:`cae_lib.metrics.colorization_metrics` with a*, b* in CIE units
    (``ab * AB_SCALE``, the prediction clipped to [-1, 1] first). It calls
    :func:`cae_lib.runs.prediction_metrics`, as every run does, so the result
    has the same keys and values as a run's ``test_metrics`` without the
    ``keras_*`` entries.

    Args:
        task_data: :func:`cae_lib.runs.task_data` for ``"colorize"``.
        ab_pred: predicted ``ab / AB_SCALE`` for ``task_data.x_test``, shaped like
            ``task_data.y_test`` (a model's output or a baseline).

    Returns:
        dict of floats: ``mse``, ``mae``, ``psnr_global_db``, ``psnr_mean_db``,
        ``ssim``, ``n_images`` (RGB in [0, 1]), ``ab_mae``, ``ab_rmse``,
        ``ab_delta_mean`` (CIE units), ``colourfulness_pred``, ``colourfulness_true``.

    Raises:
        ValueError: wrong task, or ``ab_pred`` of another shape than ``y_test``.

    Example:
        >>> from cae_lib.runs import task_data
        >>> data = task_data("colorize")                                        # doctest: +SKIP
        >>> evaluate_colorization(data, baseline_predictions(data)["grey"])     # doctest: +SKIP
    """
    _check_colorize(task_data)
    pred = _check_ab(ab_pred, "ab_pred")
    if pred.shape != np.shape(task_data.y_test):
        raise ValueError(
            f"ab_pred must have the shape of task_data.y_test {np.shape(task_data.y_test)} "
            f"(one a*, b* prediction per test pixel); got {pred.shape}"
        )
    from cae_lib.runs import prediction_metrics

    return prediction_metrics(task_data, pred)


def _axis_colormap(channel: int, lightness: float, chroma: float, steps: int = 256):
    """A colormap whose colours are Lab (lightness, t, 0) or (lightness, 0, t), t in [-chroma, chroma]."""
    from matplotlib.colors import ListedColormap

    t = np.linspace(-chroma, chroma, steps)
    lab = np.zeros((1, steps, 3))
    lab[..., 0] = lightness
    lab[0, :, channel] = t
    return ListedColormap(color.lab_to_rgb(lab)[0], name=f"lab_axis_{channel}")


def lab_split_figure(
    rgb,
    extent: float | None = None,
    chroma_lightness: float = 65.0,
    scale_chroma: float = 60.0,
    cell_inches: float = 1.9,
    fontsize: int = 9,
):
    """An image and its three CIELAB channels side by side: RGB, L*, a*, b*.

    L* is drawn in grey from 0 (black) to 100 (white). a* and b* are drawn with
    colour scales made of the Lab hues they stand for: a* from green
    (negative) through grey to magenta-red (positive) and b* from blue through
    grey to yellow, at lightness ``chroma_lightness`` with the other chroma
    channel at 0. The scale's two ends are the colours at ``-scale_chroma`` and
    ``+scale_chroma`` whatever ``extent`` is, so the hue stays readable for the
    weak chroma of typical photographs; the colour bars give the true values
    in CIE units.

    Args:
        rgb: one image ``(H, W, 3)`` or several ``(N, H, W, 3)`` (one row each),
            uint8 or float in [0, 1].
        extent: a*, b* colour scales span ``[-extent, extent]``; ``None``: the
            largest ``|a*|`` or ``|b*|`` in the images (at least 1).
        chroma_lightness: L* of the a* and b* colour scales, in [0, 100].
        scale_chroma: |a*| or |b*| of the colours at the ends of the scales (> 0).
        cell_inches: width of one panel.
        fontsize: title font size.

    Returns:
        The Figure: four image axes per row (RGB, L*, a*, b*) plus three colour
        bars per row.

    Raises:
        ValueError: as :func:`cae_lib.color.rgb_to_lab`, or a bad ``extent`` or
            ``chroma_lightness`` or ``scale_chroma``.

    Example:
        >>> import numpy as np
        >>> fig = lab_split_figure(np.zeros((8, 8, 3), dtype=np.uint8))
        >>> [ax.get_title() for ax in fig.axes[:4]]
        ['RGB', 'L*', 'a*', 'b*']
    """
    import matplotlib.pyplot as plt

    x = np.asarray(rgb)
    lab = color.rgb_to_lab(x)  # validates shape, dtype and range
    shown = x if x.dtype == np.uint8 else np.clip(x.astype(np.float32), 0.0, 1.0)
    if lab.ndim == 3:
        lab, shown = lab[None], shown[None]
    if not 0.0 <= chroma_lightness <= 100.0:
        raise ValueError(f"chroma_lightness must be an L* in [0, 100]; got {chroma_lightness!r}")
    if extent is None:
        extent = max(1.0, float(np.ceil(np.abs(lab[..., 1:]).max())))
    elif not (np.isfinite(extent) and extent > 0):
        raise ValueError(f"extent must be a positive number of CIE units; got {extent!r}")
    if not (np.isfinite(scale_chroma) and scale_chroma > 0):
        raise ValueError(f"scale_chroma must be a positive number of CIE units; got {scale_chroma!r}")
    n = lab.shape[0]
    fig, axes = plt.subplots(n, 4, figsize=(4 * cell_inches * 1.15, cell_inches * n), squeeze=False)
    panels = (
        ("L*", 0, "gray", 0.0, 100.0),
        ("a*", 1, _axis_colormap(1, chroma_lightness, scale_chroma), -extent, extent),
        ("b*", 2, _axis_colormap(2, chroma_lightness, scale_chroma), -extent, extent),
    )
    for r in range(n):
        axes[r, 0].imshow(shown[r], interpolation="nearest")
        for c, (_, channel, cmap, lo, hi) in enumerate(panels, start=1):
            im = axes[r, c].imshow(lab[r, ..., channel], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
            fig.colorbar(im, ax=axes[r, c], fraction=0.046, pad=0.04)
        for c, title in enumerate(("RGB", "L*", "a*", "b*")):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=fontsize)
    fig.tight_layout()
    plt.close(fig)
    return fig
