"""One route from a prediction to its test metrics, for every task, model and baseline.

:func:`prediction_metrics` is the only place that decides how a task's
prediction is scored; :func:`evaluate_model` (every run's test metrics) and
the baselines go through it, so a model's row and a baseline's row of a
table are computed the same way:

- ``reconstruct`` and ``denoise``: :func:`cae_lib.metrics.reconstruction_metrics`
  of the RGB prediction against the clean images;
- ``colorize``: the a*b* prediction (network scale, ab/128) is clipped to
  [-1, 1], RGB is rebuilt from the true L* with the true and with the
  predicted a*b* (:func:`cae_lib.color.rebuild_rgb`), and
  :func:`cae_lib.metrics.colorization_metrics` compares them, a*b* in CIE units.

:func:`paired_difference` summarises per-image differences of two models on
the same test images; :func:`run_row` gives one row of a comparison table.

Example:
    >>> from types import SimpleNamespace
    >>> y = np.zeros((2, 12, 12, 3), np.float32)
    >>> data = SimpleNamespace(task="reconstruct", y_test=y, x_test=y)
    >>> round(prediction_metrics(data, y + 0.1)["psnr_global_db"], 3)
    20.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cae_lib import color, metrics
from cae_lib.latent import shape_text
from cae_lib.models import CAESpec, summary_dict

__all__ = ["prediction_metrics", "predict", "evaluate_model", "paired_difference", "run_row"]


def prediction_metrics(data, pred) -> dict[str, float]:
    """Test-set metrics of a prediction for ``data.x_test``, as every run reports them.

    Args:
        data: a :class:`cae_lib.tasks.TaskData` (or anything with ``task``,
            ``x_test`` and ``y_test``).
        pred: a prediction shaped like ``data.y_test``, in the target's scale.

    Returns:
        dict of floats: for reconstruct and denoise the keys of
        :func:`cae_lib.metrics.reconstruction_metrics`; for colorize those of
        :func:`cae_lib.metrics.colorization_metrics`.

    Raises:
        ValueError: ``pred`` is not shaped like ``data.y_test``, holds
            non-finite values, or the task is unknown.
    """
    pred = np.asarray(pred)
    if pred.shape != np.shape(data.y_test):
        raise ValueError(f"prediction has shape {pred.shape}; the test targets have {np.shape(data.y_test)}")
    if not np.issubdtype(pred.dtype, np.floating) or not np.isfinite(pred).all():
        raise ValueError("the prediction must hold finite floats")
    if data.task in ("reconstruct", "denoise"):
        out = metrics.reconstruction_metrics(data.y_test, pred)
    elif data.task == "colorize":
        ab_pred = np.clip(pred, -1.0, 1.0)
        rgb_true = color.rebuild_rgb(data.x_test, data.y_test)
        rgb_pred = color.rebuild_rgb(data.x_test, ab_pred)
        out = metrics.colorization_metrics(
            rgb_true, rgb_pred, data.y_test * color.AB_SCALE, ab_pred * color.AB_SCALE
        )
    else:
        raise ValueError(f"no metrics are defined for task {data.task!r}")
    return {k: float(v) for k, v in out.items()}


def predict(model, x: np.ndarray, batch_size: int = 256, temperature: float | None = None) -> np.ndarray:
    """A model's prediction in its task's target scale, in batches, silently, as float32.

    A colour-class model (its output has more channels than a*, b*) is decoded
    to a*b*/128 with the annealed mean at ``temperature``
    (:func:`cae_lib.colorization.predict_ab`); other models' outputs are
    returned as they are.
    """
    if model.output_shape[-1] > 3 and model.input_shape[-1] == 1:
        from cae_lib import colorization

        t = colorization.ANNEALED_T if temperature is None else temperature
        return colorization.predict_ab(model, x, colorization.ab_bins(), t, batch_size=batch_size)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate_model(model, data, batch_size: int = 256, temperature: float | None = None) -> dict[str, float]:
    """A trained model's test metrics: Keras' own (``keras_*``) and :func:`prediction_metrics`.

    Args:
        model: a compiled Keras model.
        data: the run's :class:`cae_lib.tasks.TaskData`.
        batch_size: images per prediction step.
        temperature: the annealed-mean temperature of a colour-class model.
    """
    scores = model.evaluate(data.x_test, data.y_test, batch_size=batch_size, verbose=0, return_dict=True)
    out = {f"keras_{k}": float(v) for k, v in scores.items()}
    out.update(prediction_metrics(data, predict(model, data.x_test, batch_size, temperature)))
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


# --------------------------------------------------------------------------- what the measurements say


def relation(delta_db: float, tolerance: float = 0.005) -> str:
    """``"1.23 dB above"``, ``"0.45 dB below"`` or ``"level with"``: how a PSNR compares with another.

    Example:
        >>> relation(1.234), relation(-0.4), relation(0.001)
        ('1.23 dB above', '0.40 dB below', 'level with')
    """
    if abs(delta_db) < tolerance:
        return "level with"
    return f"{abs(delta_db):.2f} dB {'above' if delta_db > 0 else 'below'}"


def bce_floor_table(history: dict, test_bce: float, floors: dict) -> tuple[list[dict], dict]:
    """The BCE of the best epoch against its floor (:func:`cae_lib.metrics.bce_floor`), per part.

    Args:
        history: a BCE run's history (``loss``, ``val_loss``).
        test_bce: its test BCE (``test_metrics["keras_loss"]``).
        floors: ``{"loss", "val_loss", "test"}``: the floor of each part's targets.

    Returns:
        ``(rows, facts)``: table rows, and the numbers the chapter states
        (``bce_floor_test``, ``bce_test``, ``bce_excess_test``, ``bce_floor_share``,
        ``bce_best_epoch``, ``bce_val_change``, ``bce_excess_change``, ``bce_change_word``).

    Example:
        >>> rows, facts = bce_floor_table({"loss": [0.7, 0.6], "val_loss": [0.7, 0.6]}, 0.6,
        ...                               {"loss": 0.5, "val_loss": 0.5, "test": 0.5})
        >>> round(facts["bce_floor_share"], 3), facts["bce_best_epoch"], round(facts["bce_excess_change"], 3)
        (0.833, 2, 0.5)
    """
    val = np.asarray(history["val_loss"], dtype=np.float64)
    b = int(np.argmin(val))
    rows = [
        {"part": f"validation (best epoch, {b + 1})", "floor": floors["val_loss"], "BCE": float(val[b])},
        {"part": "test (restored weights)", "floor": floors["test"], "BCE": float(test_bce)},
    ]
    rows = [{**r, "BCE − floor": r["BCE"] - r["floor"], "floor / BCE": r["floor"] / r["BCE"]} for r in rows]
    excess = val - floors["val_loss"]
    facts = {
        "bce_floor_test": floors["test"],
        "bce_test": float(test_bce),
        "bce_excess_test": float(test_bce) - floors["test"],
        "bce_floor_share": floors["test"] / float(test_bce),
        "bce_best_epoch": b + 1,
        "bce_val_change": float(abs(1 - val[b] / val[0])),
        "bce_excess_change": float(abs(1 - excess[b] / excess[0])),
        "bce_change_word": "fell" if val[b] < val[0] else "did not fall",
    }
    return rows, facts


def above_floor(history: dict, floors: dict) -> dict:
    """A BCE history with each part's floor subtracted (``loss`` and ``val_loss``)."""
    return {key: [v - floors[key] for v in history[key]] for key in ("loss", "val_loss")}


