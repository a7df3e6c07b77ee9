"""Training runs: described by one frozen config, trained once, loaded afterwards.

A :class:`RunConfig` is the whole description of a run: the model
(:class:`~cae_lib.models.CAESpec`), the task, loss, optimizer, learning rate
and its schedule, batch size, epochs, early stopping, seeds and data profile.
:func:`run` trains it, or loads it when the identical run is cached. Its key
is the SHA-256 of the config, the profile's settings, the data's fingerprint,
the split's digest and :data:`CACHE_STAMP`, so a changed configuration, other
data, another split or a new ``cae_lib`` version never loads a stale model.

A finished run folder (see :mod:`cae_lib.cache`) holds files a person can open::

    config.json     the run description, data source, fingerprint and split digest
    history.json    per-epoch train/validation loss and metrics, epoch times
    metrics.json    test-set metrics and training wall time
    model.keras     the trained Keras model
    manifest.json   the key, and size and SHA-256 of the files above; written last

While it trains, ``progress/`` holds the latest checkpoint and state
(:mod:`cae_lib.callbacks`). A run killed at any point resumes from its last
completed epoch and ends with the same model, history and metrics as an
uninterrupted run: the weights, optimizer state and early-stopping state are
restored, and each epoch's batch order depends only on (seed, epoch)
(:func:`cae_lib.tasks.training_batches`). Unreadable progress is reported,
moved aside and trained again; a folder whose manifest does not match (other
key, altered file) is reported, moved aside and retrained. Two processes
asking for the same run take turns (:func:`cae_lib.cache.locked`): the second
loads what the first trained. A finished run loads from a read-only cache.

Environment:
    ``CAE_CACHE``: cache folder (default ``~/.cache/cae_lib/runs``).
    ``CAE_RETRAIN``: ``1``/``true``/``yes``/``on`` retrains a cached run;
    ``0``/``false``/``no``/``off``/empty does not; anything else is an error.
    ``CAE_PROFILE``: ``full`` (default) or ``smoke``; see :mod:`cae_lib.profiles`.

What changes a key: a field of the config (its model or its task included)
set to a value other than its declared default, the profile's settings, the
data, the split, or :data:`CACHE_STAMP`. Adding a field whose default
reproduces the old behaviour changes no key (:func:`cae_lib.keys.settings`);
changing a default is a deliberate act that bumps :data:`CACHE_STAMP`.

Example:
    >>> from cae_lib.tasks import Denoise
    >>> cfg = RunConfig(name="given_mse", loss="mse", profile="smoke")
    >>> cfg.task, cfg.loss, cfg.model.filters, cfg.early_stopping_patience
    (Reconstruct(), 'mse', (8, 12, 16), 4)
    >>> RunConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> RunConfig(name="d", task=Denoise(sigma=0.1), loss="mse", profile="smoke").to_dict()["task"]
    {'name': 'denoise', 'sigma': 0.1}
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from cae_lib import __version__, cache, keys, tasks, validate
from cae_lib.models import CAESpec
from cae_lib.profiles import get_profile
from cae_lib.tasks import Reconstruct, Task

__all__ = [
    "CACHE_STAMP",
    "DEFAULT_EPOCHS",
    "DEFAULT_PATIENCE",
    "LOSSES",
    "OPTIMIZERS",
    "LR_SCHEDULES",
    "RETRAIN_ENV",
    "RunConfig",
    "RunResult",
    "run",
    "run_dir",
    "locate",
    "retrain_requested",
    "learning_rate_schedule",
    "compile_model",
    "config_rows",
    "cached_summary",
    "CONFIG_FIELDS",
    "ARTIFACTS",
]

RETRAIN_ENV = "CAE_RETRAIN"
#: Part of every cache key: bump the trailing number when the artifact format
#: or the training procedure changes in a way that makes old runs stale.
#: Old folders are then ignored (never deleted).
CACHE_STAMP = f"cae_lib-{__version__}/runs-3"

#: Loss names a run may ask for; the last is the colour classes' (:class:`cae_lib.tasks.ColourClasses`).
LOSSES = ("binary_crossentropy", "mse", "mae", tasks.CLASS_LOSS)
#: Keras optimizer names a run may ask for; ``keras.optimizers.get`` builds them.
OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
#: ``constant``: the learning rate throughout; ``cosine``: linear warm-up for
#: ``warmup_epochs``, then cosine decay to 0 at the last epoch the profile allows.
LR_SCHEDULES = ("constant", "cosine")
ARTIFACTS = ("config.json", "history.json", "metrics.json", "model.keras")
#: Epochs every run asks for unless told otherwise (the smoke profile caps them).
DEFAULT_EPOCHS = 20
#: Early-stopping patience: four epochs without a lower validation loss let a
#: run ride out one or two noisy epochs without training long past its best.
DEFAULT_PATIENCE = 4


def _default_profile() -> str:
    return get_profile().name


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run.

    Attributes:
        name: a short label; it names the cache folder and is part of the key.
        model: the architecture.
        task: a :class:`cae_lib.tasks.Task` (e.g. ``Denoise(sigma=0.1)``), or
            the name of one whose parameters all have defaults.
        loss: ``"binary_crossentropy"``, ``"mse"``, ``"mae"``, or
            ``"rebalanced_crossentropy"`` for colour classes.
        optimizer: a name in :data:`OPTIMIZERS` (built by ``keras.optimizers.get``).
        learning_rate: the optimizer's (peak) learning rate.
        lr_schedule: a name in :data:`LR_SCHEDULES`.
        warmup_epochs: epochs of linear warm-up of the ``cosine`` schedule.
        batch_size: images per training step.
        epochs: epochs asked for; the profile may cap them.
        early_stopping_patience: epochs without a lower validation loss before
            training stops and the best epoch's weights are restored; ``None``: off
            (default :data:`DEFAULT_PATIENCE`).
        seed: seeds weight initialisation and each epoch's batch order (and noise).
        profile: data profile name (default: ``CAE_PROFILE``, else ``full``).
        split_seed: seed of the stratified train/validation/test split.
        metrics: Keras metrics tracked each epoch besides the loss.

    Raises:
        ValueError: for an unknown task, loss, optimizer or schedule, a model
            whose channels do not fit the task (:meth:`cae_lib.tasks.Task.check`),
            or non-positive sizes.
    """

    name: str
    model: CAESpec = field(default_factory=CAESpec)
    task: Task = Reconstruct()
    loss: str = "binary_crossentropy"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    warmup_epochs: int = 0
    batch_size: int = 64
    epochs: int = DEFAULT_EPOCHS
    early_stopping_patience: int | None = DEFAULT_PATIENCE
    seed: int = 0
    profile: str = field(default_factory=_default_profile)
    split_seed: int = 0
    metrics: tuple[str, ...] = ("mse", "accuracy")

    def __post_init__(self):
        validate.name(self.name, "RunConfig.name")
        if not isinstance(self.model, CAESpec):
            raise ValueError(f"RunConfig.model must be a CAESpec, got {type(self.model).__name__}")
        object.__setattr__(self, "task", tasks.as_task(self.task))
        for attr, allowed in (("loss", LOSSES), ("optimizer", OPTIMIZERS), ("lr_schedule", LR_SCHEDULES)):
            if getattr(self, attr) not in allowed:
                raise ValueError(f"RunConfig.{attr} must be one of {allowed}, got {getattr(self, attr)!r}")
        get_profile(self.profile)  # raises for an unknown profile
        object.__setattr__(self, "profile", self.profile.strip().lower())
        object.__setattr__(self, "metrics", tuple(self.metrics))
        validate.positive_int(self.batch_size, "RunConfig.batch_size")
        validate.positive_int(self.epochs, "RunConfig.epochs")
        validate.non_negative_int(self.warmup_epochs, "RunConfig.warmup_epochs")
        validate.non_negative_int(self.seed, "RunConfig.seed")
        validate.non_negative_int(self.split_seed, "RunConfig.split_seed")
        if self.early_stopping_patience is not None:
            validate.positive_int(self.early_stopping_patience, "RunConfig.early_stopping_patience")
        object.__setattr__(self, "learning_rate", validate.positive_float(self.learning_rate, "RunConfig.learning_rate"))
        self.task.check(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it."""
        out = asdict(self)
        out["model"] = self.model.to_dict()
        out["task"] = self.task.to_dict()
        out["metrics"] = list(self.metrics)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Rebuild a config from :meth:`to_dict`'s output.

        Raises:
            ValueError: for unknown keys or invalid values.
        """
        if not isinstance(d, dict):
            raise ValueError(f"RunConfig.from_dict expects a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown RunConfig keys {sorted(unknown)}; known keys are {sorted(known)}")
        d = dict(d)
        if isinstance(d.get("model"), dict):
            d["model"] = CAESpec.from_dict(d["model"])
        if "task" in d:
            d["task"] = tasks.task_from_dict(d["task"])
        if "metrics" in d:
            d["metrics"] = tuple(d["metrics"])
        return cls(**d)

    def config_hash(self) -> str:
        """SHA-256 of this configuration alone: its fields that differ from their defaults."""
        return keys.digest(keys.settings(self))

    def key(self, data_fingerprint: str, split: str) -> str:
        """SHA-256 of the config's non-default fields, its profile's run settings, the data, the split and the stamp.

        Args:
            data_fingerprint: :attr:`cae_lib.data.CifarData.fingerprint`.
            split: :func:`cae_lib.data.split_digest` of the split the run uses.
        """
        return keys.digest({
            "config": keys.settings(self),
            "profile": get_profile(self.profile).run_settings(),
            "data": data_fingerprint,
            "split": split,
            "stamp": CACHE_STAMP,
        })

    def with_overrides(self, **changes) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def max_epochs(self) -> int:
        """The epochs this run trains at most under its profile."""
        return get_profile(self.profile).epochs(self.epochs)


@dataclass
class RunResult:
    """What :func:`run` returns.

    Attributes:
        config: the run's description.
        key: its cache key.
        path: its cache folder.
        model: the trained Keras model.
        history: per-epoch ``loss``, ``val_loss``, metrics and ``epoch_seconds``.
        test_metrics: test-set metrics (:func:`cae_lib.evaluation.evaluate_model`).
        train_seconds: training wall time, summed over epochs (resumed ones too).
        trained: ``True`` if this call trained (or finished training).
        epochs_this_call: epochs trained by this call (0 when loaded).
    """

    config: RunConfig
    key: str
    path: Path
    model: Any
    history: dict[str, list[float]]
    test_metrics: dict[str, float]
    train_seconds: float
    trained: bool
    epochs_this_call: int

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """The model's prediction for ``x`` in the task's target scale (the run's task decodes the output)."""
        return self.config.task.predict(self.model, x, batch_size=batch_size)

    @property
    def epochs_run(self) -> int:
        """Number of epochs in the stored history."""
        return len(self.history.get("loss", []))

    @property
    def best_epoch(self) -> int:
        """1-based epoch with the lowest validation loss (whose weights early stopping restores)."""
        return int(np.argmin(self.history["val_loss"])) + 1

    @property
    def stopped_early(self) -> bool:
        """Whether the run ended before the epochs its profile allows."""
        return self.epochs_run < self.config.max_epochs()


def retrain_requested(value: bool | None = None) -> bool:
    """``value`` if given, else what ``CAE_RETRAIN`` says.

    Raises:
        ValueError: ``CAE_RETRAIN`` holds something other than a yes or a no.

    Example:
        >>> retrain_requested(True)
        True
    """
    if value is not None:
        return bool(value)
    text = os.environ.get(RETRAIN_ENV, "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{RETRAIN_ENV}={text!r} is neither yes (1, true, yes, on) nor no (0, false, no, off, empty)")


def run_dir(config: RunConfig, data_fingerprint: str, split: str, cache_dir=None) -> Path:
    """The folder of ``config``'s run on data with this fingerprint and split."""
    return cache.entry_dir(cache.cache_root(cache_dir), config.name, config.key(data_fingerprint, split))


def locate(config: RunConfig, data=None, cache_dir=None) -> tuple[tasks.TaskData, str, Path]:
    """The task data ``config``'s run trains on, its cache key and its folder (which may not exist yet).

    Args:
        config: the run.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`cae_lib.data.load_data`).
        cache_dir: cache folder (default :func:`cae_lib.cache.cache_root`).
    """
    from cae_lib.data import load_data

    arrays = tasks.task_data(config.task, config.profile, split_seed=config.split_seed,
                             data=load_data() if data is None else data)
    key = config.key(arrays.fingerprint, arrays.split)
    return arrays, key, run_dir(config, arrays.fingerprint, arrays.split, cache_dir)


# --------------------------------------------------------------------------- building


def learning_rate_schedule(config: RunConfig, steps: int):
    """The config's learning rate: a number (``constant``) or a Keras schedule of the step (``cosine``).

    Args:
        config: the run.
        steps: training steps per epoch.
    """
    import keras

    if config.lr_schedule == "constant":
        return config.learning_rate
    total = config.max_epochs() * steps
    warmup = min(config.warmup_epochs * steps, max(total - 1, 0))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate * (1e-3 if warmup else 1.0),
        decay_steps=max(total - warmup, 1),
        alpha=0.0,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def compile_model(config: RunConfig, steps_per_epoch: int, data=None):
    """Build ``config.model`` and compile it with the config's loss, optimizer and metrics.

    Seeds Keras with ``config.seed`` first, so the initial weights depend only
    on the config.

    Args:
        config: the run.
        steps_per_epoch: training steps per epoch (for a schedule).
        data: the run's :class:`cae_lib.tasks.TaskData` (a task's loss may
            depend on the training targets, as the colour classes' weights do).
    """
    import keras

    loss = config.task.keras_loss(config, data)
    keras.utils.set_random_seed(config.seed)
    model = config.task.build_model(config, name=config.name.replace(".", "_").replace("-", "_"))
    optimizer = keras.optimizers.get(
        {"class_name": config.optimizer, "config": {"learning_rate": learning_rate_schedule(config, steps_per_epoch)}}
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=list(config.metrics))
    return model


# --------------------------------------------------------------------------- the cache


def _load_model(path: Path, task: Task):
    import keras

    return keras.saving.load_model(path, custom_objects=task.custom_objects(), compile=True)


def _load_finished(config: RunConfig, key: str, path: Path) -> RunResult:
    cache.verify(path, ARTIFACTS, key=key)
    try:
        history = json.loads((path / "history.json").read_text())
        metrics = json.loads((path / "metrics.json").read_text())
        model = _load_model(path / "model.keras", config.task)
        result = RunResult(
            config=config, key=key, path=path, model=model, history=history,
            test_metrics=metrics["test"], train_seconds=float(metrics["train_seconds"]),
            trained=False, epochs_this_call=0,
        )
    except Exception as exc:  # any failure to read means: retrain
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        raise cache.CacheError(f"{path} could not be loaded ({type(exc).__name__}: {first_line})") from exc
    _check_architecture(config, result.model, path)
    return result


def _check_architecture(config: RunConfig, model, path: Path) -> None:
    """Refuse a cached model whose architecture is not the configuration's (a model file replaced by another)."""
    from cae_lib.models import spec_of

    try:
        found = spec_of(model)
    except ValueError as exc:
        raise cache.CacheError(f"{path / 'model.keras'} is not a model of this library ({exc})") from None
    if found != config.model:
        raise cache.CacheError(
            f"{path / 'model.keras'} holds another architecture than its configuration (latent "
            f"{'x'.join(map(str, found.latent_shape))}, not {'x'.join(map(str, config.model.latent_shape))}): "
            "it was replaced"
        )


def _try_load(config: RunConfig, key: str, path: Path) -> RunResult | None:
    """The finished run in ``path``, or ``None`` (an unusable one is reported and moved aside)."""
    if not (path / cache.MANIFEST).exists():
        return None
    try:
        return _load_finished(config, key, path)
    except cache.UntrustedError:
        raise
    except cache.CacheError as exc:
        if cache.move_aside(path, str(exc)) is None:
            raise cache.CacheError(f"{exc}; the cache is read-only, so it cannot be retrained there") from None
    return None


def _resume(config: RunConfig, progress_dir: Path, strategy):
    """``(model, progress)`` of an unfinished run, or ``(None, None)`` to start afresh."""
    from cae_lib import callbacks

    try:
        progress = callbacks.read_progress(progress_dir)
        if progress is None:
            return None, None
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            model = _load_model(progress.checkpoint, config.task)
        best = None
        if progress.best_weights is not None:
            _, best = callbacks.load_weights_file(progress.best_weights)
        progress.best_weights = best
        return model, progress
    except Exception as exc:  # any unreadable piece of progress means: start again
        cache.move_aside(progress_dir, f"{type(exc).__name__}: {exc}", what="unfinished run progress")
        return None, None


def _fit(config, data, model, progress, progress_dir: Path, verbose, extra_callbacks):
    """Train from where ``progress`` left off; return the :class:`~cae_lib.callbacks.EpochCheckpoint`."""
    from cae_lib import callbacks

    es = None
    if config.early_stopping_patience is not None:
        es = callbacks.ResumableEarlyStopping(config.early_stopping_patience)
        if progress is not None and progress.early_stopping is not None:
            es.restore(**progress.early_stopping, best_weights=progress.best_weights)
    checkpoint = callbacks.EpochCheckpoint(progress_dir, None if progress is None else progress.history, es)
    first = 0 if progress is None else progress.epochs_done
    epochs = config.max_epochs()
    done = progress is not None and (progress.stopped or first >= epochs)
    if done:
        if es is not None and es.best_weights is not None:
            model.set_weights(es.best_weights)
        return checkpoint
    steps = tasks.steps_per_epoch(len(data.x_train), config.batch_size)
    batches = tasks.training_batches(
        data.x_train, data.y_train, batch_size=config.batch_size, seed=config.seed,
        first_epoch=first, corrupt=config.task.corrupt,
    )
    cbs = ([] if es is None else [es]) + [checkpoint, *extra_callbacks]
    model.fit(
        batches, steps_per_epoch=steps, epochs=epochs, initial_epoch=first,
        validation_data=(data.x_val, data.y_val), validation_batch_size=max(config.batch_size, 256),
        callbacks=cbs, verbose=verbose, shuffle=False,
    )
    return checkpoint


def _finish(config, key, path, data, model, history, fingerprint_source) -> RunResult:
    import keras

    from cae_lib import evaluation

    test = evaluation.evaluate_model(model, data, batch_size=max(config.batch_size, 256))
    train_seconds = float(sum(history.get("epoch_seconds", [])))
    cache.write_json(
        path / "config.json",
        {
            "config": config.to_dict(),
            "config_hash": config.config_hash(),
            "key": key,
            "data_fingerprint": data.fingerprint,
            "data_source": fingerprint_source,
            "split": data.split,
            "cache_stamp": CACHE_STAMP,
            "keras_version": keras.__version__,
            "backend": keras.backend.backend(),
            "sizes": data.sizes(),
        },
    )
    cache.write_json(path / "history.json", history)
    cache.write_json(
        path / "metrics.json",
        {"test": test, "train_seconds": train_seconds, "epochs_run": len(history.get("loss", []))},
    )
    cache.save_model(model, path / "model.keras")
    cache.write_manifest(path, ARTIFACTS, key=key, extra={"config_hash": config.config_hash()})
    return RunResult(config, key, path, model, history, test, train_seconds, True, 0)


def run(
    config: RunConfig,
    *,
    data=None,
    cache_dir: str | os.PathLike | None = None,
    retrain: bool | None = None,
    strategy=None,
    verbose: int | str = 0,
    callbacks: tuple = (),
) -> RunResult:
    """Train ``config``, or load it if the identical run is cached.

    Args:
        config: the run.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`cae_lib.data.load_data`).
        cache_dir: cache folder (default: :func:`cae_lib.cache.cache_root`).
        retrain: train even if a finished run is cached (default:
            :func:`retrain_requested`). The old run is kept in
            ``<folder>.previous`` until the new one has finished.
        strategy: a ``tf.distribute`` strategy to build and train under.
        verbose: Keras' ``fit`` verbosity (0 silent, 1 progress bar, 2 one line per epoch).
        callbacks: extra Keras callbacks, run after the run's own.

    Returns:
        A :class:`RunResult`.

    Raises:
        ValueError: the profile leaves no data for a part of the split, or a
            bad ``CAE_RETRAIN``.
        cae_lib.cache.CacheError: the cache cannot be written where it must be.

    Usage (trains, or needs a CIFAR-10 copy)::

        result = run(RunConfig(name="given_bce", profile="smoke"))
        result.test_metrics["psnr_global_db"]
    """
    retrain = retrain_requested(retrain)
    arrays, key, path = locate(config, data, cache_dir)
    cache.refuse_link(path, "run folder")
    if not retrain:
        found = _try_load(config, key, path)
        if found is not None:
            return found
    with cache.locked(path):
        if not retrain:
            found = _try_load(config, key, path)  # another process may have finished it meanwhile
            if found is not None:
                return found
        previous = path.with_name(f"{path.name}.previous")
        if retrain and (path / cache.MANIFEST).exists():
            if previous.exists():
                shutil.rmtree(previous)
            path.rename(previous)
        cache.ensure_dir(cache.refuse_link(path, "run folder"))
        cache.clean_leftovers(path)  # a killed save's temporary file
        progress_dir = cache.refuse_link(path / "progress", "run's progress folder")
        model, progress = _resume(config, progress_dir, strategy)
        if model is None:
            with strategy.scope() if strategy is not None else contextlib.nullcontext():
                model = compile_model(config, tasks.steps_per_epoch(len(arrays.x_train), config.batch_size), arrays)
        checkpoint = _fit(config, arrays, model, progress, progress_dir, verbose, callbacks)
        result = _finish(config, key, path, arrays, model, checkpoint.history, arrays.source)
        result.epochs_this_call = checkpoint.epochs_this_call
        shutil.rmtree(progress_dir, ignore_errors=True)
        if previous.exists():
            shutil.rmtree(previous, ignore_errors=True)
    return result


#: The fields of a run a chapter's table of configurations shows.
CONFIG_FIELDS = ("loss", "optimizer", "learning_rate", "lr_schedule", "batch_size", "epochs",
                 "early_stopping_patience", "seed")


def config_rows(configs: dict, fields: tuple[str, ...] = CONFIG_FIELDS) -> list[dict]:
    """One table row per named config: ``{"run": name, <field>: value, ...}``.

    Example:
        >>> config_rows({"a": RunConfig(name="a", profile="smoke")}, ("loss", "epochs"))
        [{'run': 'a', 'loss': 'binary_crossentropy', 'epochs': 20}]
    """
    return [{"run": name, **{f: getattr(config, f) for f in fields}} for name, config in configs.items()]


def cached_summary(configs: dict, data=None, cache_dir=None) -> list[dict]:
    """What the cache holds for each named run, without training or loading a model.

    Returns one row per run: name, configuration hash and key (first 16 hex
    digits), epochs trained, training time and test PSNR, or ``"not in the
    cache"`` for a run that has not finished.
    """
    from cae_lib.data import load_data

    data = load_data() if data is None else data
    rows = []
    for name, config in configs.items():
        _, key, path = locate(config, data, cache_dir)
        row = {"run": name, "config hash": config.config_hash()[:16], "key": key[:16]}
        try:
            cache.verify(path, ARTIFACTS, key=key)
            stored = cache.read_json(path / "metrics.json")
            row.update({"epochs": stored["epochs_run"], "training time (s)": stored["train_seconds"],
                        "test PSNR (dB)": stored["test"]["psnr_global_db"]})
        except cache.CacheError:
            row["epochs"] = "not in the cache"
        rows.append(row)
    return rows
