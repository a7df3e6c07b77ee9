"""Architecture search with keras-tuner, under a latent-size budget.

:class:`CAEHyperModel` is a ``keras_tuner.HyperModel`` over the parametric
builder :func:`cae_lib.models.build_cae`. Its search space, with the given
network's values as defaults (an empty ``HyperParameters()`` builds exactly
the given autoencoder)::

    filters_1, filters_2   filters of encoder stages 1 and 2: 1x, 2x, 4x the given (8, 12)
    convs_per_stage        1 or 2 Conv2D per stage                      (default 1)
    kernel_size            3 or 5                                       (default 3)
    pooling                "max", "avg", "none" or "stride"             (default "max")
    latent_channels        filters of the last stage = latent channels  (default 16)
                           when the stages shrink: 4 ... 64
    latent_channels_unpooled   the same when pooling is "none": 1, 2, 4
    latent_activation      "relu" or "linear" (a linear bottleneck)     (default "relu")
    residual               with 2 convs per stage: a residual addition  (default False)
    learning_rate          Adam's, log-uniform in [1e-4, 1e-2]          (default 1e-3)

``stride``, ``latent_activation`` and ``residual`` joined the space after
chapter 2 measured that strided, residual stages with a linear bottleneck
compress best (:data:`cae_lib.experiments.COMPRESSOR`).

The number of stages is fixed at three. **Latent budget**: left alone, a search
simply picks the largest latent representation (the more values the encoder
keeps, the better it reconstructs). ``latent_budget=N`` restricts the search to
architectures whose latent size (:attr:`cae_lib.models.CAESpec.latent_size`,
computed by :mod:`cae_lib.latent`) is at most ``N`` values; 1024 is the given
network's. The budget is built into the space: the latent-channel choices are
conditional on the pooling choice (keras-tuner's ``conditional_scope``) and
only list the channel counts that fit, so an over-budget architecture can never
be sampled, let alone built or trained. As a safety net (e.g. a value forced
with ``hp.Fixed``), :meth:`CAEHyperModel.build` raises
:class:`LatentBudgetError`, a ``keras_tuner.errors.FailedTrialError``, before
building anything; keras-tuner then records the trial as ``FAILED`` without
training or retrying it.

:func:`search` runs a Hyperband, random or Bayesian search on the validation
split of :func:`cae_lib.tasks.task_data` and returns a :class:`SearchResult`: a
table of all trials and the best architecture as a
:class:`cae_lib.training.RunConfig`, which :func:`cae_lib.training.run` trains on the
training set and evaluates on the test set like any other model. The
**objective is** ``val_mse``, the validation mean squared error, tracked as a
metric whatever the loss (so searches with different losses compare on the
same scale; with the default ``loss="mse"`` it equals ``val_loss``).

Searches are stored in the run cache, ``cae_lib.cache.cache_root() / "tuner" /
"<name>-<hash>"``, where the hash covers the search's settings, the search
space, the data fingerprint and :data:`cae_lib.training.CACHE_STAMP` (but not
``max_trials``: raising it extends a finished search). With ``overwrite=False``
(the default) an interrupted search resumes: finished trials are kept, the one
that was running is run again, and the search goes on up to ``max_trials``.

Distributed search (keras-tuner's own mode: one chief holds the oracle, every
worker asks it for trials, trains them and reports back over gRPC). Start the
same command on every machine, with the same data (``CAE_DATA``) and the same
cache folder (``CAE_CACHE``, a folder all machines share, e.g. over NFS:
Hyperband continues trials from checkpoints that other workers wrote; random
and Bayesian searches also work with one local folder per machine)::

    # the chief: serves the oracle on port 8000 and trains nothing
    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=0.0.0.0 KERASTUNER_ORACLE_PORT=8000 \\
        python -m cae_lib tune latent_search --kind hyperband --budget 1024

    # each worker (tuner0, tuner1, ...), given the chief's address
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        python -m cae_lib tune latent_search --kind hyperband --budget 1024

    # one machine with two GPUs: the chief and one worker per GPU
    export KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000
    KERASTUNER_TUNER_ID=chief python -m cae_lib tune latent_search &
    CUDA_VISIBLE_DEVICES=0 KERASTUNER_TUNER_ID=tuner0 python -m cae_lib tune latent_search &
    CUDA_VISIBLE_DEVICES=1 KERASTUNER_TUNER_ID=tuner1 python -m cae_lib tune latent_search &
    wait

The chief returns when every trial has ended; its result (and its
``results.json``) holds all trials. Running the same command afterwards
without the ``KERASTUNER_*`` variables reloads the finished search and prints
it without training. Workers never delete a search (``overwrite`` is ignored
there); to start over, run the chief with ``--overwrite`` before the workers.
To train one trial on several GPUs instead, pass a ``tf.distribute`` strategy
(``search(..., strategy=tf.distribute.MirroredStrategy())``).

Importing this module imports keras-tuner (and with it TensorFlow).

Example:
    >>> import keras_tuner as kt
    >>> hypermodel = CAEHyperModel(latent_budget=1024)
    >>> hypermodel.spec_for(kt.HyperParameters()) == CAESpec()
    True
    >>> hypermodel.latent_channel_choices
    {'max': (4, 8, 12, 16), 'avg': (4, 8, 12, 16), 'none': (1,), 'stride': (4, 8, 12, 16)}

Usage (trains)::

    result = search("latent", kind="random", profile="smoke")
    training.run(result.best)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import numbers
import os
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np

from cae_lib import cache, models, tasks, training, validate
from cae_lib.data import load_data, stratified_subset
from cae_lib.latent import shape_text
from cae_lib.models import POOLINGS, CAESpec
from cae_lib.profiles import Profile, get_profile

__all__ = [
    "KINDS",
    "OBJECTIVE",
    "GIVEN_LATENT_SIZE",
    "FILTER_MULTIPLIERS",
    "LATENT_CHANNELS",
    "UNPOOLED_LATENT_CHANNELS",
    "CONVS_PER_STAGE",
    "KERNEL_SIZES",
    "LEARNING_RATE_RANGE",
    "LatentBudgetError",
    "CAEHyperModel",
    "SearchResult",
    "search",
    "search_dir",
    "trial_images",
    "best_per_latent",
    "distributed_role",
]

KINDS = ("hyperband", "random", "bayesian")
"""Search algorithms: keras-tuner's Hyperband, RandomSearch, BayesianOptimization."""