def accuracy_counterexamples(x: np.ndarray, predictions: dict) -> tuple[list[dict], dict]:
    """Keras' "accuracy" next to PSNR and SSIM for the models and two obviously wrong reconstructions.

    The darkened copy ``0.5·x`` keeps every pixel's channel order (so its
    accuracy is perfect) and the flat grey image carries no information at all.

    Args:
        x: the test images (targets), ``(N, H, W, 3)`` in [0, 1].
        predictions: ``{label: reconstruction}`` of the models.

    Returns:
        ``(rows, facts)``; facts: ``acc_dark``, ``psnr_dark``, ``acc_grey``,
        ``acc_model``, ``psnr_model`` (the first model), ``acc_dark_word``, ``psnr_dark_word``.
    """
    candidates = {**predictions, "darkened copy 0.5·x": 0.5 * x, "flat grey 0.5": np.full_like(x, 0.5)}
    rows = [
        {"prediction": name, "accuracy": metrics.keras_accuracy(x, p), **metrics.reconstruction_metrics(x, p)}
        for name, p in candidates.items()
    ]
    by = {r["prediction"]: r for r in rows}
    dark, grey, model = by["darkened copy 0.5·x"], by["flat grey 0.5"], rows[0]
    facts = {
        "acc_dark": dark["accuracy"], "psnr_dark": dark["psnr_global_db"], "acc_grey": grey["accuracy"],
        "acc_model": model["accuracy"], "psnr_model": model["psnr_global_db"],
        "acc_dark_word": "higher than" if dark["accuracy"] > model["accuracy"] else "no higher than",
        "psnr_dark_word": "below" if dark["psnr_global_db"] < model["psnr_global_db"] else "not below",
    }
    return rows, facts


