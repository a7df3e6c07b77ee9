"""What is shown of a search: the trials table, the search-space table, the best trial per latent size."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

from cae_lib import cache, models
from cae_lib.latent import shape_text
from cae_lib.models import CAESpec

__all__ = [
    "best_per_latent",
    "TRIAL_COLUMNS",
    "TRIAL_HEADERS",
    "TRIAL_FLOATFMT",
    "search_space_rows",
    "trial_rows",
    "describe_spec",
    "trial_model",
    "trial_test_rows",
]


def best_per_latent(trials: Sequence[dict]) -> list[dict]:
    """The best completed trial for each latent size, by increasing latent size.

    For the plot of validation MSE against latent size.

    Args:
        trials: rows of :attr:`cae_lib.tuning.SearchResult.trials`.

    Returns:
        One row per latent size (the one with the lowest ``val_mse``; ties go
        to the smaller model), sorted by ``latent_size``.

    Example:
        >>> rows = [dict(status="COMPLETED", latent_size=512, val_mse=0.02, params=10, trial_id="0"),
        ...         dict(status="COMPLETED", latent_size=512, val_mse=0.01, params=20, trial_id="1"),
        ...         dict(status="FAILED", latent_size=256, val_mse=None, params=5, trial_id="2"),
        ...         dict(status="COMPLETED", latent_size=1024, val_mse=0.005, params=30, trial_id="3")]
        >>> [(r["latent_size"], r["trial_id"]) for r in best_per_latent(rows)]
        [(512, '1'), (1024, '3')]
    """
    best: dict[int, dict] = {}
    for row in trials:
        score = row.get("val_mse")
        if row.get("status") != "COMPLETED" or score is None or not math.isfinite(score):
            continue
        size = row["latent_size"]
        current = best.get(size)
        if current is None or (score, row["params"]) < (current["val_mse"], current["params"]):
            best[size] = row
    return [best[size] for size in sorted(best)]


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
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters(); _ = hp.Choice("k", [3, 5], default=3)
        >>> search_space_rows(hp)
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
                    "latent_shape": shape_text(t["latent_shape"]),
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


def describe_spec(spec: CAESpec, learning_rate: float | None = None) -> str:
    """An architecture in words, for the chapter's prose.

    Example:
        >>> describe_spec(CAESpec(), 1e-3)
        'filters 8, 12, 16, 1 convolution per stage, 3×3 kernels, max pooling, a 8×8×16 latent (1024 values) and learning rate 0.001'
    """
    shrink = {"none": "no pooling", "stride": "stride-2 convolutions"}.get(spec.pooling, f"{spec.pooling} pooling")
    extras = [text for flag, text in ((spec.residual, "residual stages"),
                                      (spec.latent_activation == "linear", "a linear bottleneck")) if flag]
    text = (f"filters {', '.join(str(f) for f in spec.filters)}, {spec.convs_per_stage} convolution"
            f"{'s' if spec.convs_per_stage > 1 else ''} per stage, {spec.kernel_size}×{spec.kernel_size} kernels, "
            f"{shrink}{''.join(', ' + e for e in extras)}, a {shape_text(spec.latent_shape)} latent "
            f"({spec.latent_size} values)")
    return text + (f" and learning rate {learning_rate:.2g}" if learning_rate is not None else "")


def trial_model(result, trial: dict):
    """The model a completed trial trained, with the weights of its best epoch (keras-tuner's checkpoint).

    Args:
        result: the search, a :class:`cae_lib.tuning.SearchResult`.
        trial: one of its :attr:`~cae_lib.tuning.SearchResult.trials`.

    Raises:
        cae_lib.cache.CacheError: the trial's checkpoint is missing or unreadable.
    """
    path = result.path / f"trial_{trial['trial_id']}" / "checkpoint.weights.h5"
    model = models.build_cae(CAESpec.from_dict(trial["spec"]), name="cae")
    try:
        model.load_weights(path)
    except (OSError, ValueError) as exc:
        raise cache.CacheError(f"cannot read the weights of trial {trial['trial_id']} from {path}: {exc}") from None
    return model


def trial_test_rows(result, data) -> list[dict]:
    """The best trial of each latent size scored on the test part, as it ended its trial (no retraining).

    Args:
        result: the search, a :class:`cae_lib.tuning.SearchResult`.
        data: :func:`cae_lib.tasks.task_data` of ``"reconstruct"``.

    Returns:
        One row per latent size: ``model`` ("tuner trial, N values"), ``latent_size``
        and :func:`cae_lib.evaluation.prediction_metrics`.
    """
    from cae_lib import evaluation

    return [
        {"model": f"tuner trial, {t['latent_size']} values", "latent_size": t["latent_size"],
         **evaluation.prediction_metrics(data, evaluation.predict(trial_model(result, t), data.x_test))}
        for t in result.best_per_latent()
    ]
