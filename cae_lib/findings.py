"""What the chapters conclude: every verdict, sentence and glued number computed from the measurements.

:mod:`cae_lib.evaluation` turns predictions into metrics; this module turns
metrics into what a chapter states: comparisons in words (:func:`relation`),
the facts each chapter glues into its prose, the verdicts on the report's
claims, and the goals the chapters judge against (:data:`COLOUR_GOAL`). Each
chapter cell that glues calls one function here.

Example:
    >>> relation(1.234), duration_text(750)
    ('1.23 dB above', '12.5 minutes')
"""

from __future__ import annotations

import numpy as np

from cae_lib import color, metrics
from cae_lib.data import unit_float
from cae_lib.evaluation import paired_difference, prediction_metrics

__all__ = [
    "relation",
    "bce_floor_table",
    "above_floor",
    "accuracy_counterexamples",
    "loss_comparison",
    "variant_facts",
    "colour_row",
    "temperature_rows",
    "choose_temperature",
    "goal_standing",
    "error_scale",
    "accuracy_check",
    "stopping_facts",
    "curve_at",
    "standing",
    "duration_text",
    "regression_colour_facts",
    "photo_rows",
    "colour_table",
    "restoration_facts",
    "CLASSICAL",
    "verdicts",
    "training_facts",
    "run_facts",
    "codec_facts",
    "compressor_facts",
    "skip_facts",
    "search_facts",
    "tuned_facts",
    "colour_data_facts",
    "colour_spec_facts",
    "COLOUR_GOAL",
    "class_facts",
    "colour_goal_facts",
    "photo_denoising_facts",
    "PROBE_AIM",
    "points_relation",
    "probe_facts",
    "novelty_facts",
    "best_compressor",
]


def relation(delta_db: float, tolerance: float = 0.005) -> str:
    """``"1.23 dB above"``, ``"0.45 dB below"`` or ``"level with"``: how a PSNR compares with another.

    Example:
        >>> relation(1.234), relation(-0.4), relation(0.001)
        ('1.23 dB above', '0.40 dB below', 'level with')
    """
    return _compared(delta_db, tolerance, "dB", 2)


def _compared(delta: float, tolerance: float, unit: str, digits: int) -> str:
    """``"<|delta|> <unit> above"``/``"below"``, or ``"level with"`` within ``tolerance``."""
    if abs(delta) < tolerance:
        return "level with"
    return f"{abs(delta):.{digits}f} {unit} {'above' if delta > 0 else 'below'}"


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


# --------------------------------------------------------------------------- chapter 3: colour that looks like colour


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


def curve_at(rows: list[dict], at: float, rate: str = "latent_size", y: str = "psnr_global_db") -> float:
    """A curve's ``y`` at rate ``at``, interpolated linearly in log-rate between its measured points.

    Example:
        >>> curve_at([{"latent_size": 256, "psnr_global_db": 26.0}, {"latent_size": 1024, "psnr_global_db": 44.0}], 512)
        35.0
    """
    rows = sorted(rows, key=lambda r: r[rate])
    return float(np.interp(np.log2(at), np.log2([r[rate] for r in rows]), [r[y] for r in rows]))


#: How :func:`standing` names a budget on each rate axis.
_BUDGET_UNITS = {"latent_size": "values", "bpp": "bpp"}


