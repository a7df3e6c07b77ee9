"""Figures for the book: training curves, image grids, the a*b* plane, tables.

Every plotting function builds a new figure and returns it; none calls
``plt.show()``. The figure is detached from pyplot before it is returned
(``plt.close(fig)``), so a notebook cell shows it exactly once when it is the
cell's last expression, scripts and tests never pile up open figures, and
``fig.savefig(...)`` still works. Sizes, colours and fonts are keyword
arguments with defaults; nothing is tuned inside the functions.

Image arrays are ``(N, H, W, C)`` with C = 3 (RGB) or 1 (grey, also accepted as
``(N, H, W)``), either uint8 (0-255) or float in [0, 1] (clipped for display).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from cae_lib import color
from cae_lib.data import unit_float

__all__ = [
    "fixed_sample",
    "loss_curves",
    "metric_curves",
    "sample_grid",
    "reconstruction_grid",
    "colorization_grid",
    "ab_plane_figure",
    "latent_figure",
    "lab_split_figure",
    "rate_distortion_figure",
    "tradeoff_figure",
    "method_bars",
    "photo_grid",
    "colorized_photos_figure",
    "probe_figure",
    "error_histograms",
    "embedding_figure",
]

DEFAULT_CURVE_FIGSIZE = (6.4, 4.0)
DEFAULT_CELL_INCHES = 1.1
DEFAULT_LABEL_FONTSIZE = 9


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _figure(nrows: int = 1, ncols: int = 1, figsize=DEFAULT_CURVE_FIGSIZE, **kwargs):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **kwargs)
    return fig, axes


def _detach(fig):
    """Remove ``fig`` from pyplot's figure manager and return it."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig


def fixed_sample(n: int, n_total: int, seed: int = 0) -> np.ndarray:
    """A seeded, sorted sample of ``n`` distinct indices out of ``range(n_total)``.

    Every chapter calls this with the same arguments to show the *same* test
    images for every model. It uses ``np.random.RandomState`` (the legacy
    generator, whose stream NumPy keeps fixed across versions), so the sample
    does not change when NumPy is upgraded.

    Args:
        n: sample size, ``1 <= n <= n_total``.
        n_total: size of the population (e.g. the number of test images).
        seed: random seed.

    Returns:
        int64 array of length ``n``, sorted ascending.

    Raises:
        ValueError: if ``n`` or ``n_total`` is out of range.

    >>> fixed_sample(3, 10, seed=0)
    array([2, 4, 8])
    """
    if int(n_total) != n_total or n_total < 1:
        raise ValueError(f"n_total must be a positive integer; got {n_total!r}")
    if int(n) != n or not 1 <= n <= n_total:
        raise ValueError(f"n must be an integer in [1, n_total={n_total}]; got {n!r}")
    perm = np.random.RandomState(int(seed)).permutation(int(n_total))
    return np.sort(perm[: int(n)]).astype(np.int64)


def _image_batch(x, name: str) -> np.ndarray:
    """Validate an image batch; return it as ``(N, H, W, C)`` with C in {1, 3}."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(
            f"{name} must have shape (N, H, W, 3), (N, H, W, 1) or (N, H, W); got {np.shape(x)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    if x.dtype != np.uint8 and not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be uint8 or float in [0, 1]; got dtype {x.dtype}")
    return x


def _show(ax, img: np.ndarray) -> None:
    """Draw one ``(H, W, C)`` image without axes ticks."""
    grey = img.shape[-1] == 1
    if img.dtype != np.uint8:
        img = np.clip(img, 0.0, 1.0)
    vmax = 255 if img.dtype == np.uint8 else 1.0
    if grey:
        ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
    else:
        ax.imshow(img, interpolation="nearest")
    _hide_frame(ax)


def _hide_frame(ax) -> None:
    """No ticks or spines, but keep the y label visible (used for row names)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _resolve_indices(n_images: int, n: int, indices, seed: int) -> np.ndarray:
    if indices is None:
        return fixed_sample(min(n, n_images), n_images, seed)
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"indices must be a non-empty 1-D integer sequence; got {indices!r}")
    if idx.min() < -n_images or idx.max() >= n_images:
        raise ValueError(f"indices must lie in [0, {n_images}); got range [{idx.min()}, {idx.max()}]")
    return idx