def loss_comparison(x: np.ndarray, pred_mse: np.ndarray, pred_bce: np.ndarray, floor: float):
    """Judge the MSE-trained model against the BCE-trained one on the same test images.

    Each model is scored under both losses and by PSNR and SSIM; the per-image
    differences (MSE model minus BCE model) are summarised with
    :func:`paired_difference`. A measure clearly favours one loss only when its
    mean difference exceeds two standard errors.

    Returns:
        ``(cross_rows, difference_rows, facts)``; facts hold the numbers and the
        sentences the chapter states (``own_loss_sentence``, ``verdict``, ...).
    """
    cross = {}
    for name, p in (("given_mse", pred_mse), ("given_bce", pred_bce)):
        bce = metrics.bce(x, p)
        cross[name] = {"model": name, "BCE": bce, "BCE − floor": bce - floor, **metrics.reconstruction_metrics(x, p)}
    m, c = cross["given_mse"], cross["given_bce"]
    per_m, per_c = metrics.per_image_metrics(x, pred_mse), metrics.per_image_metrics(x, pred_bce)
    diff = {k: paired_difference(per_m[k], per_c[k]) for k in ("psnr_db", "ssim")}
    favours = {k: ("MSE" if d["mean"] > 0 else "BCE") for k, d in diff.items() if abs(d["mean"]) > 2 * d["std_error"]}
    label = {"psnr_db": "PSNR (dB)", "ssim": "SSIM"}
    diff_rows = [
        {"per-image measure": label[k], "mean difference": d["mean"], "standard error": d["std_error"],
         "share of images where the MSE model is better": d["share_greater"],
         "clearly favours": favours.get(k, "neither")}
        for k, d in diff.items()
    ]
    own = (c["BCE"] < m["BCE"], m["mse"] < c["mse"])
    own_loss_sentence = {
        (True, True): "Each model scores better than the other under the loss it was trained with, as it should",
        (False, False): "Oddly, each model scores worse than the other under the loss it was trained with",
        (True, False): "The BCE-trained model scores better under both losses",
        (False, True): "The MSE-trained model scores better under both losses",
    }[own]
    verdict = {
        (): "cannot tell the two losses apart: neither the PSNR nor the SSIM difference exceeds two standard errors",
        ("MSE",): "supports the report's choice of MSE, though not its reason: BCE is a legitimate reconstruction "
                  "loss, and MSE has the advantage of being the quantity that PSNR measures",
        ("BCE",): "goes against the report's choice: on the same test images the BCE-trained model reconstructs better",
    }.get(tuple(sorted(set(favours.values()))),
          f"is mixed: PSNR favours the {favours.get('psnr_db')}-trained model, SSIM the {favours.get('ssim')}-trained one")
    verdict += (f" (mean per-image differences, MSE model minus BCE model: {diff['psnr_db']['mean']:+.2f} dB of PSNR"
                f" and {diff['ssim']['mean']:+.4f} of SSIM)")
    facts = {
        "own_loss_sentence": own_loss_sentence, "verdict": verdict,
        "psnr_gap": abs(m["psnr_global_db"] - c["psnr_global_db"]),
        "psnr_word": "higher" if m["psnr_global_db"] > c["psnr_global_db"] else "lower",
        "ssim_word": "higher" if m["ssim"] > c["ssim"] else "lower",
        "psnr_global_db_mse": m["psnr_global_db"], "psnr_global_db_bce": c["psnr_global_db"],
        "ssim_mse": m["ssim"], "ssim_bce": c["ssim"],
        "psnr_share": diff["psnr_db"]["share_greater"], "ssim_share": diff["ssim"]["share_greater"],
        "psnr_mean_diff": diff["psnr_db"]["mean"], "psnr_diff_se": diff["psnr_db"]["std_error"],
        "ssim_mean_diff": diff["ssim"]["mean"], "ssim_diff_se": diff["ssim"]["std_error"],
        "n_compared": diff["psnr_db"]["n"],
    }
    return list(cross.values()), diff_rows, facts