OBJECTIVE = "val_mse"
"""The objective every search minimises: validation mean squared error."""

GIVEN_LATENT_SIZE = CAESpec().latent_size
"""Latent size of the given network (8x8x16), the default budget."""

FILTER_MULTIPLIERS = (1, 2, 4)
"""Filters of each non-latent stage are these multiples of the given network's."""

LATENT_CHANNELS = (4, 8, 12, 16, 24, 32, 48, 64)
"""Candidate latent channels with pooling (latent 8x8xC); over-budget ones are dropped."""

UNPOOLED_LATENT_CHANNELS = (1, 2, 4)
"""Candidate latent channels without pooling (latent 32x32xC); over-budget ones are dropped."""

CONVS_PER_STAGE = (1, 2)
KERNEL_SIZES = (3, 5)
LEARNING_RATE_RANGE = (1e-4, 1e-2)
"""Bounds of the log-uniform learning-rate choice."""

_ENV_ID, _ENV_IP, _ENV_PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
#: Part of every search's key; bump it when the stored format or the trial procedure changes.
SEARCH_STAMP = "tuning-1"


class LatentBudgetError(kt.errors.FailedTrialError, ValueError):
    """An architecture's latent representation is larger than the search's budget.

    Being a ``keras_tuner.errors.FailedTrialError``, it makes keras-tuner mark
    the trial ``FAILED`` without training or retrying it.
    """


def skip_message(spec: CAESpec, budget: int) -> str:
    """Why an architecture with skip connections cannot be held to a latent budget."""
    return (
        f"skip connections pass {spec.skip_values} values from the encoder to the decoder besides the "
        f"{spec.latent_size}-value latent, so a latent budget of {budget} would not bound what the decoder sees; "
        "search skip architectures without a budget (latent_budget=None), or drop the skips"
    )


# --------------------------------------------------------------------------- the search space