def _image_rows(rows: list[tuple[str, np.ndarray]], idx, cell_inches, fontsize, column_titles=None):
    """Grid with one row per (label, batch), columns = the images ``idx``."""
    ncols = len(idx)
    fig, axes = _figure(
        len(rows), ncols, figsize=(cell_inches * ncols, cell_inches * len(rows)),
    )
    for r, (label, batch) in enumerate(rows):
        for c, i in enumerate(idx):
            _show(axes[r, c], batch[i])
        axes[r, 0].set_ylabel(label, fontsize=fontsize)
    if column_titles is not None:
        for c, title in enumerate(column_titles):
            axes[0, c].set_title(title, fontsize=fontsize)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# training curves
# ---------------------------------------------------------------------------


def _is_history(obj) -> bool:
    return hasattr(obj, "history") and isinstance(obj.history, Mapping)


def _normalise_histories(histories) -> dict[str, Mapping]:
    """Return ``{run name: history dict}``; a single history gets the name ``""``."""
    if _is_history(histories):
        histories = histories.history
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(
            "histories must be a non-empty history dict ({'loss': [...], ...}), a Keras History, "
            f"or a dict of them by run name; got {type(histories).__name__} {histories!r:.80}"
        )
    values = list(histories.values())
    nested = [isinstance(v, Mapping) or _is_history(v) for v in values]
    if all(nested):
        return {str(k): (v.history if _is_history(v) else v) for k, v in histories.items()}
    if any(nested):
        raise ValueError("histories mixes runs (dicts) and metric lists; pass one history or a dict of histories")
    return {"": histories}


def _key_label(key: str, keys: Sequence[str]) -> str:
    if f"val_{key}" in keys:
        return "train"
    if key.startswith("val_") and key[len("val_") :] in keys:
        return "validation"
    return key


def loss_curves(
    histories,
    keys: Sequence[str] = ("loss", "val_loss"),
    title: str | None = None,
    logy: bool = False,
    ylabel: str | None = None,
    figsize=DEFAULT_CURVE_FIGSIZE,
    validation_linestyle: str = "--",
):
    """Training curves of one run or several runs on one axes.

    Each run gets one colour; keys starting with ``val_`` are drawn dashed and
    the others solid. The x axis counts epochs from 1. A run missing some of
    ``keys`` (e.g. trained without validation) shows only the keys it has.

    Args:
        histories: a history dict ``{"loss": [...], "val_loss": [...]}`` (or a
            Keras ``History``), or ``{run name: history}`` for several runs.
        keys: history keys to draw.
        title: axes title.
        logy: logarithmic y axis (values must be positive).
        ylabel: y label; defaults to ``keys[0]``.
        figsize: figure size in inches.
        validation_linestyle: line style of ``val_*`` keys.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: empty ``histories``/``keys``, a run with none of ``keys``, an
            empty or non-1-D series, or non-positive values with ``logy``.

    >>> fig = loss_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['train', 'validation']
    """
    runs = _normalise_histories(histories)
    keys = tuple(keys)
    if not keys:
        raise ValueError("keys must name at least one history entry, e.g. ('loss', 'val_loss')")
    series = []  # (run number, name, key, values): everything is checked before drawing
    for i, (name, hist) in enumerate(runs.items()):
        present = [k for k in keys if k in hist]
        if not present:
            raise ValueError(
                f"run {name or '(unnamed)'!r} has none of the keys {keys}; it has {sorted(hist)}"
            )
        for key in present:
            y = np.asarray(hist[key], dtype=np.float64)
            if y.ndim != 1 or y.size == 0:
                raise ValueError(f"history[{key!r}] of run {name or '(unnamed)'!r} must be a non-empty list of numbers")
            if logy and (y <= 0).any():
                raise ValueError(f"logy=True needs positive values; history[{key!r}] has values <= 0")
            series.append((i, name, key, y))
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    for i, name, key, y in series:
        label = _key_label(key, keys)
        ax.plot(
            np.arange(1, y.size + 1),
            y,
            color=f"C{i % 10}",
            linestyle=validation_linestyle if key.startswith("val_") else "-",
            label=f"{name} ({label})" if name else label,
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel if ylabel is not None else keys[0])
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return _detach(fig)


def metric_curves(histories, metric: str, title: str | None = None, logy: bool = False, **kwargs):
    """Curves of ``metric`` and ``val_<metric>`` (e.g. ``"accuracy"``, ``"mse"``).

    Same rules and arguments as :func:`loss_curves` (``kwargs`` go to it).

    >>> fig = metric_curves({"a": {"mse": [0.1, 0.05]}, "b": {"mse": [0.2, 0.1]}}, "mse")
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['a (train)', 'b (train)']
    """
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"metric must be a history key such as 'mse'; got {metric!r}")
    return loss_curves(histories, keys=(metric, f"val_{metric}"), title=title, logy=logy, **kwargs)