def variant_facts(rows: list[dict], reference: str) -> dict:
    """The comparisons chapter 2 states about its variants (rows of :func:`run_row`).

    Returns ``{<model>_psnr, <model>_ssim, <model>_params, <model>_vs_given,
    <model>_params_ratio}`` for every row, and ``best_raw_*``, ``equal_count``,
    ``equal_ranking``, ``equal_leader``, ``equal_leader_sentence``,
    ``ssim_order_sentence``, ``fastest_*``, ``slowest_*``.
    """
    by_name = {row["model"]: row for row in rows}
    given = by_name[reference]
    facts = {}
    for name, row in by_name.items():
        facts.update({
            f"{name}_psnr": row["psnr_global_db"], f"{name}_ssim": row["ssim"], f"{name}_params": row["params"],
            f"{name}_latent": row["latent_size"], f"{name}_ratio": row["compression"],
            f"{name}_vs_given": relation(row["psnr_global_db"] - given["psnr_global_db"]),
            f"{name}_params_ratio": row["params"] / given["params"],
        })
    best = min(rows, key=lambda row: row["mse"])
    same = sorted((r for r in rows if r["latent_size"] == given["latent_size"]), key=lambda r: -r["psnr_global_db"])
    leader = same[0]
    by_ssim = [r["model"] for r in sorted(same, key=lambda r: -r["ssim"])]
    fastest = min(rows, key=lambda r: r["train_seconds"])
    slowest = max(rows, key=lambda r: r["train_seconds"])
    facts.update({
        "best_raw_name": best["model"], "best_raw_psnr": best["psnr_global_db"],
        "best_raw_latent": best["latent_size"], "best_raw_ratio": best["compression"],
        "equal_count": len(same),
        "equal_ranking": ", ".join(f"{r['model']} ({r['psnr_global_db']:.2f} dB)" for r in same),
        "equal_leader": leader["model"],
        "equal_leader_sentence": (
            "In this build none of the variants beats the given network at this latent size."
            if leader["model"] == reference
            else f"In this build {leader['model']} leads, "
                 f"{relation(leader['psnr_global_db'] - given['psnr_global_db'])} the given network."
        ),
        "ssim_order_sentence": "SSIM ranks them in the same order." if by_ssim == [r["model"] for r in same]
        else f"SSIM ranks them differently: {', '.join(by_ssim)}.",
        "fastest_name": fastest["model"], "fastest_seconds": fastest["train_seconds"],
        "slowest_name": slowest["model"], "slowest_seconds": slowest["train_seconds"],
    })
    return facts


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


# --------------------------------------------------------------------------- colour that looks like colour