class CAEHyperModel(kt.HyperModel):
    """Search space over :class:`~cae_lib.models.CAESpec` and the learning rate.

    The fixed things are arguments here; every tunable choice is declared in
    :meth:`build` with the given network's value as its default (see the module
    docstring for the space).

    Args:
        spec: the fixed parts of the architecture (input size and channels,
            activations, number of stages) and the defaults of the tuned ones;
            default ``CAESpec()``, the given network.
        loss: Keras loss, ``"mse"`` (default), ``"binary_crossentropy"`` or ``"mae"``.
            Models are compiled with ``metrics=["mse"]`` so that ``val_mse``
            (the objective) is always there.
        latent_budget: largest latent size allowed (default 1024, the given
            network's); ``None`` for no limit.
        optimizer: ``"adam"`` (default), ``"rmsprop"`` or ``"sgd"``.
        batch_size: images per training step in :meth:`fit`.
        seed: Keras' global seed is set to it before each model is built, so a
            trial's initial weights depend only on its architecture.

    Raises:
        ValueError: an unknown loss or optimizer, a non-positive budget or
            batch size, or a budget no architecture in the space fits.

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> hp.Fixed("pooling", "avg")
        'avg'
        >>> CAEHyperModel().spec_for(hp).pooling
        'avg'
        >>> CAEHyperModel(latent_budget=512).latent_channel_choices["max"]
        (4, 8)
    """

    def __init__(
        self,
        spec: CAESpec | None = None,
        *,
        loss: str = "mse",
        latent_budget: int | None = GIVEN_LATENT_SIZE,
        optimizer: str = "adam",
        batch_size: int = 64,
        seed: int = 0,
    ):
        super().__init__(name="cae_hypermodel", tunable=True)
        spec = CAESpec() if spec is None else spec
        if not isinstance(spec, CAESpec):
            raise ValueError(f"spec must be a cae_lib.models.CAESpec, got {type(spec).__name__}")
        if loss not in training.LOSSES:
            raise ValueError(f"loss must be one of {training.LOSSES}, got {loss!r}")
        if optimizer not in training.OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {training.OPTIMIZERS}, got {optimizer!r}")
        if latent_budget is not None:
            latent_budget = validate.positive_int(latent_budget, "latent_budget")
            if spec.skips != "none":
                raise ValueError(skip_message(spec, latent_budget))
        self.spec = spec
        self.loss = loss
        self.latent_budget = latent_budget
        self.optimizer = optimizer
        self.batch_size = validate.positive_int(batch_size, "batch_size")
        self.seed = int(seed)

        self.filter_choices = tuple(
            tuple(sorted({f * m for m in FILTER_MULTIPLIERS})) for f in spec.filters[:-1]
        )
        self.latent_channel_choices = {p: self._fitting_channels(p) for p in POOLINGS}
        self.poolings = tuple(p for p in POOLINGS if self.latent_channel_choices[p])
        if not self.poolings:
            smallest = min(self._with(p, min(self._candidates(p))).latent_size for p in POOLINGS)
            raise ValueError(
                f"latent_budget={latent_budget} is smaller than every architecture in the search space "
                f"(the smallest latent has {smallest} values); raise the budget or pass None"
            )

    # ---- the space
    def _with(self, pooling: str, channels: int) -> CAESpec:
        return CAESpec(**{**self.spec.to_dict(), "pooling": pooling, "filters": (*self.spec.filters[:-1], channels)})

    def _candidates(self, pooling: str) -> tuple[int, ...]:
        candidates = UNPOOLED_LATENT_CHANNELS if pooling == "none" else LATENT_CHANNELS
        if pooling == self.spec.pooling:
            candidates = (*candidates, self.spec.filters[-1])
        return tuple(sorted(set(candidates)))

    def _fitting_channels(self, pooling: str) -> tuple[int, ...]:
        """Latent channel counts that keep the latent within budget, for this pooling."""
        return tuple(
            c
            for c in self._candidates(pooling)
            if self.latent_budget is None or self._with(pooling, c).latent_size <= self.latent_budget
        )

    @staticmethod
    def _default(choices: Sequence, preferred):
        """``preferred`` if it is a choice, else the largest choice below it, else the smallest."""
        if preferred in choices:
            return preferred
        below = [c for c in choices if c < preferred]
        return max(below) if below else min(choices)

    def _declare(self, hp) -> None:
        """Declare every hyperparameter in ``hp`` (idempotent: existing ones keep their values)."""
        spec = self.spec
        for i, choices in enumerate(self.filter_choices, start=1):
            hp.Choice(f"filters_{i}", list(choices), default=spec.filters[i - 1])
        convs = tuple(sorted({*CONVS_PER_STAGE, spec.convs_per_stage}))
        hp.Choice("convs_per_stage", list(convs), default=spec.convs_per_stage)
        kernels = tuple(sorted({*KERNEL_SIZES, spec.kernel_size}))
        hp.Choice("kernel_size", list(kernels), default=spec.kernel_size)
        default_pooling = spec.pooling if spec.pooling in self.poolings else self.poolings[0]
        hp.Choice("pooling", list(self.poolings), default=default_pooling)
        pooled = [p for p in self.poolings if p != "none"]
        if pooled:
            choices = self.latent_channel_choices[pooled[0]]  # max and avg shrink alike
            with hp.conditional_scope("pooling", pooled):
                hp.Choice("latent_channels", list(choices), default=self._default(choices, spec.filters[-1]))
        if "none" in self.poolings:
            choices = self.latent_channel_choices["none"]
            with hp.conditional_scope("pooling", ["none"]):
                hp.Choice(
                    "latent_channels_unpooled", list(choices), default=self._default(choices, spec.filters[-1])
                )
        latent_activation = spec.latent_activation or spec.activation
        hp.Choice("latent_activation", sorted({spec.activation, "linear", latent_activation}),
                  default=latent_activation)
        if max(convs) >= 2:
            with hp.conditional_scope("convs_per_stage", [c for c in convs if c >= 2]):
                hp.Boolean("residual", default=spec.residual)
        low, high = LEARNING_RATE_RANGE
        hp.Float("learning_rate", low, high, sampling="log", default=1e-3)

    def spec_from_values(self, values: dict) -> CAESpec:
        """The architecture that hyperparameter ``values`` describe (missing ones: defaults).

        Example:
            >>> CAEHyperModel().spec_from_values({"pooling": "none", "latent_channels_unpooled": 1}).latent_shape
            (32, 32, 1)
        """
        spec = self.spec
        filters = [values.get(f"filters_{i}", f) for i, f in enumerate(spec.filters[:-1], start=1)]
        pooling = values.get("pooling", spec.pooling)
        key = "latent_channels_unpooled" if pooling == "none" else "latent_channels"
        latent = values.get(key)
        if latent is None:
            latent = spec.filters[-1]
        convs = values.get("convs_per_stage", spec.convs_per_stage)
        latent_activation = values.get("latent_activation", spec.latent_activation or spec.activation)
        return CAESpec(
            **{
                **spec.to_dict(),
                "filters": (*filters, latent),
                "convs_per_stage": convs,
                "kernel_size": values.get("kernel_size", spec.kernel_size),
                "pooling": pooling,
                "latent_activation": None if latent_activation == spec.activation else latent_activation,
                "residual": bool(values.get("residual", spec.residual)) and convs >= 2,
            }
        )

    def spec_for(self, hp) -> CAESpec:
        """Declare the space in ``hp`` and return the architecture its values describe.

        Needs no Keras: use it to look at a trial's architecture.
        """
        self._declare(hp)
        return self.spec_from_values(hp.values)

    def learning_rate_for(self, hp) -> float:
        """Declare the space in ``hp`` and return its learning rate."""
        self._declare(hp)
        return float(hp.values["learning_rate"])

    def check_budget(self, spec: CAESpec) -> None:
        """Raise :class:`LatentBudgetError` if ``spec``'s latent exceeds the budget, or skips bypass it."""
        if self.latent_budget is not None and spec.skips != "none":
            raise LatentBudgetError(skip_message(spec, self.latent_budget))
        if self.latent_budget is not None and spec.latent_size > self.latent_budget:
            raise LatentBudgetError(
                f"latent {spec.latent_shape} has {spec.latent_size} values, over the budget of "
                f"{self.latent_budget}; the trial is skipped without building the model"
            )

    # ---- keras-tuner interface
    def build(self, hp):
        """Build and compile the model ``hp`` describes.

        Raises:
            LatentBudgetError: the latent is over budget (raised before anything is built).
        """
        import keras

        spec = self.spec_for(hp)
        self.check_budget(spec)
        learning_rate = float(hp.values["learning_rate"])
        keras.utils.set_random_seed(self.seed)
        model = models.build_cae(spec, name="cae")
        optimizer = keras.optimizers.get({"class_name": self.optimizer, "config": {"learning_rate": learning_rate}})
        model.compile(optimizer=optimizer, loss=self.loss, metrics=["mse"])
        return model

    def fit(self, hp, model, x, y=None, *, validation_data=None, epochs=1, verbose=0, **kwargs):
        """Train ``model`` on ``(x, y)`` and report the trial's metrics.

        The arrays go through the same input pipeline as
        :func:`cae_lib.training.run` (:func:`cae_lib.tasks.training_batches`,
        each epoch's order seeded by the hypermodel's seed and the epoch).

        Args:
            hp: the trial's hyperparameters (unused: the model is already built).
            model: the model from :meth:`build`.
            x, y: training inputs and targets (``y=None``: ``y = x``).
            validation_data: ``(x_val, y_val)``; required, it gives the objective.
            epochs, verbose, **kwargs: passed to ``model.fit`` (``initial_epoch``
                and ``callbacks`` come from keras-tuner).

        Returns:
            ``{"val_mse", "val_loss"}`` at the epoch with the lowest ``val_mse``,
            ``"epochs_run"`` (epochs trained in this call) and ``"seconds"``.

        Raises:
            ValueError: no validation data.
        """
        if validation_data is None:
            raise ValueError("CAEHyperModel.fit needs validation_data=(x_val, y_val): it gives the objective val_mse")
        y = x if y is None else y
        x_val, y_val = validation_data
        first = int(kwargs.pop("initial_epoch", 0) or 0)
        kwargs.pop("shuffle", None)
        batches = tasks.training_batches(x, y, batch_size=self.batch_size, seed=self.seed, first_epoch=first)
        start = time.perf_counter()
        history = model.fit(
            batches, steps_per_epoch=tasks.steps_per_epoch(len(x), self.batch_size), initial_epoch=first,
            validation_data=(x_val, y_val), validation_batch_size=max(self.batch_size, 256),
            epochs=epochs, verbose=verbose, shuffle=False, **kwargs,
        )
        seconds = time.perf_counter() - start
        h = history.history
        val_mse = np.asarray(h.get(OBJECTIVE, []), dtype=float)
        if val_mse.size == 0 or np.all(np.isnan(val_mse)):
            best_mse = best_loss = float("nan")  # keras-tuner marks the trial invalid
        else:
            best = int(np.nanargmin(val_mse))
            best_mse, best_loss = float(val_mse[best]), float(h["val_loss"][best])
        return {OBJECTIVE: best_mse, "val_loss": best_loss, "epochs_run": float(len(h.get("loss", []))), "seconds": seconds}