# ---------------------------------------------------------------------------
# image grids
# ---------------------------------------------------------------------------


def sample_grid(
    images,
    labels,
    class_names: Sequence[str],
    n_per_class: int = 8,
    seed: int = 0,
    cell_inches: float = DEFAULT_CELL_INCHES,
    fontsize: int = DEFAULT_LABEL_FONTSIZE,
):
    """A grid of example images, one row per class, the class name on the left.

    The images of each class are picked with :func:`fixed_sample` (seeded); a
    class with fewer than ``n_per_class`` images leaves its remaining cells blank.

    Args:
        images: ``(N, H, W, C)`` uint8 or float in [0, 1].
        labels: ``(N,)`` integer class ids in ``[0, len(class_names))``.
        class_names: names of the classes, in id order.
        n_per_class: columns.
        seed: sample seed.
        cell_inches: size of one image cell.
        fontsize: class-name font size.

    Returns:
        The Figure (``len(class_names) * n_per_class`` axes).

    Raises:
        ValueError: mismatched lengths, bad labels or shapes, ``n_per_class < 1``.

    >>> imgs = np.zeros((4, 8, 8, 3), np.uint8)
    >>> len(sample_grid(imgs, [0, 1, 0, 1], ["a", "b"], n_per_class=2).axes)
    4
    """
    x = _image_batch(images, "images")
    y = np.asarray(labels)
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be {x.shape[0]} integers (one per image); got shape {y.shape}, dtype {y.dtype}")
    names = list(class_names)
    if not names:
        raise ValueError("class_names is empty")
    if y.min() < 0 or y.max() >= len(names):
        raise ValueError(f"labels must lie in [0, {len(names)}); got range [{y.min()}, {y.max()}]")
    if int(n_per_class) != n_per_class or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer; got {n_per_class!r}")
    fig, axes = _figure(
        len(names), n_per_class, figsize=(cell_inches * n_per_class, cell_inches * len(names)),
    )
    for c, name in enumerate(names):
        members = np.flatnonzero(y == c)
        shown = members[fixed_sample(min(n_per_class, members.size), members.size, seed)] if members.size else []
        for j in range(n_per_class):
            if j < len(shown):
                _show(axes[c, j], x[shown[j]])
            else:
                _hide_frame(axes[c, j])
        axes[c, 0].set_ylabel(name, fontsize=fontsize)
    fig.tight_layout()
    return _detach(fig)


def reconstruction_grid(
    inputs,
    outputs: Mapping[str, np.ndarray],
    n: int = 8,
    indices=None,
    seed: int = 0,
    input_label: str = "input",
    show_indices: bool = True,
    cell_inches: float = DEFAULT_CELL_INCHES,
    fontsize: int = DEFAULT_LABEL_FONTSIZE,
):
    """Inputs in the first row, then each model's reconstruction of the same images.

    Args:
        inputs: ``(N, H, W, C)`` images (e.g. the whole test set).
        outputs: ``{model name: reconstructions}``, each the same shape as ``inputs``.
        n: number of columns when ``indices`` is None; the images are then
            ``fixed_sample(n, N, seed)``, the same in every chapter.
        indices: explicit image indices (``n`` is then ignored).
        seed: sample seed.
        input_label: name of the first row.
        show_indices: title each column with its image index.
        cell_inches: size of one image cell.
        fontsize: label font size.

    Returns:
        The Figure, ``(1 + len(outputs)) * n`` axes.

    Raises:
        ValueError: empty ``outputs``, shapes that differ from ``inputs``, bad indices.

    >>> x = np.zeros((10, 8, 8, 3))
    >>> len(reconstruction_grid(x, {"cae": x}, n=4).axes)
    8
    """
    x = _image_batch(inputs, "inputs")
    if not isinstance(outputs, Mapping) or not outputs:
        raise ValueError("outputs must be a non-empty dict {model name: reconstructions}")
    rows = [(input_label, x)]
    for name, out in outputs.items():
        y = _image_batch(out, f"outputs[{name!r}]")
        if y.shape != x.shape:
            raise ValueError(f"outputs[{name!r}] has shape {np.shape(out)}, inputs {np.shape(inputs)}; they must match")
        rows.append((str(name), y))
    idx = _resolve_indices(x.shape[0], n, indices, seed)
    titles = [f"#{i}" for i in idx] if show_indices else None
    return _detach(_image_rows(rows, idx, cell_inches, fontsize, titles))