def colour_row(name: str, scores: dict) -> dict:
    """A row of the colorization trade-off: RGB PSNR, SSIM, a*b* error and colourfulness as % of the originals'.

    Example:
        >>> colour_row("grey", {"psnr_global_db": 22.0, "ssim": 0.9, "ab_mae": 9.0,
        ...                     "colourfulness_pred": 0.0, "colourfulness_true": 30.0})["colourfulness_pct"]
        0.0
    """
    return {
        "prediction": name,
        "psnr_global_db": scores["psnr_global_db"],
        "ssim": scores["ssim"],
        "ab_mae": scores["ab_mae"],
        "colourfulness": scores["colourfulness_pred"],
        "colourfulness_pct": 100.0 * scores["colourfulness_pred"] / scores["colourfulness_true"],
    }


def temperature_rows(model, data, temperatures, part: str = "test", batch_size: int = 256) -> list[dict]:
    """:func:`colour_row` of a colour-class model decoded at each annealed-mean temperature.

    Args:
        model: a colour-class model (its output: a distribution over a*b* bins).
        data: :func:`cae_lib.tasks.task_data` of ``"colorize"``.
        temperatures: the temperatures (one run of the model decodes them all).
        part: ``"val"`` to choose a temperature, ``"test"`` to report.
    """
    from cae_lib import colorization

    scored = data.scored_on(part)
    preds = colorization.predict_ab(model, scored.x_test, colorization.ab_bins(), list(temperatures), batch_size)
    return [{**colour_row(f"T = {t:g}", prediction_metrics(scored, preds[float(t)])), "temperature": float(t)}
            for t in temperatures]


def choose_temperature(rows: list[dict], min_colourfulness_pct: float = 65.0) -> float:
    """The temperature with the best PSNR among those at least ``min_colourfulness_pct`` % as colourful as the originals.

    If none is colourful enough, the most colourful one. Use rows of the
    validation part, never the test part.

    Example:
        >>> rows = [{"temperature": 1.0, "psnr_global_db": 23.0, "colourfulness_pct": 60.0},
        ...         {"temperature": 0.38, "psnr_global_db": 22.5, "colourfulness_pct": 70.0},
        ...         {"temperature": 0.1, "psnr_global_db": 22.0, "colourfulness_pct": 80.0}]
        >>> choose_temperature(rows)
        0.38
    """
    if not rows:
        raise ValueError("rows is empty: decode the model at one temperature at least")
    colourful = [r for r in rows if r["colourfulness_pct"] >= min_colourfulness_pct]
    best = max(colourful, key=lambda r: r["psnr_global_db"]) if colourful else max(rows, key=lambda r: r["colourfulness_pct"])
    return float(best["temperature"])


def goal_standing(rows: list[dict], psnr_goal: float, colourfulness_goal: float) -> dict:
    """Which colour settings reach both goals, and how far the nearest stays.

    Returns ``{"reached": [names], "reached_text", "closest", "psnr_short_db", "colourfulness_short_pct"}``;
    the closest setting is the one whose worse shortfall, in units of the goal, is smallest.

    Example:
        >>> goal_standing([{"prediction": "a", "psnr_global_db": 23.0, "colourfulness_pct": 70.0}], 23.7, 65.0)["reached_text"]
        'no setting reaches both'
    """
    reached = [r["prediction"] for r in rows if r["psnr_global_db"] >= psnr_goal
               and r["colourfulness_pct"] >= colourfulness_goal]

    def shortfall(r):
        return max(0.0, (psnr_goal - r["psnr_global_db"]) / psnr_goal,
                   (colourfulness_goal - r["colourfulness_pct"]) / colourfulness_goal)

    closest = min(rows, key=shortfall)
    return {
        "reached": reached,
        "reached_text": ", ".join(reached) if reached else "no setting reaches both",
        "closest": closest["prediction"],
        "psnr_short_db": max(0.0, psnr_goal - closest["psnr_global_db"]),
        "colourfulness_short_pct": max(0.0, colourfulness_goal - closest["colourfulness_pct"]),
    }


