"""Helpers for chapter 2 (improving the architecture): the comparison table and
the error-against-latent-size figure.

:func:`comparison_rows` turns trained runs into one table row each (size of the
model and of its latent representation, test error, training cost);
:data:`COLUMNS`, :data:`HEADERS` and :data:`FLOATFMT` render those rows with
:func:`cae_lib.plots.markdown_table`. :func:`latent_figure` plots a quantity
(test PSNR, validation loss, ...) against latent size, one marker per model,
with the input size marked, so models are compared at equal compression and
not only by raw error. :func:`search_space_rows` and :func:`trial_rows` turn a
keras-tuner search space and the trials of :func:`cae_lib.tuning.search` into
table rows.

Importing this module does not import TensorFlow or Keras.

Example:
    >>> from types import SimpleNamespace
    >>> from cae_lib.models import CAESpec
    >>> run = SimpleNamespace(
    ...     config=SimpleNamespace(model=CAESpec()),
    ...     test_metrics={"mse": 0.01, "psnr_global_db": 20.0, "psnr_mean_db": 20.5, "ssim": 0.6},
    ...     train_seconds=12.0,
    ...     history={"loss": [0.03, 0.02], "val_loss": [0.031, 0.021]},
    ... )
    >>> row = comparison_rows({"given": run})[0]
    >>> row["latent_size"], row["compression"], row["epochs"], row["best_epoch"]
    (1024, 0.3333333333333333, 2, 2)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from cae_lib.models import CAESpec, summary_dict

__all__ = [
    "COLUMNS",
    "HEADERS",
    "FLOATFMT",
    "METRIC_KEYS",
    "TRIAL_COLUMNS",
    "TRIAL_HEADERS",
    "TRIAL_FLOATFMT",
    "comparison_row",
    "comparison_rows",
    "latent_figure",
    "search_space_rows",
    "trial_rows",
]

#: Test metrics every row needs (keys of :func:`cae_lib.metrics.reconstruction_metrics`).
METRIC_KEYS = ("mse", "psnr_global_db", "psnr_mean_db", "ssim")

#: Columns of the comparison table, in order.
COLUMNS = (
    "model",
    "params",
    "latent_shape",
    "latent_size",
    "compression",
    "mse",
    "psnr_global_db",
    "ssim",
    "train_seconds",
    "epochs",
)

#: Header text of each column (the PSNR header says which PSNR it is).
HEADERS = {
    "model": "model",
    "params": "parameters",
    "latent_shape": "latent shape",
    "latent_size": "latent values",
    "compression": "latent / input values",
    "mse": "test MSE",
    "psnr_global_db": "test PSNR, global (dB)",
    "psnr_mean_db": "test PSNR, mean of images (dB)",
    "ssim": "test SSIM",
    "train_seconds": "training time (s)",
    "epochs": "epochs",
    "best_epoch": "best epoch",
}

#: Number formats of the float columns.
FLOATFMT = {
    "compression": ".3f",
    "mse": ".5f",
    "psnr_global_db": ".2f",
    "psnr_mean_db": ".2f",
    "ssim": ".3f",
    "train_seconds": ".0f",
}


def _shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape)


def comparison_row(name: str, result) -> dict:
    """One row of the comparison table for a trained run.

    Args:
        name: the model's label in the table.
        result: a :class:`cae_lib.runs.RunResult`, or any object with the same
            attributes: ``config.model`` (a :class:`~cae_lib.models.CAESpec`),
            ``test_metrics`` (a dict with :data:`METRIC_KEYS`),
            ``train_seconds`` and ``history`` (with ``"loss"``; ``"val_loss"``
            gives the best epoch).

    Returns:
        ``{"model", "params", "latent_shape" (text such as ``"8×8×16"``),
        "latent_size", "compression" (latent values / input values), "mse",
        "psnr_global_db", "psnr_mean_db", "ssim", "train_seconds", "epochs"
        (epochs trained), "best_epoch" (1-based epoch of the lowest validation
        loss, the weights early stopping keeps; ``None`` without validation)}``.

    Raises:
        ValueError: ``result`` lacks one of these attributes, its model is not
            a CAESpec, a metric is missing or not a finite number, or the
            history has no ``"loss"``.

    Example:
        >>> from types import SimpleNamespace
        >>> run = SimpleNamespace(config=SimpleNamespace(model=CAESpec(pooling="none")),
        ...     test_metrics={"mse": 0.001, "psnr_global_db": 30.0, "psnr_mean_db": 31.0, "ssim": 0.9},
        ...     train_seconds=5.0, history={"loss": [0.1], "val_loss": [0.1]})
        >>> row = comparison_row("no_pool", run)
        >>> row["latent_shape"], row["latent_size"], round(row["compression"], 3)
        ('32×32×16', 16384, 5.333)
    """
    label = f"run {name!r}"
    try:
        spec = result.config.model
        test_metrics = result.test_metrics
        train_seconds = result.train_seconds
        history = result.history
    except AttributeError as exc:
        raise ValueError(
            f"{label} must be a cae_lib.runs.RunResult (config.model, test_metrics, train_seconds, history); {exc}"
        ) from None
    if not isinstance(spec, CAESpec):
        raise ValueError(f"{label}: config.model must be a CAESpec, got {type(spec).__name__}")
    if not isinstance(test_metrics, Mapping):
        raise ValueError(f"{label}: test_metrics must be a dict, got {type(test_metrics).__name__}")
    values = {}
    for key in METRIC_KEYS + ("train_seconds",):
        value = train_seconds if key == "train_seconds" else test_metrics.get(key)
        if key != "train_seconds" and key not in test_metrics:
            raise ValueError(
                f"{label}: test_metrics has no {key!r} (it has {sorted(test_metrics)}); "
                "use a reconstruction run, whose metrics come from cae_lib.metrics.reconstruction_metrics"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{label}: {key} must be a finite number, got {value!r}")
        values[key] = float(value)
    if not isinstance(history, Mapping) or not history.get("loss"):
        raise ValueError(f"{label}: history must be a dict with a non-empty 'loss' list")
    val_loss = history.get("val_loss")
    best_epoch = int(np.argmin(np.asarray(val_loss, dtype=np.float64))) + 1 if val_loss else None
    summary = summary_dict(spec)
    return {
        "model": str(name),
        "params": summary["params"],
        "latent_shape": _shape_text(summary["latent_shape"]),
        "latent_size": summary["latent_size"],
        "compression": summary["compression"],
        **values,
        "epochs": len(history["loss"]),
        "best_epoch": best_epoch,
    }


def comparison_rows(results: Mapping[str, object]) -> list[dict]:
    """:func:`comparison_row` for every run, in the order given.

    Args:
        results: ``{model label: RunResult}``.

    Returns:
        A list of row dicts, ready for
        ``cae_lib.plots.markdown_table(rows, COLUMNS, FLOATFMT, HEADERS)``.

    Raises:
        ValueError: ``results`` is empty or not a dict, or a run is unusable
            (see :func:`comparison_row`).
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict {model label: RunResult}")
    return [comparison_row(name, result) for name, result in results.items()]


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
    figsize=(6.4, 4.0),
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
        :mod:`cae_lib.plots`).

    Raises:
        ValueError: empty ``rows``, a row missing ``x``, ``y`` or ``label``, a
            non-positive or non-finite ``x``, or a non-finite ``y``.

    Example:
        >>> fig = latent_figure([{"model": "a", "latent_size": 1024, "psnr": 20.0},
        ...                      {"model": "b", "latent_size": 256, "psnr": 18.0}], "psnr")
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
        ['a', 'b']
    """
    import matplotlib.pyplot as plt

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

    fig, axes = plt.subplots(figsize=figsize, squeeze=False)
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
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------- keras-tuner tables

#: Columns of the trials table (:func:`trial_rows`), in order.
TRIAL_COLUMNS = (
    "trial",
    "status",
    "filters",
    "convs_per_stage",
    "kernel_size",
    "pooling",
    "latent_shape",
    "latent_size",
    "params",
    "learning_rate",
    "epoch_budget",
    "epochs_run",
    "val_mse",
)

#: Header text of each trials-table column.
TRIAL_HEADERS = {
    "trial": "trial",
    "status": "status",
    "filters": "filters",
    "convs_per_stage": "convs / stage",
    "kernel_size": "kernel",
    "pooling": "pooling",
    "latent_shape": "latent shape",
    "latent_size": "latent values",
    "params": "parameters",
    "learning_rate": "learning rate",
    "epoch_budget": "epoch budget",
    "epochs_run": "epochs trained",
    "val_mse": "validation MSE",
}

#: Number formats of the float columns of the trials table.
TRIAL_FLOATFMT = {"learning_rate": ".2e", "val_mse": ".5f"}


def _choices_text(config: Mapping) -> str:
    if "values" in config:
        return ", ".join(str(v) for v in config["values"])
    if "min_value" in config and "max_value" in config:
        text = f"{config['min_value']:g} to {config['max_value']:g}"
        sampling = config.get("sampling") or "linear"
        step = config.get("step")
        extra = [sampling] if sampling != "linear" else []
        if step not in (None, 1):
            extra.append(f"step {step:g}")
        return text + (f" ({', '.join(extra)})" if extra else "")
    if "value" in config:
        return str(config["value"])
    return "True, False"  # keras-tuner's Boolean has no other field


def search_space_rows(hp) -> list[dict]:
    """One row per hyperparameter of a keras-tuner search space.

    Args:
        hp: a ``keras_tuner.HyperParameters`` in which the space has been
            declared (e.g. after ``CAEHyperModel().spec_for(hp)``).

    Returns:
        ``[{"hyperparameter", "choices", "default", "condition"}]`` in
        declaration order: ``choices`` lists a Choice's values or gives a
        range as ``"low to high (sampling)"``; ``condition`` says when the
        hyperparameter is active (``"pooling in max, avg"``) or is empty.

    Raises:
        ValueError: ``hp`` has no ``space`` or the space is empty.

    Example:
        >>> import keras_tuner as kt  # doctest: +SKIP
        >>> hp = kt.HyperParameters(); _ = hp.Choice("k", [3, 5], default=3)  # doctest: +SKIP
        >>> search_space_rows(hp)  # doctest: +SKIP
        [{'hyperparameter': 'k', 'choices': '3, 5', 'default': 3, 'condition': ''}]
    """
    space = getattr(hp, "space", None)
    if not space:
        raise ValueError(
            "hp must be a keras_tuner.HyperParameters with a declared space; "
            "call hypermodel.build(hp) or CAEHyperModel.spec_for(hp) first"
        )
    rows = []
    for param in space:
        config = param.get_config()
        conditions = []
        for cond in config.get("conditions", []):
            c = cond.get("config", cond)
            conditions.append(f"{c['name']} in {', '.join(str(v) for v in c['values'])}")
        rows.append(
            {
                "hyperparameter": config["name"],
                "choices": _choices_text(config),
                "default": config.get("default", config.get("value")),
                "condition": "; ".join(conditions),
            }
        )
    return rows


def trial_rows(trials: Sequence[Mapping]) -> list[dict]:
    """Rows of the trials table, best first.

    Args:
        trials: :attr:`cae_lib.tuning.SearchResult.trials` (dicts with
            ``trial_id``, ``status``, ``spec``, ``latent_shape``,
            ``latent_size``, ``params``, ``learning_rate``, ``epochs_run``,
            ``val_mse`` and ``hyperparameters``).

    Returns:
        One dict per trial with the keys of :data:`TRIAL_COLUMNS`, sorted by
        ``val_mse`` (lowest first); trials without a finite ``val_mse`` (failed,
        running) come last, in their original order. ``epoch_budget`` is
        Hyperband's ``tuner/epochs`` (the epoch a trial trains up to; ``None``
        for other searches).

    Raises:
        ValueError: a trial lacks one of the keys above.

    Example:
        >>> spec = {"filters": [8, 12, 16], "convs_per_stage": 1, "kernel_size": 3, "pooling": "max"}
        >>> t = dict(trial_id="0", status="COMPLETED", spec=spec, latent_shape=[8, 8, 16], latent_size=1024,
        ...          params=4911, learning_rate=1e-3, epochs_run=2, val_mse=0.01, hyperparameters={})
        >>> row = trial_rows([t])[0]
        >>> row["filters"], row["latent_shape"], row["epoch_budget"]
        ('8, 12, 16', '8×8×16', None)
    """
    needed = ("trial_id", "status", "spec", "latent_shape", "latent_size", "params", "learning_rate",
              "epochs_run", "val_mse")
    rows = []
    for i, t in enumerate(trials):
        if not isinstance(t, Mapping):
            raise ValueError(f"trials[{i}] must be a dict (a row of SearchResult.trials), got {type(t).__name__}")
        missing = [k for k in needed if k not in t]
        if missing:
            raise ValueError(f"trials[{i}] has no {missing}; pass SearchResult.trials from cae_lib.tuning.search")
        spec = t["spec"]
        score = t["val_mse"]
        finite = isinstance(score, numbers.Real) and not isinstance(score, bool) and math.isfinite(score)
        rows.append(
            (
                (0, float(score)) if finite else (1, 0.0),
                i,
                {
                    "trial": str(t["trial_id"]),
                    "status": str(t["status"]),
                    "filters": ", ".join(str(f) for f in spec["filters"]),
                    "convs_per_stage": spec["convs_per_stage"],
                    "kernel_size": spec["kernel_size"],
                    "pooling": spec["pooling"],
                    "latent_shape": _shape_text(t["latent_shape"]),
                    "latent_size": t["latent_size"],
                    "params": t["params"],
                    "learning_rate": t["learning_rate"],
                    "epoch_budget": (t.get("hyperparameters") or {}).get("tuner/epochs"),
                    "epochs_run": t["epochs_run"],
                    "val_mse": float(score) if finite else None,
                },
            )
        )
    rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in rows]