def colorization_grid(
    gray,
    colorized,
    original,
    n: int = 8,
    indices=None,
    seed: int = 0,
    row_labels: Sequence[str] = ("grayscale", "colorized", "original"),
    cell_inches: float = DEFAULT_CELL_INCHES,
    fontsize: int = DEFAULT_LABEL_FONTSIZE,
):
    """Rows: the grey input, the colorized output, the original colour image.

    Args:
        gray: ``(N, H, W, 1)`` or ``(N, H, W)`` grey input in [0, 1] (L*/100) or uint8.
        colorized: ``(N, H, W, 3)`` RGB rebuilt from the prediction.
        original: ``(N, H, W, 3)`` original RGB.
        n, indices, seed: which images, as in :func:`reconstruction_grid`.
        row_labels: the three row names.
        cell_inches, fontsize: layout.

    Returns:
        The Figure, ``3 * n`` axes.

    Raises:
        ValueError: wrong channel counts or image sizes/counts that differ.

    >>> g = np.zeros((5, 8, 8, 1)); c = np.zeros((5, 8, 8, 3))
    >>> len(colorization_grid(g, c, c, n=2).axes)
    6
    """
    g = _image_batch(gray, "gray")
    col = _image_batch(colorized, "colorized")
    org = _image_batch(original, "original")
    if g.shape[-1] != 1:
        raise ValueError(f"gray must have one channel; got shape {np.shape(gray)}")
    for arr, name in ((col, "colorized"), (org, "original")):
        if arr.shape != g.shape[:-1] + (3,):
            raise ValueError(f"{name} must have shape {g.shape[:-1] + (3,)} to match gray; got {arr.shape}")
    if len(row_labels) != 3:
        raise ValueError(f"row_labels needs three names; got {row_labels!r}")
    idx = _resolve_indices(g.shape[0], n, indices, seed)
    rows = list(zip(row_labels, (g, col, org)))
    return _detach(_image_rows(rows, idx, cell_inches, fontsize))


# ---------------------------------------------------------------------------
# colour plane
# ---------------------------------------------------------------------------


def ab_plane_figure(
    L: float = 50.0,
    size: int = 256,
    extent: float = 100.0,
    out_of_gamut_grey: float = 0.85,
    figsize=(4.5, 4.5),
):
    """The CIE a*b* plane at lightness ``L``, a* across and b* up.

    Colours outside the sRGB gamut are painted a neutral grey
    (``out_of_gamut_grey``). Uses :func:`cae_lib.color.ab_plane`.

    Args:
        L: lightness L* in [0, 100].
        size: pixels per side.
        extent: the plot spans a*, b* in ``[-extent, extent]``.
        out_of_gamut_grey: grey level in [0, 1] for out-of-gamut colours.
        figsize: figure size in inches.

    Returns:
        The Figure (one axes, one image).

    Raises:
        ValueError: as :func:`cae_lib.color.ab_plane`.

    >>> ab_plane_figure(L=70, size=16).axes[0].get_xlabel()
    'a*'
    """
    rgb, _ = color.ab_plane(L=L, size=size, extent=extent, fill=out_of_gamut_grey)
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    ax.imshow(rgb, extent=(-extent, extent, -extent, extent), origin="upper", interpolation="nearest")
    ax.set_xlabel("a*")
    ax.set_ylabel("b*")
    ax.set_title(f"a*b* plane at L* = {L:g}")
    fig.tight_layout()
    return _detach(fig)


# ---------------------------------------------------------------------------
# latent size and CIELAB channels
# ---------------------------------------------------------------------------