def error_scale(mse: float) -> dict:
    """An MSE on the [0, 1] scale as its root and in 8-bit grey levels.

    Example:
        >>> {k: round(v, 4) for k, v in error_scale(0.0004).items()}
        {'mse': 0.0004, 'rmse': 0.02, 'rmse_levels': 5.1}
    """
    return {"mse": float(mse), "rmse": float(mse) ** 0.5, "rmse_levels": 255 * float(mse) ** 0.5}


def accuracy_check(results: dict, y_test: np.ndarray, predictions: dict) -> tuple[list[dict], dict]:
    """Keras' reported test "accuracy" of each run against :func:`cae_lib.metrics.keras_accuracy` recomputed.

    Returns ``(rows, facts)``; facts: ``acc_kind`` (which accuracy Keras picked) and
    ``acc_gap`` (the largest difference between the two).
    """
    rows = [
        {"run": name, "Keras evaluate": r.test_metrics["keras_accuracy"],
         "metrics.keras_accuracy": metrics.keras_accuracy(y_test, predictions[name])}
        for name, r in results.items()
    ]
    first = next(iter(predictions.values()))
    facts = {
        "acc_kind": metrics.keras_accuracy_kind(np.shape(y_test), np.shape(first)),
        "acc_gap": max(abs(r["Keras evaluate"] - r["metrics.keras_accuracy"]) for r in rows),
    }
    return rows, facts


def stopping_facts(results: dict) -> dict:
    """Which run reached the lowest validation loss, and which stopped before their epoch cap.

    Args:
        results: ``{name: RunResult}``.
    """
    lowest = {name: min(r.history["val_loss"]) for name, r in results.items()}
    best = min(lowest, key=lowest.get)
    early = [name for name, r in results.items() if r.stopped_early]
    return {
        "lowest_val_name": best,
        "lowest_val_value": lowest[best],
        "stopped_early_text": "none of the runs" if not early
        else f"{len(early)} of the {len(results)} runs ({', '.join(early)})",
    }


def pca_at(pca_rows: list[dict], size: int) -> float:
    """PCA's test PSNR at ``size`` values, interpolated linearly in log-size between the measured sizes.

    Example:
        >>> pca_at([{"latent_size": 256, "psnr_global_db": 26.0}, {"latent_size": 1024, "psnr_global_db": 44.0}], 512)
        35.0
    """
    rows = sorted(pca_rows, key=lambda r: r["latent_size"])
    sizes = np.log2([r["latent_size"] for r in rows])
    return float(np.interp(np.log2(size), sizes, [r["psnr_global_db"] for r in rows]))


def standing_against_pca(points: list[dict], pca_rows: list[dict], sizes) -> tuple[list[dict], dict]:
    """Where the best learned model stands against PCA at each of ``sizes`` values kept.

    Args:
        points: learned models' rows (``model``, ``latent_size``, ``psnr_global_db``).
        pca_rows: :func:`cae_lib.baselines.codec_curves` PCA rows.
        sizes: the latent sizes to judge (a model counts at a size if its latent is at most that size).

    Returns:
        ``(rows, facts)``: one row per size (best learned model, its PSNR, PCA's, the
        difference), and ``standing_sentence`` plus ``pca_<size>``, ``best_<size>``,
        ``best_<size>_name`` for every size.
    """
    rows, facts, parts = [], {}, []
    for size in sizes:
        fitting = [p for p in points if p["latent_size"] <= size]
        pca = pca_at(pca_rows, size)
        facts[f"pca_{size}"] = pca
        if not fitting:
            continue
        best = max(fitting, key=lambda p: p["psnr_global_db"])
        delta = best["psnr_global_db"] - pca
        rows.append({"values kept": size, "best learned model": best["model"],
                     "its PSNR (dB)": best["psnr_global_db"], "PCA (dB)": pca, "learned − PCA (dB)": delta})
        facts[f"best_{size}"] = best["psnr_global_db"]
        facts[f"best_{size}_name"] = best["model"]
        parts.append(f"at {size} values the best learned model ({best['model']}) is {relation(delta)} PCA")
    beaten = [r for r in rows if r["learned − PCA (dB)"] > 0]
    facts["standing_sentence"] = "; ".join(parts) + (
        ". PCA stays ahead at every size." if not beaten else
        f". The learned models beat PCA at {len(beaten)} of the {len(rows)} sizes."
    )
    return rows, facts