# --------------------------------------------------------------------------- tuners


class _RecordTrials:
    """Keeps the ids of the trials this process trained (in ``trials_run_here``)."""

    def __init__(self, *args, **kwargs):
        self.trials_run_here: list[str] = []
        super().__init__(*args, **kwargs)

    def on_trial_end(self, trial):
        self.trials_run_here.append(trial.trial_id)
        super().on_trial_end(trial)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # keras-tuner (1.4) imports TensorBoard's hparams plugin for every trial
        # under the TensorFlow backend, even without a TensorBoard callback, and
        # offers no public switch; TensorFlow no longer installs TensorBoard.
        # Only go there when a TensorBoard callback is used.
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)


class _RandomSearch(_RecordTrials, kt.RandomSearch):
    pass


class _BayesianOptimization(_RecordTrials, kt.BayesianOptimization):
    pass


class _Hyperband(_RecordTrials, kt.Hyperband):
    pass


def distributed_role() -> str:
    """``"local"``, ``"chief"`` or ``"worker"``, from keras-tuner's environment variables.

    ``KERASTUNER_ORACLE_IP`` set means a distributed search; the process whose
    ``KERASTUNER_TUNER_ID`` contains ``"chief"`` runs the oracle.

    Raises:
        ValueError: ``KERASTUNER_ORACLE_IP`` is set without ``KERASTUNER_ORACLE_PORT``
            or ``KERASTUNER_TUNER_ID``.

    Example:
        >>> distributed_role()  # no KERASTUNER_* variables set
        'local'
    """
    if _ENV_IP not in os.environ:
        return "local"
    missing = [v for v in (_ENV_PORT, _ENV_ID) if not os.environ.get(v)]
    if missing:
        raise ValueError(
            f"{_ENV_IP} is set (a distributed search) but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not; set {_ENV_ID}=chief on the chief and "
            f"{_ENV_ID}=tuner0, tuner1, ... on the workers, and {_ENV_PORT} everywhere"
        )
    return "chief" if "chief" in os.environ[_ENV_ID] else "worker"