def latent_figure(
    rows: Sequence[Mapping],
    y: str,
    *,
    x: str = "latent_size",
    label: str | None = "model",
    background: Sequence[Mapping] | None = None,
    connect: bool = False,
    input_values: int | None = 3072,
    ylabel: str | None = None,
    xlabel: str = "latent values (log scale)",
    max_labelled_ticks: int = 12,
    title: str | None = None,
    series_label: str | None = None,
    background_label: str = "all trials",
    figsize=DEFAULT_CURVE_FIGSIZE,
):
    """Plot ``y`` against latent size, one marker per row.

    The x axis is logarithmic (base 2), so halving the latent is one step;
    a dashed vertical line marks ``input_values`` (3072 = 32·32·3 for RGB
    CIFAR-10): a model to the right of it keeps more numbers than the image has.

    Args:
        rows: the points to mark, dicts with keys ``x`` and ``y`` (e.g. rows of
            :func:`comparison_rows`).
        y: the key plotted upwards (e.g. ``"psnr_global_db"``, ``"val_loss"``).
        x: the key plotted across (positive numbers).
        label: key naming each point; each then gets its own colour, marker and
            legend entry. ``None``: all rows form one series (``series_label``).
        background: optional rows drawn first as small grey dots (e.g. every
            trial of a search, with ``rows`` the best per latent size).
        connect: join ``rows`` by a line, in order of ``x``.
        input_values: where to draw the input-size line; ``None`` for none.
        ylabel: y label (default: ``y``).
        xlabel: x label.
        max_labelled_ticks: when at most this many distinct latent sizes are
            plotted, each gets a labelled tick (powers of two alone would
            leave sizes such as 768 unlabelled).
        title: axes title.
        series_label: legend entry of the single series when ``label`` is None.
        background_label: legend entry of ``background``.
        figsize: figure size in inches.

    Returns:
        The ``matplotlib.figure.Figure`` (detached from pyplot, as in
        the other figures).

    Raises:
        ValueError: empty ``rows``, a row missing ``x``, ``y`` or ``label``, a
            non-positive or non-finite ``x``, or a non-finite ``y``.

    Example:
        >>> fig = latent_figure([{"model": "a", "latent_size": 1024, "psnr": 20.0},
        ...                      {"model": "b", "latent_size": 256, "psnr": 18.0}], "psnr")
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
        ['a', 'b']
    """
    def points(items, what, need_label):
        items = list(items)
        xs, ys, names = [], [], []
        for i, row in enumerate(items):
            if not isinstance(row, Mapping):
                raise ValueError(f"{what}[{i}] must be a dict, got {type(row).__name__}")
            keys = (x, y) + ((label,) if need_label else ())
            missing = [k for k in keys if k not in row]
            if missing:
                raise ValueError(f"{what}[{i}] has no {missing} (it has {sorted(row)})")
            xv, yv = row[x], row[y]
            for key, v in ((x, xv), (y, yv)):
                if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                    raise ValueError(f"{what}[{i}][{key!r}] must be a finite number, got {v!r}")
            if xv <= 0:
                raise ValueError(f"{what}[{i}][{x!r}] must be positive for the log axis, got {xv!r}")
            xs.append(float(xv))
            ys.append(float(yv))
            names.append(str(row[label]) if need_label else None)
        return np.array(xs), np.array(ys), names

    rows = list(rows) if rows is not None else []
    if not rows:
        raise ValueError("rows is empty; pass at least one dict with the x and y keys")
    xs, ys, names = points(rows, "rows", label is not None)
    bg = points(background, "background", False) if background is not None else None

    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    if bg is not None and bg[0].size:
        ax.scatter(bg[0], bg[1], s=14, color="0.65", alpha=0.7, label=background_label, zorder=1)
    if connect:
        order = np.argsort(xs, kind="stable")
        ax.plot(xs[order], ys[order], color="0.3", linewidth=1, zorder=2)
    markers = "osD^v<>pPX*h"
    if label is None:
        ax.scatter(xs, ys, s=40, color="C0", label=series_label, zorder=3)
    else:
        for i, (xv, yv, name) in enumerate(zip(xs, ys, names)):
            ax.scatter([xv], [yv], s=50, color=f"C{i % 10}", marker=markers[i % len(markers)], label=name, zorder=3)
    if input_values is not None:
        ax.axvline(input_values, color="0.4", linestyle="--", linewidth=1, label=f"input size ({input_values} values)")
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log", base=2)
    plotted = set(xs.tolist()) | (set(bg[0].tolist()) if bg is not None else set())
    if input_values is not None:
        plotted.add(float(input_values))
    if len(plotted) <= max_labelled_ticks:  # label every latent size shown, e.g. 768 between 512 and 1024
        ax.set_xticks(sorted(plotted))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _pos: ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if ylabel is not None else y)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    handles, texts = ax.get_legend_handles_labels()
    if texts:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _detach(fig)


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
    fig, axes = _figure(n, 4, figsize=(4 * cell_inches * 1.15, cell_inches * n))
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
    return _detach(fig)


# ---------------------------------------------------------------------------
# comparisons across methods: rate-distortion, colour trade-off, restoration
# ---------------------------------------------------------------------------

_MARKERS = "osD^v<>pPX*h"


