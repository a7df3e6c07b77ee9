"""One route from a prediction to its test metrics, for every task, model and baseline.

:func:`prediction_metrics` is the only entry to a task's scoring: it checks
the prediction's shape and values and hands it to the task's own
:meth:`cae_lib.tasks.Task.score`; :func:`evaluate_model` (every run's test
metrics) and the baselines go through it, so a model's row and a baseline's
row of a table are computed the same way (reconstruct and denoise:
:func:`cae_lib.metrics.reconstruction_metrics` against the clean images;
colorize: :func:`cae_lib.metrics.colorization_metrics` of the RGB rebuilt
from the true L*).

:func:`paired_difference` summarises per-image differences of two models on
the same test images; :func:`run_row` gives one row of a comparison table.
What the chapters conclude from these numbers lives in :mod:`cae_lib.findings`.

Example:
    >>> from types import SimpleNamespace
    >>> from cae_lib.tasks import Reconstruct
    >>> y = np.zeros((2, 12, 12, 3), np.float32)
    >>> data = SimpleNamespace(task=Reconstruct(), y_test=y, x_test=y)
    >>> round(prediction_metrics(data, y + 0.1)["psnr_global_db"], 3)
    20.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cae_lib import metrics
from cae_lib.latent import shape_text
from cae_lib.models import CAESpec, summary_dict

__all__ = ["prediction_metrics", "predict", "evaluate_model", "paired_difference", "run_row", "ROW_METRICS",
           "zeroed_latent_psnr"]


def prediction_metrics(data, pred) -> dict[str, float]:
    """Test-set metrics of a prediction for ``data.x_test``, as every run reports them.

    Args:
        data: a :class:`cae_lib.tasks.TaskData` (or anything with ``task``,
            ``x_test`` and ``y_test``).
        pred: a prediction shaped like ``data.y_test``, in the target's scale.

    Returns:
        dict of floats: :meth:`cae_lib.tasks.Task.score` of the task.

    Raises:
        ValueError: ``pred`` is not shaped like ``data.y_test`` or holds non-finite values.
    """
    pred = np.asarray(pred)
    if pred.shape != np.shape(data.y_test):
        raise ValueError(f"prediction has shape {pred.shape}; the test targets have {np.shape(data.y_test)}")
    if not np.issubdtype(pred.dtype, np.floating) or not np.isfinite(pred).all():
        raise ValueError("the prediction must hold finite floats")
    return {k: float(v) for k, v in data.task.score(data, pred).items()}


def predict(model, x: np.ndarray, batch_size: int = 256, task=None) -> np.ndarray:
    """A model's prediction in its task's target scale, in batches, silently, as float32.

    Args:
        model: a Keras model.
        x: its inputs.
        batch_size: images per prediction step.
        task: the :class:`cae_lib.tasks.Task` the model was trained for, which
            turns its output into a prediction (colour classes: the annealed
            mean); ``None``: the output as it is.
    """
    if task is not None:
        return task.predict(model, x, batch_size=batch_size)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate_model(model, data, batch_size: int = 256) -> dict[str, float]:
    """A trained model's test metrics: Keras' own (``keras_*``) and :func:`prediction_metrics`.

    Args:
        model: a compiled Keras model.
        data: the run's :class:`cae_lib.tasks.TaskData` (its task predicts and scores).
        batch_size: images per prediction step.
    """
    scores = model.evaluate(data.x_test, data.y_test, batch_size=batch_size, verbose=0, return_dict=True)
    out = {f"keras_{k}": float(v) for k, v in scores.items()}
    out.update(prediction_metrics(data, predict(model, data.x_test, batch_size, task=data.task)))
    return out


def paired_difference(a, b) -> dict[str, float]:
    """Summary of the per-item differences ``a - b`` of two paired samples.

    Used to compare two models image by image (e.g. per-image PSNRs from
    :func:`cae_lib.metrics.per_image_metrics` on the same test images). The
    standard error describes how much the mean would move with another draw of
    test images; it says nothing about another training seed.

    Args:
        a: 1-D array of values, one per item.
        b: 1-D array of the same length, paired with ``a``.

    Returns:
        ``{"mean": mean of a - b, "std_error": sample standard deviation of
        a - b (ddof=1) / sqrt(n) (NaN for n = 1), "share_greater": fraction of
        items with a > b, "share_equal": fraction with a == b, "n": n}``, all
        Python floats except ``n`` (int).

    Raises:
        ValueError: shapes that differ or are not 1-D, empty input, or
            non-finite values.

    Example:
        >>> d = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 4.0])
        >>> round(d["mean"], 4), round(d["std_error"], 4), round(d["share_greater"], 4), d["n"]
        (1.6667, 0.8819, 0.6667, 3)
    """
    x = np.asarray(a, dtype=np.float64)
    z = np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or x.shape != z.shape:
        raise ValueError(f"a and b must be 1-D arrays of the same length; got shapes {x.shape} and {z.shape}")
    if x.size == 0:
        raise ValueError("a and b are empty; pass one value per item")
    if not (np.isfinite(x).all() and np.isfinite(z).all()):
        raise ValueError("a and b must be finite (cap infinite PSNRs, e.g. with cae_lib.metrics.psnr_from_mse)")
    d = x - z
    n = int(d.size)
    se = float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {
        "mean": float(np.mean(d)),
        "std_error": se,
        "share_greater": float(np.mean(d > 0)),
        "share_equal": float(np.mean(d == 0)),
        "n": n,
    }


#: Test metrics every comparison row needs (keys of :func:`cae_lib.metrics.reconstruction_metrics`).
ROW_METRICS = ("mse", "psnr_global_db", "psnr_mean_db", "ssim")


def run_row(name: str, result) -> dict:
    """One row of a comparison table for a trained run.

    Args:
        name: the model's label in the table.
        result: a :class:`cae_lib.training.RunResult`, or any object with
            ``config.model`` (a :class:`~cae_lib.models.CAESpec`),
            ``test_metrics`` (with :data:`ROW_METRICS`), ``train_seconds``
            and ``history`` (with ``"loss"``; ``"val_loss"`` gives the best epoch).

    Returns:
        ``{"model", "params", "latent_shape" (text such as ``"8×8×16"``),
        "latent_size", "compression" (latent values / input values), "mse",
        "psnr_global_db", "psnr_mean_db", "ssim", "train_seconds", "epochs",
        "best_epoch"}`` (``best_epoch`` 1-based, ``None`` without validation).

    Raises:
        ValueError: ``result`` lacks one of these attributes, its model is not
            a CAESpec, a metric is missing or not a finite number, or the
            history has no ``"loss"``.

    Example:
        >>> from types import SimpleNamespace
        >>> run = SimpleNamespace(config=SimpleNamespace(model=CAESpec(pooling="none")),
        ...     test_metrics={"mse": 0.001, "psnr_global_db": 30.0, "psnr_mean_db": 31.0, "ssim": 0.9},
        ...     train_seconds=5.0, history={"loss": [0.1, 0.05], "val_loss": [0.1, 0.2]})
        >>> row = run_row("no_pool", run)
        >>> row["latent_shape"], row["latent_size"], round(row["compression"], 3), row["best_epoch"]
        ('32×32×16', 16384, 5.333, 1)
    """
    label = f"run {name!r}"
    try:
        spec, test_metrics = result.config.model, result.test_metrics
        train_seconds, history = result.train_seconds, result.history
    except AttributeError as exc:
        raise ValueError(
            f"{label} must be a cae_lib.training.RunResult (config.model, test_metrics, train_seconds, history); {exc}"
        ) from None
    if not isinstance(spec, CAESpec):
        raise ValueError(f"{label}: config.model must be a CAESpec, got {type(spec).__name__}")
    if not isinstance(test_metrics, Mapping):
        raise ValueError(f"{label}: test_metrics must be a dict, got {type(test_metrics).__name__}")
    values = {}
    for key in (*ROW_METRICS, "train_seconds"):
        if key != "train_seconds" and key not in test_metrics:
            raise ValueError(
                f"{label}: test_metrics has no {key!r} (it has {sorted(test_metrics)}); "
                "use a reconstruction run, whose metrics come from cae_lib.metrics.reconstruction_metrics"
            )
        value = train_seconds if key == "train_seconds" else test_metrics[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{label}: {key} must be a finite number, got {value!r}")
        values[key] = float(value)
    if not isinstance(history, Mapping) or not history.get("loss"):
        raise ValueError(f"{label}: history must be a dict with a non-empty 'loss' list")
    val_loss = history.get("val_loss")
    summary = summary_dict(spec)
    return {
        "model": str(name),
        "params": summary["params"],
        "latent_shape": shape_text(summary["latent_shape"]),
        "latent_size": summary["latent_size"],
        "compression": summary["compression"],
        **values,
        "epochs": len(history["loss"]),
        "best_epoch": int(np.argmin(np.asarray(val_loss, dtype=np.float64))) + 1 if val_loss else None,
    }


def zeroed_latent_psnr(model, x: np.ndarray) -> float:
    """Global PSNR of a skip-connected autoencoder whose latent is replaced by zeros.

    What the decoder still reconstructs from the skip connections alone: the
    part of the output the latent size does not account for.
    """
    from cae_lib.models import decoder_of, encoder_of

    outputs = encoder_of(model).predict(x, verbose=0)
    if not isinstance(outputs, list):
        raise ValueError("the model has no skip connections: its encoder returns the latent alone")
    zeroed = [np.zeros_like(outputs[0]), *outputs[1:]]
    pred = decoder_of(model).predict(zeroed, verbose=0)
    return metrics.psnr_global(x, pred)