def search_dir(name: str, key: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder of a search: ``cache_root(cache_dir) / "tuner" / f"{name}-{key[:16]}"``."""
    return cache.entry_dir(cache.cache_root(cache_dir) / "tuner", name, key)


def _trial_row(trial, hypermodel: CAEHyperModel) -> dict:
    values = dict(trial.hyperparameters.values)
    spec = hypermodel.spec_from_values(values)
    metrics = trial.metrics

    def best(name):
        return float(metrics.get_best_value(name)) if metrics.exists(name) else None

    def last(name):
        return metrics.get_last_value(name) if metrics.exists(name) else None

    epochs = last("epochs_run")
    seconds = last("seconds")
    return {
        "trial_id": trial.trial_id,
        "status": str(trial.status),
        "hyperparameters": values,
        "spec": spec.to_dict(),
        "latent_shape": list(spec.latent_shape),
        "latent_size": spec.latent_size,
        "params": models.param_count(spec),
        "learning_rate": float(values.get("learning_rate", float("nan"))),
        "val_mse": best(OBJECTIVE),
        "val_loss": best("val_loss"),
        "epochs_run": None if epochs is None else int(epochs),
        "seconds": None if seconds is None else float(seconds),
    }


def _recorded_trials(tuner, path: Path, role: str) -> list:
    """The trials the oracle knows (chief, local), or those on disk (a worker)."""
    if role != "worker":
        return list(tuner.oracle.trials.values())
    from keras_tuner.engine.trial import Trial

    trials = []
    for fname in sorted(path.glob("trial_*/trial.json")):
        try:
            trials.append(Trial.load(str(fname)))
        except (OSError, ValueError, KeyError):
            continue  # being written by the chief right now
    return trials


def _sort_key(row: dict):
    tid = row["trial_id"]
    return (0, int(tid), "") if str(tid).isdigit() else (1, 0, str(tid))


def best_per_latent(trials: Sequence[dict]) -> list[dict]:
    """The best completed trial for each latent size, by increasing latent size.

    For the plot of validation MSE against latent size.

    Args:
        trials: rows of :attr:`SearchResult.trials`.

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


@dataclass
class SearchResult:
    """What :func:`search` returns.

    Attributes:
        name: the search's name.
        kind: ``"hyperband"``, ``"random"`` or ``"bayesian"``.
        role: ``"local"``, ``"chief"`` or ``"worker"`` (see :func:`distributed_role`).
        path: the search's folder (keras-tuner's project directory).
        key: SHA-256 of the search's settings and data (names the folder).
        latent_budget: the budget (``None``: none).
        objective: ``"val_mse"``.
        trials: one dict per trial, by trial id: ``trial_id``, ``status``
            (``COMPLETED``, ``FAILED``, ``INVALID``, ``RUNNING``),
            ``hyperparameters`` (keras-tuner's values; Hyperband adds
            ``tuner/*`` entries), ``spec`` (a :class:`CAESpec` dict),
            ``latent_shape``, ``latent_size``, ``params``, ``learning_rate``,
            ``val_mse`` (the objective, best epoch), ``val_loss``,
            ``epochs_run`` (epochs this trial trained) and ``seconds``.
            On a worker it holds what the shared folder showed when the worker
            stopped; the chief's is complete.
        best_trial: the completed trial with the lowest ``val_mse`` (or ``None``).
        best: ``best_trial`` as a :class:`~cae_lib.training.RunConfig` named
            ``f"{name}_best"``, for :func:`cae_lib.training.run`.
        space: ``[{"hyperparameter", "choices", "default", "condition"}]``,
            the search space (:func:`search_space_rows`).
        trials_run_here: ids of the trials this process trained in this call.
        tuner: the keras-tuner tuner, or ``None`` when a finished search was
            reloaded from its stored result without keras-tuner.
    """

    name: str
    kind: str
    role: str
    path: Path
    key: str
    latent_budget: int | None
    objective: str
    trials: list[dict]
    best_trial: dict | None
    best: training.RunConfig | None
    space: list[dict] = field(default_factory=list)
    trials_run_here: list[str] = field(default_factory=list)
    tuner: Any = field(default=None, repr=False, compare=False)

    @property
    def completed(self) -> list[dict]:
        """The rows whose status is ``COMPLETED``."""
        return [t for t in self.trials if t["status"] == "COMPLETED"]

    def best_per_latent(self) -> list[dict]:
        """:func:`best_per_latent` of :attr:`trials`."""
        return best_per_latent(self.trials)

    def table_rows(self) -> list[dict]:
        """:func:`trial_rows` of :attr:`trials`: the trials table, best first."""
        return trial_rows(self.trials)

    def budget_sizes(self) -> list[int]:
        """The latent sizes the search could sample under its budget, smallest first."""
        return sorted({t["latent_size"] for t in self.trials})


def _make_tuner(kind, hypermodel, *, path, overwrite, seed, max_trials, max_epochs, strategy, role):
    common = dict(
        hypermodel=hypermodel,
        objective=kt.Objective(OBJECTIVE, direction="min"),
        # keras-tuner reads seed=0 as "no seed" and draws a random one
        seed=seed + 1,
        directory=str(path.parent),
        project_name=path.name,
        overwrite=overwrite,
        distribution_strategy=strategy,
    )
    if kind == "random":
        return _RandomSearch(max_trials=max_trials, **common)
    if kind == "bayesian":
        return _BayesianOptimization(max_trials=max_trials, num_initial_points=max(3, max_trials // 3), **common)
    # Hyperband brackets are set by max_epochs (factor 3); it repeats them (no
    # iteration limit) until max_trials trials, the budget of every kind.
    tuner = _Hyperband(max_epochs=max_epochs, factor=3, hyperband_iterations=None, **common)
    if role != "worker":  # a worker's oracle is a client of the chief's, which holds the budget
        tuner.oracle.max_trials = max_trials
    return tuner


def _damaged_state(path: Path) -> list[Path]:
    """keras-tuner state files in ``path`` that are not valid JSON."""
    damaged = []
    for fname in [path / "oracle.json", *sorted(path.glob("trial_*/trial.json")), *sorted(path.glob("*.json"))]:
        if fname.name in ("search.json", "results.json") or not fname.is_file():
            continue
        try:
            json.loads(fname.read_text())
        except (OSError, ValueError):
            damaged.append(fname)
    return sorted(set(damaged))


def _open_tuner(kind, hypermodel, *, path, overwrite, seed, max_trials, max_epochs, strategy, role, verbose):
    """Build the tuner and reload its stored state; a damaged state file is named, with the way out."""
    reload_oracle = not overwrite and role != "worker" and (path / "oracle.json").is_file()
    damaged = [] if overwrite else _damaged_state(path)
    if damaged:
        names = ", ".join(str(d) for d in damaged)
        trials = [d for d in damaged if d.name == "trial.json"]
        advice = (
            f"move the damaged trial folder{'s' if len(trials) > 1 else ''} "
            f"{', '.join(str(t.parent) for t in trials)} aside (those trials are run again, the others are kept)"
            if trials and len(trials) == len(damaged)
            else "rerun with --overwrite (overwrite=True) to start the search again"
        )
        raise cache.CacheError(f"keras-tuner state file {names} is damaged (not valid JSON): {advice}")
    try:
        with contextlib.redirect_stdout(sys.stdout if verbose else io.StringIO()):
            # keras-tuner prints "Reloading Tuner from ..." when it resumes a search
            tuner = _make_tuner(
                kind, hypermodel, path=path, overwrite=overwrite, seed=seed,
                max_trials=max_trials, max_epochs=max_epochs, strategy=strategy, role=role,
            )
            if reload_oracle and not (path / f"{tuner.tuner_id}.json").is_file():
                # a search run under other tuner ids (a distributed search): keras-tuner
                # only reloads when it finds this id's own file; reload the oracle itself.
                tuner.oracle.reload()
    except OSError as exc:
        raise cache.CacheError(f"cannot open the search in {path}: {exc.strerror or exc}") from None
    return tuner


def _finished_result(path: Path, key: str, max_trials: int) -> dict | None:
    """The stored ``results.json`` of a finished search with this key and at least ``max_trials`` trials."""
    try:
        stored = json.loads((path / "results.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    trials = stored.get("trials") or []
    ended = [t for t in trials if t.get("status") in ("COMPLETED", "FAILED", "INVALID")]
    return stored if len(ended) >= max_trials and len(ended) == len(trials) else None


def _write_if_changed(path: Path, obj: Any) -> None:
    try:
        if json.loads(path.read_text()) == json.loads(json.dumps(obj, default=str)):
            return  # nothing new: a finished search also reloads from a read-only cache
    except (OSError, ValueError):
        pass
    cache.ensure_dir(path.parent)
    cache.write_json(path, obj)


def trial_images(arrays, labels, per_class: int | None) -> np.ndarray:
    """The training images a search's trials train on: ``per_class`` of each class, or all.

    Args:
        arrays: the ``reconstruct`` task's :class:`cae_lib.tasks.TaskData`.
        labels: the data set's labels (:attr:`cae_lib.data.CifarData.labels`).
        per_class: training images per class (``None``: the whole training part).

    Example:
        >>> from types import SimpleNamespace
        >>> labels = np.array([0, 1] * 5)
        >>> arrays = SimpleNamespace(train_index=np.arange(8), x_train=np.arange(8) * 10)
        >>> picked = trial_images(arrays, labels, 2)
        >>> np.bincount(labels[picked // 10]).tolist()  # two images of each class
        [2, 2]
        >>> len(trial_images(arrays, labels, None))
        8
    """
    if per_class is None:
        return arrays.x_train
    keep = stratified_subset(arrays.train_index, labels, per_class)
    return arrays.x_train[np.isin(arrays.train_index, keep)]


def search(
    name: str,
    *,
    kind: str = "hyperband",
    latent_budget: int | None = GIVEN_LATENT_SIZE,
    profile: str | Profile | None = None,
    data=None,
    cache_dir: str | os.PathLike | None = None,
    max_trials: int | None = None,
    max_epochs: int | None = None,
    overwrite: bool = False,
    seed: int = 0,
    loss: str = "mse",
    batch_size: int = 64,
    patience: int | None = training.DEFAULT_PATIENCE,
    best_epochs: int = training.DEFAULT_EPOCHS,
    strategy=None,
    verbose: int = 0,
) -> SearchResult:
    """Search architectures within a latent budget; resume or reload a stored search.

    Trials train on the profile's training split and are scored on its
    validation split (``val_mse``); the test split is left for
    :func:`cae_lib.training.run` on :attr:`SearchResult.best`. Under
    ``KERASTUNER_*`` variables this process takes its part in a distributed
    search (module docstring). A finished search is reloaded from its stored
    result without keras-tuner, so it also loads from a read-only cache.

    Args:
        name: names the search folder and the best run (``f"{name}_best"``);
            letters, digits, ``-``, ``_`` and ``.``.
        kind: ``"hyperband"`` (default), ``"random"`` or ``"bayesian"``.
        latent_budget: largest latent size allowed (default 1024, the given
            network's); ``None`` for no limit.
        profile: a profile or its name (default ``CAE_PROFILE``): the data
            subset and the budget, ``tuner_max_trials`` trials of at most
            ``tuner_max_epochs`` epochs, trained on ``tuner_train_per_class``
            images per class and validated on the whole validation part.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`cae_lib.data.load_data`).
        cache_dir: cache folder (default :func:`cae_lib.cache.cache_root`).
        max_trials: trial budget (default: the profile's). Not part of the
            key: a larger value on a stored search adds trials.
        max_epochs: most epochs per trial (default: the profile's).
        overwrite: delete the stored search and start again (ignored, with a
            warning, on a distributed worker). ``False``: resume.
        seed: seeds the sampler, weight initialisation and batch order.
        loss: training loss (the objective stays ``val_mse``).
        batch_size: images per step, in trials and in the best run.
        patience: early stopping inside a trial and in the best run (``None``: off).
        best_epochs: the epochs the best run asks for.
        strategy: a ``tf.distribute`` strategy each trial builds and trains under.
        verbose: Keras/keras-tuner verbosity (0: quiet).

    Returns:
        A :class:`SearchResult`.

    Raises:
        ValueError: an unknown kind or loss, a bad name or budget, a profile
            that leaves no training or validation images, or incomplete
            ``KERASTUNER_*`` variables.
        ImportError: ``kind="bayesian"`` without scikit-learn installed.
        cae_lib.cache.CacheError: a damaged keras-tuner state file (named), or
            a cache that cannot be written where the search must write.

    Usage (trains, or needs a CIFAR-10 copy)::

        result = search("latent", kind="random", profile="smoke", cache_dir="/tmp/c")
        [(t["latent_size"], t["val_mse"]) for t in result.best_per_latent()]
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "bayesian":
        try:
            import sklearn  # noqa: F401  (keras-tuner's Gaussian process needs it)
        except ImportError:
            raise ImportError(
                "kind='bayesian' needs scikit-learn (pip install scikit-learn, or keras-tuner[bayesian]); "
                "kind='hyperband' and kind='random' do not"
            ) from None
    validate.name(name, "search name")
    seed = validate.non_negative_int(seed, "seed")
    if patience is not None:
        patience = validate.positive_int(patience, "patience")
    best_epochs = validate.positive_int(best_epochs, "best_epochs")
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    max_trials = validate.positive_int(prof.tuner_max_trials if max_trials is None else max_trials, "max_trials")
    max_epochs = validate.positive_int(prof.tuner_max_epochs if max_epochs is None else max_epochs, "max_epochs")
    role = distributed_role()
    hypermodel = CAEHyperModel(loss=loss, latent_budget=latent_budget, batch_size=batch_size, seed=seed)

    data = load_data() if data is None else data
    arrays = tasks.task_data("reconstruct", prof, data=data)
    x_train = trial_images(arrays, data.labels, prof.tuner_train_per_class)

    settings = {
        "name": name,
        "kind": kind,
        "latent_budget": latent_budget,
        "loss": loss,
        "optimizer": hypermodel.optimizer,
        "batch_size": hypermodel.batch_size,
        "seed": seed,
        "max_epochs": max_epochs,
        "patience": patience,
        "profile": {
            "name": prof.name,
            "train_per_class": prof.train_per_class,
            "val_per_class": prof.val_per_class,
            "tuner_train_per_class": prof.tuner_train_per_class,
        },
        "space": {
            "spec": hypermodel.spec.to_dict(),
            "filters": [list(c) for c in hypermodel.filter_choices],
            "latent_channels": {p: list(c) for p, c in hypermodel.latent_channel_choices.items()},
            "convs_per_stage": list(CONVS_PER_STAGE),
            "kernel_size": list(KERNEL_SIZES),
            "learning_rate": list(LEARNING_RATE_RANGE),
        },
        "objective": OBJECTIVE,
    }
    stamp = [training.CACHE_STAMP, SEARCH_STAMP]
    key = hashlib.sha256(
        json.dumps({"settings": settings, "data": arrays.fingerprint, "split": arrays.split, "stamp": stamp},
                   sort_keys=True).encode()
    ).hexdigest()
    path = search_dir(name, key, cache_dir)
    space = search_space_rows(_declared_space(hypermodel))

    def best_config(trial):
        if trial is None:
            return None
        return training.RunConfig(
            name=f"{name}_best", model=CAESpec.from_dict(trial["spec"]), task="reconstruct", loss=loss,
            optimizer=hypermodel.optimizer, learning_rate=trial["learning_rate"], batch_size=hypermodel.batch_size,
            epochs=best_epochs, early_stopping_patience=patience, seed=seed, profile=prof.name,
        )

    stored = None if overwrite or role != "local" else _finished_result(path, key, max_trials)
    if stored is not None:
        return SearchResult(
            name=name, kind=kind, role=role, path=path, key=key, latent_budget=latent_budget, objective=OBJECTIVE,
            trials=stored["trials"], best_trial=stored["best_trial"], best=best_config(stored["best_trial"]),
            space=space,
        )

    if role == "worker" and overwrite:
        warnings.warn(
            "overwrite=True is ignored on a distributed worker (it would delete the chief's search); "
            "start the chief with overwrite instead",
            RuntimeWarning,
            stacklevel=2,
        )
        overwrite = False
    cache.ensure_dir(path.parent)
    with cache.locked(path) if role == "local" else contextlib.nullcontext():
        tuner = _open_tuner(
            kind, hypermodel, path=path, overwrite=overwrite, seed=seed, max_trials=max_trials,
            max_epochs=max_epochs, strategy=strategy, role=role, verbose=verbose,
        )
        if role != "worker":
            _write_if_changed(
                path / "search.json",
                {"settings": settings, "key": key, "data_fingerprint": arrays.fingerprint, "split": arrays.split,
                 "data_source": arrays.source, "stamp": stamp, "keras_tuner_version": kt.__version__},
            )
        callbacks = []
        if patience is not None:
            import keras

            callbacks.append(keras.callbacks.EarlyStopping(monitor=OBJECTIVE, mode="min", patience=patience))
        tuner.search(
            x_train, x_train, validation_data=(arrays.x_val, arrays.y_val), epochs=max_epochs,
            callbacks=callbacks, verbose=verbose,
        )
        if role != "worker":
            # The oracle saves its state before it lets go of the trial that just
            # ended; on a chief nothing saves it afterwards, and a later reload
            # would run that finished trial again. Save the final state.
            tuner.save()

        rows = sorted((_trial_row(t, hypermodel) for t in _recorded_trials(tuner, path, role)), key=_sort_key)
        completed = [
            r for r in rows if r["status"] == "COMPLETED" and r["val_mse"] is not None and math.isfinite(r["val_mse"])
        ]
        best_trial = min(completed, key=lambda r: (r["val_mse"], _sort_key(r))) if completed else None
        best = best_config(best_trial)
        if role != "worker":
            _write_if_changed(
                path / "results.json",
                {"key": key, "trials": rows, "best_trial": best_trial,
                 "best_config": None if best is None else best.to_dict()},
            )
    return SearchResult(
        name=name, kind=kind, role=role, path=path, key=key, latent_budget=latent_budget, objective=OBJECTIVE,
        trials=rows, best_trial=best_trial, best=best, space=space,
        trials_run_here=list(tuner.trials_run_here), tuner=tuner,
    )


def _declared_space(hypermodel: CAEHyperModel):
    hp = kt.HyperParameters()
    hypermodel.spec_for(hp)
    return hp


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


def trial_model(result: SearchResult, trial: dict):
    """The model a completed trial trained, with the weights of its best epoch (keras-tuner's checkpoint).

    Args:
        result: the search.
        trial: one of its :attr:`SearchResult.trials`.

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


def trial_test_rows(result: SearchResult, data) -> list[dict]:
    """The best trial of each latent size scored on the test part, as it ended its trial (no retraining).

    Args:
        result: the search.
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