def standing(points: list[dict], reference_rows: list[dict], budgets, *, rate: str = "latent_size",
             reference: str = "PCA") -> tuple[list[dict], dict]:
    """Where the best learned model stands against a reference codec's curve at each budget of a rate.

    Args:
        points: learned models' rows (``model``, ``rate``, ``psnr_global_db``).
        reference_rows: the reference codec's records (:func:`cae_lib.codecs.measure`).
        budgets: the rates to judge at (a model counts at a budget if its rate is at most the budget).
        rate: ``"latent_size"`` (values kept) or ``"bpp"``.
        reference: the reference's name in tables and sentences.

    Returns:
        ``(rows, facts)``: one row per budget (best learned model, its PSNR, the reference's, the
        difference), and ``standing_sentence`` plus ``<reference>_<budget>``, ``best_<budget>``,
        ``best_<budget>_name`` for every budget (reference in lower case).
    """
    from cae_lib.codecs import RATES

    key, unit = reference.lower(), _BUDGET_UNITS.get(rate, rate)
    rows, facts, parts = [], {}, []
    for budget in budgets:
        fitting = [p for p in points if p[rate] <= budget]
        ref = curve_at(reference_rows, budget, rate)
        facts[f"{key}_{budget}"] = ref
        if not fitting:
            continue
        best = max(fitting, key=lambda p: p["psnr_global_db"])
        delta = best["psnr_global_db"] - ref
        rows.append({RATES[rate]: budget, "best learned model": best["model"],
                     "its PSNR (dB)": best["psnr_global_db"], f"{reference} (dB)": ref,
                     f"learned − {reference} (dB)": delta})
        facts[f"best_{budget}"] = best["psnr_global_db"]
        facts[f"best_{budget}_name"] = best["model"]
        parts.append(f"at {budget} {unit} the best learned model ({best['model']}) is {relation(delta)} {reference}")
    beaten = [r for r in rows if r[f"learned − {reference} (dB)"] > 0]
    facts["standing_sentence"] = "; ".join(parts) + (
        f". {reference} stays ahead at every budget." if not beaten else
        f". The learned models beat {reference} at {len(beaten)} of the {len(rows)} budgets."
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
        truth = unit_float(original)
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


# --------------------------------------------------------------------------- chapter 4: restoration


def restoration_facts(scores: dict, subset_scores: dict, sigma: float) -> dict:
    """What chapter 4 states at one noise level, from the methods' test PSNRs.

    Args:
        scores: ``{"pooled", "unpooled", "rednet", "nlm"}`` → global test PSNR in dB
            (``"unpooled"`` may be missing at a noise level without that model).
        subset_scores: the same methods and ``"bm3d"`` on the BM3D subset (``bm3d``
            ``None`` when BM3D is not installed).
        sigma: the noise level.

    Returns:
        ``{"pooling_sentence", "skips_sentence", "pooled_vs_nlm", "rednet_vs_nlm", "bm3d_sentence"}``.

    Example:
        >>> f = restoration_facts({"pooled": 22.6, "unpooled": 27.2, "rednet": 27.9, "nlm": 25.4},
        ...                       {"pooled": 22.5, "unpooled": 27.0, "rednet": 27.8, "nlm": 25.3, "bm3d": 28.9}, 0.1)
        >>> f["pooled_vs_nlm"], f["bm3d_sentence"][:40]
        ('2.80 dB below', 'BM3D beats every learned model here: 28.')
    """
    facts = {
        "pooled_vs_nlm": relation(scores["pooled"] - scores["nlm"]),
        "rednet_vs_nlm": relation(scores["rednet"] - scores["nlm"]),
    }
    if "unpooled" in scores:
        gain = scores["unpooled"] - scores["pooled"]
        facts["pooling_sentence"] = (
            f"Removing the pooling from the same small network raises its PSNR by {gain:.2f} dB at σ = {sigma:g}: "
            "for restoration, pooling discards detail the output needs, as Mao et al. say"
            if gain > 0 else
            f"Removing the pooling does not help here ({relation(gain)} the pooled network at σ = {sigma:g})"
        )
        skip = scores["rednet"] - scores["unpooled"]
        facts["skips_sentence"] = (
            f"RED-Net's symmetric skips and residual output add {skip:.2f} dB over the unpooled network"
            if skip > 0 else f"RED-Net is {relation(skip)} the unpooled network: the skips did not help here"
        )
    learned = {k: v for k, v in subset_scores.items() if k in ("pooled", "unpooled", "rednet")}
    best = max(learned, key=learned.get)
    bm3d = subset_scores.get("bm3d")
    if bm3d is None:
        facts["bm3d_sentence"] = "BM3D was not measured in this build (the bm3d package is not installed)"
    elif bm3d > learned[best]:
        facts["bm3d_sentence"] = (f"BM3D beats every learned model here: {bm3d:.2f} dB against {learned[best]:.2f} dB "
                                  f"for the best, on the same test images")
    else:
        facts["bm3d_sentence"] = (f"The best learned model beats BM3D: {learned[best]:.2f} dB against {bm3d:.2f} dB "
                                  "on the same test images")
    return facts


#: The kinds of method :func:`verdicts` compares, by the prefix of their table label.
CLASSICAL = {"nlm": "non-local means", "bm3d": "BM3D"}


def verdicts(rows: list[dict], labels: dict, noise_levels) -> dict:
    """:func:`restoration_facts` at every noise level, from the chapter's table of methods.

    Args:
        rows: ``{"sigma", "method", "psnr_global_db", "psnr_subset_db"}`` for every method
            (:func:`cae_lib.baselines.denoising_scores` and :func:`model_row`).
        labels: ``{"pooled" | "unpooled" | "rednet": the model's label in the table}``.
        noise_levels: the sigmas to judge.

    Returns:
        The facts of each level with keys prefixed ``s<10·sigma>_`` (``s1_`` for 0.1),
        plus ``s1_rednet``, ``s1_pooled``, ``s1_nlm`` (global PSNRs), and so on.
    """
    facts = {}
    for sigma in noise_levels:
        at = {r["method"]: r for r in rows if r["sigma"] == sigma}
        classical = {key: next((r for m, r in at.items() if m.startswith(prefix)), None)
                     for key, prefix in CLASSICAL.items()}
        full = {key: at[label]["psnr_global_db"] for key, label in labels.items() if label in at}
        subset = {key: at[label]["psnr_subset_db"] for key, label in labels.items() if label in at}
        bm3d = classical["bm3d"]
        subset["bm3d"] = None if bm3d is None else bm3d["psnr_subset_db"]
        subset["nlm"] = classical["nlm"]["psnr_subset_db"]
        found = restoration_facts({**full, "nlm": classical["nlm"]["psnr_global_db"]}, subset, sigma)
        found.update({"rednet": full["rednet"], "pooled": full["pooled"], "nlm": classical["nlm"]["psnr_global_db"],
                      "nlm_h": classical["nlm"]["h"]})
        facts.update({f"s{round(sigma * 10)}_{k}": v for k, v in found.items()})
    return facts


# --------------------------------------------------------------------------- the numbers each chapter glues


def training_facts(config) -> dict:
    """How a run trains, as the chapters state it: epochs asked and allowed, patience, optimizer and batch.

    Args:
        config: a :class:`cae_lib.training.RunConfig`.

    Example:
        >>> from cae_lib.training import RunConfig
        >>> f = training_facts(RunConfig(name="a", profile="smoke"))
        >>> f["epochs_asked"], f["epochs_cap"], f["optimizer"], f["patience"]
        (20, 2, 'Adam', '4')
    """
    return {
        "epochs_asked": config.epochs, "epochs_cap": config.max_epochs(),
        "patience": str(config.early_stopping_patience), "optimizer": config.optimizer.capitalize(),
        "learning_rate": config.learning_rate, "batch_size": config.batch_size, "profile_name": config.profile,
    }


def run_facts(result) -> dict:
    """How a trained run went: epochs run and allowed, patience, training time in words.

    Args:
        result: a :class:`cae_lib.training.RunResult`.
    """
    return {"epochs_run": result.epochs_run, "epochs_max": result.config.max_epochs(),
            "patience": str(result.config.early_stopping_patience), "train_time": duration_text(result.train_seconds)}


def codec_facts(given: dict, pca_rows: list[dict], thumbnail_rows: list[dict], thumbnail_size: int = 768) -> dict:
    """Chapter 2's comparison of the given network with PCA at its size and with a thumbnail.

    Args:
        given: the given network's :func:`cae_lib.evaluation.run_row`.
        pca_rows, thumbnail_rows: :func:`cae_lib.codecs.measure` records of each codec.
        thumbnail_size: the values kept of the thumbnail compared (768: 16×16×3).

    Returns:
        ``{"thumb_<size>", "given_vs_pca", "given_vs_thumb"}``.
    """
    thumb = next(r["psnr_global_db"] for r in thumbnail_rows if r["latent_size"] == thumbnail_size)
    return {
        f"thumb_{thumbnail_size}": thumb,
        "given_vs_pca": relation(given["psnr_global_db"] - curve_at(pca_rows, given["latent_size"])),
        "given_vs_thumb": relation(given["psnr_global_db"] - thumb),
    }


def compressor_facts(given: dict, compressors: list[dict], pca_rows: list[dict]) -> dict:
    """The 1024- and 256-value compressors against the given network and against PCA at their sizes.

    Args:
        given: the given network's row; compressors: the rows of ``compressor_1024`` and
            ``compressor_256`` (in that order); pca_rows: PCA's records.
    """
    c1024, c256 = compressors
    return {
        "c1024_psnr": c1024["psnr_global_db"], "c256_psnr": c256["psnr_global_db"],
        "c1024_vs_given": relation(c1024["psnr_global_db"] - given["psnr_global_db"]),
        "c1024_vs_pca": relation(c1024["psnr_global_db"] - curve_at(pca_rows, c1024["latent_size"])),
        "c256_vs_pca": relation(c256["psnr_global_db"] - curve_at(pca_rows, c256["latent_size"])),
        "c1024_params": c1024["params"], "c1024_seconds": c1024["train_seconds"],
    }


def skip_facts(result, zeroed_psnr: float) -> tuple[list[dict], dict]:
    """What a skip-connected compressor's decoder sees besides the latent, and what it rebuilds without it.

    Args:
        result: the skip-connected run (:class:`cae_lib.training.RunResult`).
        zeroed_psnr: :func:`cae_lib.evaluation.zeroed_latent_psnr` of its model.

    Returns:
        ``(rows, facts)``: one table row, and ``skip_psnr``, ``skip_values``, ``skip_zeroed_psnr``.
    """
    spec = result.config.model
    facts = {"skip_psnr": result.test_metrics["psnr_global_db"], "skip_values": spec.skip_values,
             "skip_zeroed_psnr": float(zeroed_psnr)}
    rows = [{"model": result.config.name, "latent values": spec.latent_size,
             "values through the skips": spec.skip_values, "test PSNR (dB)": facts["skip_psnr"],
             "test PSNR, latent zeroed (dB)": facts["skip_zeroed_psnr"]}]
    return rows, facts


def search_facts(search, profile) -> dict:
    """A keras-tuner search as chapter 2 describes it: its budget, its trials and the best of each latent size.

    Args:
        search: a :class:`cae_lib.tuning.SearchResult`.
        profile: the :class:`cae_lib.profiles.Profile` it ran under.
    """
    return {
        "budget": search.latent_budget, "budget_sizes": ", ".join(str(s) for s in search.budget_sizes()),
        "tuner_trials": profile.tuner_max_trials, "tuner_epochs": profile.tuner_max_epochs,
        "n_trials": len(search.trials), "n_completed": len(search.completed),
        "best_per_latent_text": "; ".join(f"{t['latent_size']} values: {t['val_mse']:.5f}"
                                          for t in search.best_per_latent()),
    }


def tuned_facts(tuned: dict, given: dict, compressor: dict) -> dict:
    """The tuned architecture against the given network and the 1024-value compressor.

    Args:
        tuned, given, compressor: :func:`cae_lib.evaluation.run_row` of each.
    """
    return {
        "tuned_psnr": tuned["psnr_global_db"], "tuned_latent": tuned["latent_size"], "tuned_params": tuned["params"],
        "tuned_vs_given": relation(tuned["psnr_global_db"] - given["psnr_global_db"]),
        "tuned_vs_compressor": relation(tuned["psnr_global_db"] - compressor["psnr_global_db"]),
    }


def colour_data_facts(gamut: dict, train_ab: dict, data) -> dict:
    """Chapter 3's ranges of a*b*: the sRGB gamut (``srgb_*``, CIE and network scale), the training images' (``train_*``).

    Args:
        gamut: :func:`cae_lib.color.srgb_ab_range`; train_ab: :func:`cae_lib.color.ab_summary` of the
            training targets; data: the colorize task's :class:`cae_lib.tasks.TaskData`.
    """
    return {
        **{f"srgb_{k}": v for k, v in {**gamut, **color.scaled_range(gamut)}.items()},
        **{f"train_{k}": v for k, v in train_ab.items()},
        "n_train": len(data.y_train), "n_test": len(data.y_test),
    }


def colour_spec_facts(spec) -> dict:
    """The colorization network's size and latent, and whether its latent holds more values than its input."""
    from cae_lib.models import facts

    f = facts(spec)
    return {"params": f["params"], "latent_size": f["latent_size"], "input_values": f["input_size"],
            "latent_ratio": f["latent_share"], "latent_vs_input_word": "more" if f["latent_share"] > 1 else "fewer"}


#: Chapter 3's goal for one colour setting: at least this RGB PSNR (dB) and this colourfulness (% of the
#: originals'), i.e. the regression models' PSNR with most of the colour.
COLOUR_GOAL = (23.7, 65.0)


def class_facts(result, chosen_temperature: float) -> dict:
    """The colour-class run's rebalancing, the temperature chosen on the validation part, and the bins."""
    from cae_lib import colorization

    return {"lambda": result.config.task.rebalance_lambda, "chosen_t": float(chosen_temperature),
            "n_bins": len(colorization.ab_bins())}


def colour_goal_facts(tradeoff: list[dict], test_rows: list[dict], chosen_temperature: float, unet: dict,
                      goal: tuple[float, float] = COLOUR_GOAL) -> dict:
    """Which settings reach chapter 3's goal, and where the chosen class setting and the U-Net stand.

    Args:
        tradeoff: :func:`colour_row` rows of every setting; test_rows: :func:`temperature_rows` of the
            class model on the test part; chosen_temperature: the one chosen on the validation part;
            unet: the U-Net's :func:`cae_lib.evaluation.prediction_metrics`; goal: (PSNR, colourfulness %).
    """
    chosen = next(r for r in test_rows if r["temperature"] == chosen_temperature)
    return {
        **goal_standing(tradeoff, *goal), "goal_psnr": goal[0], "goal_colour": goal[1],
        "chosen_psnr": chosen["psnr_global_db"], "chosen_colour": chosen["colourfulness_pct"],
        "unet_psnr": unet["psnr_global_db"], "unet_colour": colour_row("U-Net", unet)["colourfulness_pct"],
    }


def photo_denoising_facts(photo, noisy, denoised) -> dict:
    """Global PSNR of a noisy photograph and of its denoised copy against the clean one (uint8 or [0, 1])."""
    clean = unit_float(photo)
    return {"photo_noisy": metrics.psnr_global(clean[None], np.asarray(noisy)[None]),
            "photo_denoised": metrics.psnr_global(clean[None], np.asarray(denoised)[None])}


#: Chapter 6's aim for a code: a linear probe this many points above raw pixels' ...
#: ... with at most this share of their values.
PROBE_AIM = (5.0, 0.1)


def points_relation(delta: float, tolerance: float = 0.05) -> str:
    """``"3.2 points above"``, ``"1.0 points below"`` or ``"level with"``: how one accuracy (in %) compares.

    Example:
        >>> points_relation(3.21), points_relation(-1.0), points_relation(0.01)
        ('3.2 points above', '1.0 points below', 'level with')
    """
    return _compared(delta, tolerance, "points", 1)


def probe_facts(models: list[dict], baselines: list[dict], aim=PROBE_AIM) -> dict:
    """What chapter 6 concludes from the linear probes: the best code against pixels and PCA, the aim,
    and whether reconstruction quality and probe accuracy go together across models.

    Args:
        models: probe rows of the models' codes (:func:`cae_lib.representation.probe_rows`), each with
            ``psnr_global_db`` added (at least 3 models for the rank relation).
        baselines: probe rows of ``pixels`` and ``PCA-k`` features.
        aim: ``(points above pixels, largest share of their values)``.

    Returns:
        Glue-ready facts: ``best_code_*``, ``pixels_*``, ``pca_same_*``, ``aim_*``, ``rho``, ``p_value``,
        ``relation_verdict`` and more.

    Example:
        >>> rows = [{"features": n, "values": 256, "psnr_global_db": p, "probe_accuracy": a, "ci_low": a - .01,
        ...          "ci_high": a + .01, "knn_accuracy": a / 2} for n, p, a in (("a", 23, .40), ("b", 24, .45),
        ...          ("c", 25, .50))]
        >>> base = [{"features": "pixels", "values": 3072, "probe_accuracy": .40, "knn_accuracy": .30}]
        >>> f = probe_facts(rows, base)
        >>> f["best_code_name"], f["aim_reached"], f["rho"]
        ('c', 'reached', 1.0)
    """
    from cae_lib.representation import rank_relation

    if not models:
        raise ValueError("no model rows")
    by_name = {r["features"]: r for r in baselines}
    if "pixels" not in by_name:
        raise ValueError("the baselines need a 'pixels' row")
    pixels = by_name["pixels"]
    best = max(models, key=lambda r: r["probe_accuracy"])
    facts = {
        "best_code_name": best["features"], "best_code_values": best["values"],
        "best_code_acc": 100 * best["probe_accuracy"], "best_code_low": 100 * best["ci_low"],
        "best_code_high": 100 * best["ci_high"], "best_code_knn": 100 * best["knn_accuracy"],
        "best_code_share": best["values"] / pixels["values"],
        "pixels_acc": 100 * pixels["probe_accuracy"], "pixels_knn": 100 * pixels["knn_accuracy"],
        "pixels_values": pixels["values"],
        "best_code_vs_pixels": points_relation(100 * (best["probe_accuracy"] - pixels["probe_accuracy"])),
        "best_knn_vs_pixels": points_relation(100 * (best["knn_accuracy"] - pixels["knn_accuracy"])),
        "n_probe_train": best.get("n_train"), "n_probe_test": best.get("n_test"),
    }
    same = by_name.get(f"PCA-{best['values']}")
    facts["pca_same_acc"] = None if same is None else 100 * same["probe_accuracy"]
    if same is None:
        facts["best_code_vs_pca"] = f"with no PCA baseline of {best['values']:,} coefficients (the basis holds fewer)"
        facts["pca_same_text"] = f"none of {best['values']:,} coefficients (the basis holds fewer)"
    else:
        gap = points_relation(100 * (best["probe_accuracy"] - same["probe_accuracy"]))
        facts["best_code_vs_pca"] = f"{gap} PCA with as many coefficients"
        facts["pca_same_text"] = f"{facts['pca_same_acc']:.1f} %"
    points, share = aim
    small = [r for r in models if r["values"] <= share * pixels["values"]]
    if small:
        top = max(small, key=lambda r: r["probe_accuracy"])
        margin = 100 * (top["probe_accuracy"] - pixels["probe_accuracy"])
        facts.update(aim_name=top["features"], aim_values=top["values"], aim_margin=margin,
                     aim_reached="reached" if margin >= points else "not reached")
    else:
        facts.update(aim_name="none", aim_values=None, aim_margin=None, aim_reached="not reached")
    facts.update(aim_points=points, aim_share=share)
    if len(models) >= 3:
        rel = rank_relation([r["psnr_global_db"] for r in models], [r["probe_accuracy"] for r in models])
        rho, p = rel["rho"], rel["p_value"]
        if not np.isfinite(p) or p >= 0.05:
            verdict = (f"no significant rank relation across the {rel['n']} models (Spearman's ρ = {rho:.2f}, "
                       f"p = {p:.2f}): a better reconstruction does not reliably make a better representation")
        elif rho > 0:
            verdict = (f"a significant positive rank relation across the {rel['n']} models (ρ = {rho:.2f}, "
                       f"p = {p:.3f}): the better reconstructions come with the better probes")
        else:
            verdict = (f"a significant negative rank relation across the {rel['n']} models (ρ = {rho:.2f}, "
                       f"p = {p:.3f}): the better reconstructions come with the worse probes")
        facts.update(rho=rho, p_value=p, n_models=rel["n"], relation_verdict=verdict)
    return facts


def novelty_facts(rows: list[dict], flagged: float = 0.9) -> dict:
    """Which kinds of novel image each model's reconstruction error flags (ROC AUC at least ``flagged``).

    Args:
        rows: :func:`cae_lib.representation.novelty_rows`'s rows.

    Returns:
        ``novelty_<model>`` sentences, and ``auc_<model>_<kind>`` numbers (spaces as ``_``).

    Example:
        >>> f = novelty_facts([{"model": "m", "kind": "noise", "auc": 1.0}, {"model": "m", "kind": "flat", "auc": 0.1}])
        >>> f["auc_m_flat"], f["novelty_m"][:37]
        (0.1, 'flags noise (AUC 1.00); does not flag')
    """
    facts, models = {}, {}
    for r in rows:
        facts[f"auc_{r['model']}_{r['kind']}".replace(" ", "_")] = r["auc"]
        models.setdefault(r["model"], []).append(r)
    for model, members in models.items():
        yes = [f"{r['kind']} (AUC {r['auc']:.2f})" for r in members if r["auc"] >= flagged]
        no = [r for r in members if r["auc"] < flagged]
        parts = [f"flags {', '.join(yes)}"] if yes else ["flags none of the kinds"]
        if no:
            text = ", ".join(f"{r['kind']} (AUC {r['auc']:.2f})" for r in no)
            below = [r for r in no if r["auc"] < 0.5]
            tail = (", whose errors are mostly smaller than the test images' own" if len(below) == len(no)
                    else "")
            parts.append(f"does not flag {text}{tail}")
        facts[f"novelty_{model}"] = "; ".join(parts)
    return facts


def best_compressor(rows: list[dict], input_values: int) -> str:
    """The model with the best test PSNR among those whose code is smaller than the input.

    A model that keeps more values than the image has (``no_pool``) reconstructs best by not compressing;
    chapter 6 judges novelty with the best model that does compress.

    Args:
        rows: rows with ``features`` (the name), ``values`` and ``psnr_global_db``.
        input_values: the values of one input image.

    Example:
        >>> best_compressor([{"features": "big", "values": 4096, "psnr_global_db": 40.0},
        ...                  {"features": "c", "values": 256, "psnr_global_db": 25.0}], 3072)
        'c'
    """
    smaller = [r for r in rows if r["values"] < input_values]
    if not smaller:
        raise ValueError(f"no model keeps fewer than {input_values} values")
    return max(smaller, key=lambda r: r["psnr_global_db"])["features"]
