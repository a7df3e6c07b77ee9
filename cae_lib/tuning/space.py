"""The search space: :class:`CAEHyperModel` over :func:`cae_lib.models.build_cae`, under a latent budget.

The space and the budget are described in :mod:`cae_lib.tuning`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras_tuner as kt
import numpy as np

from cae_lib import models, tasks, training, validate
from cae_lib.models import POOLINGS, CAESpec

__all__ = [
    "OBJECTIVE",
    "GIVEN_LATENT_SIZE",
    "FILTER_MULTIPLIERS",
    "LATENT_CHANNELS",
    "UNPOOLED_LATENT_CHANNELS",
    "CONVS_PER_STAGE",
    "KERNEL_SIZES",
    "LEARNING_RATE_RANGE",
    "LatentBudgetError",
    "skip_message",
    "CAEHyperModel",
    "declared_space",
]

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


class CAEHyperModel(kt.HyperModel):
    """Search space over :class:`~cae_lib.models.CAESpec` and the learning rate.

    The fixed things are arguments here; every tunable choice is declared in
    :meth:`build` with the given network's value as its default (see
    :mod:`cae_lib.tuning` for the space).

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

    def rejects(self, values: dict) -> str | None:
        """Why a trial's hyperparameter ``values`` are not an architecture of this search, or ``None``.

        A distributed search takes trials from the network: the chief checks
        every reported trial (and a stored search every recorded one) against
        the declared space and the latent budget before it can become the best.

        Example:
            >>> CAEHyperModel(latent_budget=1024).rejects({"latent_channels": 64})
            'latent_channels = 64 is outside the search space (one of [4, 8, 12, 16])'
            >>> CAEHyperModel().rejects({}) is None
            True
        """
        import math

        if not isinstance(values, dict):
            return f"hyperparameters must be a mapping, got {type(values).__name__}"
        declared = {p.name: p for p in declared_space(self).space}
        for name, value in values.items():
            if name.startswith("tuner/"):  # Hyperband's bookkeeping (epochs, bracket, round)
                continue
            param = declared.get(name)
            if param is None:
                return f"{name!r} is not a hyperparameter of this search"
            kind = type(param).__name__
            allowed = (list(param.values) if kind == "Choice" else [param.value] if kind == "Fixed"
                       else [False, True] if kind == "Boolean" else None)
            if allowed is not None and value not in allowed:
                return f"{name} = {value!r} is outside the search space (one of {allowed})"
            if kind in ("Int", "Float"):
                low, high = param.min_value, param.max_value
                if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value)
                                                   and low <= value <= high):
                    return f"{name} = {value!r} is outside the search space ({low} to {high})"
        try:
            spec = self.spec_from_values(values)
        except ValueError as exc:
            return f"the values describe no valid architecture ({exc})"
        if self.latent_budget is not None and spec.latent_size > self.latent_budget:
            return f"its latent has {spec.latent_size} values, over the budget of {self.latent_budget}"
        return None

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


def declared_space(hypermodel: CAEHyperModel):
    """A ``keras_tuner.HyperParameters`` in which ``hypermodel``'s space is declared (for :func:`cae_lib.tuning.search_space_rows`).

    Example:
        >>> [p.name for p in declared_space(CAEHyperModel()).space][:3]
        ['filters_1', 'filters_2', 'convs_per_stage']
    """
    hp = kt.HyperParameters()
    hypermodel.spec_for(hp)
    return hp