def _finish(fig, ax, xlabel: str | None, ylabel: str, title: str | None, grid_axis: str = "both"):
    """Labels, title, a light grid and the legend beside the axes; detach the figure."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, axis=grid_axis, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return _detach(fig)


def rate_distortion_figure(
    curves: Mapping[str, Sequence[Mapping]],
    points: Sequence[Mapping],
    *,
    rate: str = "latent_size",
    y: str = "psnr_global_db",
    input_rate: float | None = 3072,
    ylabel: str = "test PSNR, global (dB)",
    title: str | None = "Reconstruction quality against values kept",
    figsize=(7.2, 4.6),
):
    """Quality against a rate, log-x: codecs as lines, models as markers.

    Args:
        curves: ``{label: rows}``, each a line over its rows' ``rate``
            (:func:`cae_lib.codecs.by_family` of codec records).
        points: rows with ``"model"``, ``rate`` and ``y``, one marker each.
        rate: the x axis, a key of :data:`cae_lib.codecs.RATES` (values kept or bits per pixel).
        y: the key plotted upwards.
        input_rate: where to mark the input's own rate (3,072 values, or 24 bpp; ``None``: no mark).
        ylabel, title, figsize: labels and size.

    Returns:
        The Figure.

    Example:
        >>> fig = rate_distortion_figure({"PCA": [{"latent_size": 256, "psnr_global_db": 26.0},
        ...                                       {"latent_size": 1024, "psnr_global_db": 44.0}]},
        ...                              [{"model": "given", "latent_size": 1024, "psnr_global_db": 24.0}])
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
        ['PCA', 'given']
    """
    from matplotlib.ticker import FuncFormatter

    from cae_lib.codecs import RATES

    if rate not in RATES:
        raise ValueError(f"rate must be one of {tuple(RATES)}, got {rate!r}")
    if not curves and not points:
        raise ValueError("nothing to plot: give curves or points")
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    for i, (label, rows) in enumerate(curves.items()):
        rows = sorted(rows, key=lambda r: r[rate])
        ax.plot([r[rate] for r in rows], [r[y] for r in rows], color=f"C{i}", marker=".",
                linewidth=1.5, label=label, zorder=2)
    for j, row in enumerate(points):
        ax.scatter([row[rate]], [row[y]], s=55, marker=_MARKERS[j % len(_MARKERS)],
                   color=f"C{(j + len(curves)) % 10}", edgecolor="black", linewidth=0.5, label=str(row["model"]),
                   zorder=3)
    if input_rate is not None:
        unit = "values" if rate == "latent_size" else rate
        ax.axvline(input_rate, color="0.4", linestyle="--", linewidth=1, label=f"input ({input_rate:g} {unit})")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    return _finish(fig, ax, f"{RATES[rate]} (log scale)", ylabel, title)


def tradeoff_figure(
    rows: Sequence[Mapping],
    *,
    goal: tuple[float, float] | None = None,
    title: str | None = "PSNR against colourfulness",
    figsize=(7.0, 4.6),
):
    """Colorization: RGB PSNR against colourfulness (% of the originals'), one marker per setting.

    Args:
        rows: :func:`cae_lib.findings.colour_row` rows (``prediction``,
            ``psnr_global_db``, ``colourfulness_pct``); rows sharing a ``series``
            key are joined by a line (e.g. one model at several temperatures).
        goal: ``(psnr_db, colourfulness_pct)``: the corner both goals meet at, shaded.
        title, figsize: labels and size.

    Returns:
        The Figure. The originals' colourfulness (100 %) is marked.

    Example:
        >>> fig = tradeoff_figure([{"prediction": "grey", "psnr_global_db": 22.0, "colourfulness_pct": 0.0}],
        ...                       goal=(23.7, 65.0))
        >>> fig.axes[0].get_xlabel()
        'colourfulness (% of the originals)'
    """
    if not rows:
        raise ValueError("rows is empty")
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    series: dict[str, list[Mapping]] = {}
    for row in rows:
        if row.get("series"):
            series.setdefault(row["series"], []).append(row)
    for i, members in enumerate(series.values()):
        members = sorted(members, key=lambda r: r["colourfulness_pct"])
        ax.plot([r["colourfulness_pct"] for r in members], [r["psnr_global_db"] for r in members],
                color=f"C{i}", linewidth=1, zorder=2)
    for j, row in enumerate(rows):
        ax.scatter([row["colourfulness_pct"]], [row["psnr_global_db"]], s=50, marker=_MARKERS[j % len(_MARKERS)],
                   color=f"C{j % 10}", edgecolor="black", linewidth=0.5, label=str(row["prediction"]), zorder=3)
    ax.axvline(100.0, color="0.4", linestyle="--", linewidth=1, label="originals (100 %)")
    if goal is not None:
        ylim = ax.get_ylim()
        ax.fill_between([goal[1], max(110.0, ax.get_xlim()[1])], goal[0], max(ylim[1], goal[0] + 0.5),
                        color="C2", alpha=0.12, label=f"goal: ≥ {goal[0]:g} dB and ≥ {goal[1]:g} %", zorder=1)
    return _finish(fig, ax, "colourfulness (% of the originals)", "test PSNR, global (dB)", title)


def method_bars(
    rows: Sequence[Mapping],
    *,
    group: str,
    method: str = "method",
    y: str = "psnr_global_db",
    ylabel: str = "test PSNR, global (dB)",
    title: str | None = None,
    figsize=(7.2, 4.2),
):
    """Grouped bars: one group per value of ``group`` (e.g. the noise level), one bar per method.

    Example:
        >>> rows = [{"sigma": 0.1, "method": "a", "psnr_global_db": 25.0}, {"sigma": 0.2, "method": "a",
        ...          "psnr_global_db": 21.0}, {"sigma": 0.1, "method": "b", "psnr_global_db": 27.0}]
        >>> len(method_bars(rows, group="sigma").axes[0].patches)
        3
    """
    rows = [r for r in rows if r.get(y) is not None]
    if not rows:
        raise ValueError(f"no row has a value for {y!r}")
    groups = list(dict.fromkeys(r[group] for r in rows))
    methods = list(dict.fromkeys(r[method] for r in rows))
    width = 0.8 / len(methods)
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    for i, m in enumerate(methods):
        xs, ys = [], []
        for g_index, g in enumerate(groups):
            match = [r for r in rows if r[method] == m and r[group] == g]
            if match:
                xs.append(g_index - 0.4 + width * (i + 0.5))
                ys.append(match[0][y])
        ax.bar(xs, ys, width=width * 0.95, color=f"C{i % 10}", label=str(m))
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{group} = {g}" for g in groups])
    ax.set_ylim(bottom=max(0.0, min(r[y] for r in rows) - 3.0))
    return _finish(fig, ax, None, ylabel, title, grid_axis="y")


def photo_grid(rows: Mapping[str, Sequence[np.ndarray]], *, titles: Sequence[str] | None = None, height_inches=1.8,
               fontsize: int = DEFAULT_LABEL_FONTSIZE):
    """Images of any size side by side: one row per label, one column per photograph.

    Args:
        rows: ``{label: [image, ...]}`` (RGB or grey, uint8 or float in [0, 1]); every row as long.
        titles: column titles (e.g. the photographs' names).
        height_inches: height of one row.

    Example:
        >>> fig = photo_grid({"grey": [np.zeros((20, 30))], "colour": [np.zeros((20, 30, 3))]})
        >>> len(fig.axes)
        2
    """
    labels = list(rows)
    if not labels:
        raise ValueError("rows is empty")
    ncols = len(rows[labels[0]])
    if any(len(rows[label]) != ncols for label in labels) or ncols == 0:
        raise ValueError("every row must hold the same, non-zero number of images")
    aspects = [np.shape(img)[1] / np.shape(img)[0] for img in rows[labels[0]]]
    fig, axes = _figure(len(labels), ncols, figsize=(height_inches * sum(aspects) + 0.8, height_inches * len(labels)),
                        gridspec_kw={"width_ratios": aspects})
    for r, label in enumerate(labels):
        for c, img in enumerate(rows[label]):
            img = np.asarray(img)
            _show(axes[r, c], img[..., None] if img.ndim == 2 else img)
        axes[r, 0].set_ylabel(label, fontsize=fontsize)
    for c, title in enumerate(titles or []):
        axes[0, c].set_title(title, fontsize=fontsize)
    fig.tight_layout()
    return _detach(fig)


def colorized_photos_figure(photos: Mapping[str, np.ndarray], colorized: Mapping[str, Mapping[str, np.ndarray]],
                            **kwargs):
    """Photographs in columns; rows: the grey input, each model's colorization, the original.

    Args:
        photos: ``{name: RGB image}``.
        colorized: ``{model label: {name: RGB image}}`` (:func:`cae_lib.tasks.colorize.colorize_photos`).
        **kwargs: passed to :func:`photo_grid`.
    """
    grey = [color.rgb_to_lab(unit_float(p))[..., 0]
            / color.L_SCALE for p in photos.values()]
    rows = {"grey input": grey, **{label: [images[n] for n in photos] for label, images in colorized.items()},
            "original": list(photos.values())}
    return photo_grid(rows, titles=list(photos), **kwargs)


# ---------------------------------------------------------------------------
# what the latent knows (chapter 6)
# ---------------------------------------------------------------------------


def probe_figure(rows: Sequence[Mapping], baselines: Sequence[Mapping] = (), *, x: str = "psnr_global_db",
                 xlabel: str = "test PSNR, global (dB)", title: str | None = "Reconstruction against probe accuracy",
                 figsize=(7.0, 4.4)):
    """Linear-probe accuracy (with its confidence interval) of each model against its reconstruction quality.

    Args:
        rows: one per model: ``features`` (label), ``x`` (default ``psnr_global_db``),
            ``probe_accuracy``, ``ci_low``, ``ci_high`` (:func:`cae_lib.representation.probe_rows`).
        baselines: rows of features that reconstruct nothing (pixels, PCA): horizontal lines.

    Example:
        >>> row = {"features": "m", "psnr_global_db": 24.0, "probe_accuracy": 0.4, "ci_low": 0.38, "ci_high": 0.42}
        >>> probe_figure([row], [{"features": "pixels", "probe_accuracy": 0.39}]).axes[0].get_ylabel()
        'linear-probe test accuracy (%)'
    """
    if not rows:
        raise ValueError("rows is empty")
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    for j, row in enumerate(rows):
        acc = 100 * row["probe_accuracy"]
        err = [[acc - 100 * row["ci_low"]], [100 * row["ci_high"] - acc]]
        ax.errorbar([row[x]], [acc], yerr=err, fmt=_MARKERS[j % len(_MARKERS)], color=f"C{j % 10}",
                    markeredgecolor="black", markeredgewidth=0.5, capsize=3, label=str(row["features"]), zorder=3)
    for i, row in enumerate(baselines):
        ax.axhline(100 * row["probe_accuracy"], color=str(0.2 + 0.2 * i), linestyle=("--", ":", "-.")[i % 3],
                   linewidth=1, label=f"{row['features']} ({row.get('values', '?')} values)")
    return _finish(fig, ax, xlabel, "linear-probe test accuracy (%)", title)


def error_histograms(errors: Mapping[str, Mapping[str, np.ndarray]], *, bins: int = 40,
                     title: str | None = None, cell_inches=(4.2, 3.0)):
    """Histograms of per-image reconstruction MSE (log scale), one panel per model, one colour per kind of image.

    Args:
        errors: ``{model: {kind: errors}}`` (:func:`cae_lib.representation.novelty_rows`).

    Example:
        >>> e = {"m": {"test images": np.array([1e-3, 2e-3]), "noise": np.array([0.1, 0.2])}}
        >>> error_histograms(e).axes[0].get_xscale()
        'log'
    """
    if not errors:
        raise ValueError("errors is empty")
    fig, axes = _figure(1, len(errors), figsize=(cell_inches[0] * len(errors) + 1.6, cell_inches[1]), sharey=True)
    every = np.concatenate([np.asarray(e, np.float64).ravel() for kinds in errors.values() for e in kinds.values()])
    every = every[every > 0]
    edges = np.geomspace(every.min(), every.max(), bins + 1) if every.size else np.linspace(0, 1, bins + 1)
    for ax, (model, kinds) in zip(axes[0], errors.items()):
        for i, (kind, e) in enumerate(kinds.items()):
            e = np.clip(np.asarray(e, np.float64), edges[0], None)
            ax.hist(e, bins=edges, density=True, histtype="step" if i else "stepfilled", alpha=1.0 if i else 0.35,
                    color=f"C{i}", linewidth=1.2, label=kind)
        ax.set_xscale("log")
        ax.set_title(model, fontsize=DEFAULT_LABEL_FONTSIZE + 1)
        ax.set_xlabel("reconstruction MSE per image")
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("density")
    axes[0, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _detach(fig)


def embedding_figure(points: np.ndarray, labels, class_names: Sequence[str], *, title: str | None = None,
                     figsize=(6.4, 5.0)):
    """A 2-D map of codes (e.g. t-SNE), one colour per class.

    Example:
        >>> fig = embedding_figure(np.zeros((4, 2)), [0, 1, 0, 1], ["a", "b"])
        >>> len(fig.axes[0].collections)
        2
    """
    xy = np.asarray(points, np.float64)
    y = np.asarray(labels)
    if xy.ndim != 2 or xy.shape[1] != 2 or y.shape != (len(xy),):
        raise ValueError(f"points must be (N, 2) with N labels; got {xy.shape} and {y.shape}")
    fig, axes = _figure(figsize=figsize)
    ax = axes[0, 0]
    for c, name in enumerate(class_names):
        member = y == c
        ax.scatter(xy[member, 0], xy[member, 1], s=4, color=f"C{c % 10}", label=name, alpha=0.7, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), markerscale=3)
    fig.tight_layout()
    return _detach(fig)