def duration_text(seconds: float) -> str:
    """A training time as text: ``"45 s"``, ``"12.5 minutes"``.

    Example:
        >>> duration_text(45.2), duration_text(750)
        ('45 s', '12.5 minutes')
    """
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} minutes"


def regression_colour_facts(model: dict, grey: dict, mean: dict, chroma: dict, mean_colour) -> dict:
    """The numbers and words chapter 3 states about a regression colorizer and its two baselines.

    Args:
        model, grey, mean: :func:`prediction_metrics` of the model, the grey and the mean-colour prediction.
        chroma: ``{"model", "mean", "true"}``: mean chroma C* of the predictions and of the originals.
        mean_colour: the training-set mean (a*, b*) in CIE units.
    """
    return {
        "model_psnr": model["psnr_global_db"], "grey_psnr": grey["psnr_global_db"], "mean_psnr": mean["psnr_global_db"],
        "model_ssim": model["ssim"], "grey_ssim": grey["ssim"],
        "psnr_gap": abs(model["psnr_global_db"] - grey["psnr_global_db"]),
        "psnr_vs_grey_word": "above" if model["psnr_global_db"] > grey["psnr_global_db"] else "below",
        "model_ab_mae": model["ab_mae"], "grey_ab_mae": grey["ab_mae"], "mean_ab_mae": mean["ab_mae"],
        "ab_vs_mean_word": "lower" if model["ab_mae"] < mean["ab_mae"] else "higher",
        "model_colourfulness": model["colourfulness_pred"], "true_colourfulness": model["colourfulness_true"],
        "colourfulness_pct": 100.0 * model["colourfulness_pred"] / model["colourfulness_true"],
        "colourfulness_word": "less" if model["colourfulness_pred"] < model["colourfulness_true"] else "more",
        "model_chroma": chroma["model"], "true_chroma": chroma["true"],
        "chroma_pct": 100.0 * chroma["model"] / chroma["true"],
        "mean_colour_a": float(mean_colour[0]), "mean_colour_b": float(mean_colour[1]),
        "mean_colour_chroma": chroma["mean"],
    }


def photo_rows(originals: dict, colorized: dict) -> list[dict]:
    """Per photograph and model: RGB PSNR against the original and colourfulness as % of the original's.

    Args:
        originals: ``{photo name: RGB uint8 or float image}``.
        colorized: ``{model name: {photo name: RGB float image}}``.
    """
    rows = []
    for photo, original in originals.items():
        truth = np.asarray(original, dtype=np.float32)
        truth = truth / 255.0 if np.asarray(original).dtype == np.uint8 else truth
        reference = metrics.colourfulness(truth)
        for model, images in colorized.items():
            out = images[photo]
            rows.append({"photograph": photo, "model": model, "psnr_db": metrics.psnr_global(truth[None], out[None]),
                         "colourfulness_pct": 100.0 * metrics.colourfulness(out) / reference})
    return rows


def colour_table(data, predictions: dict) -> list[dict]:
    """Rows of :func:`colour_row` with the mean chroma of each prediction, then the original images' row.

    Args:
        data: :func:`cae_lib.tasks.task_data` of ``"colorize"``.
        predictions: ``{label: a*b*/128 prediction of the test part}``.
    """
    rows = []
    for name, pred in predictions.items():
        scores = prediction_metrics(data, pred)
        rows.append({**colour_row(name, scores), "chroma": color.ab_summary(pred)["chroma_mean"]})
    true = prediction_metrics(data, data.y_test)
    rows.append({"prediction": "original images", "colourfulness": true["colourfulness_true"],
                 "colourfulness_pct": 100.0, "chroma": color.ab_summary(data.y_test)["chroma_mean"]})
    return rows
