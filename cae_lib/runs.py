"""Training runs: described by one frozen config, trained once, loaded afterwards.

A :class:`RunConfig` is the whole description of a run: the model
(:class:`~cae_lib.models.CAESpec`), the task, loss, optimizer, batch size,
epochs, early stopping, seed and data profile. :func:`run` trains it, or loads
it when an identical run was already done. Artifacts live in a folder named
after the run and a hash of its description, the data's fingerprint and
:data:`CACHE_STAMP`, so a changed configuration, other data or a new
``cae_lib`` version never loads a stale model.

A finished run folder holds files a person can open::

    config.json     the run description, data source and fingerprint
    history.json    per-epoch train/validation loss and metrics, epoch times
    metrics.json    test-set metrics and training wall time
    model.keras     the trained Keras model
    manifest.json   size and SHA-256 of the files above; written last

Every file is written atomically (a temporary file, then ``os.replace``).
A run folder whose manifest is missing is unfinished: if a training backup is
there (``backup/``, from :class:`keras.callbacks.BackupAndRestore`), training
resumes from its last completed epoch. A folder whose files do not match their
manifest is reported, moved aside (never deleted) and retrained.

Environment:
    ``CAE_CACHE``: cache folder (default ``~/.cache/cae_lib/runs``).
    ``CAE_RETRAIN=1``: retrain even when a cached run exists.
    ``CAE_PROFILE``: ``full`` (default) or ``smoke``; see :mod:`cae_lib.profiles`.

Example:
    >>> from cae_lib.runs import RunConfig
    >>> cfg = RunConfig(name="given_mse", loss="mse", profile="smoke")
    >>> cfg.task, cfg.loss, cfg.model.filters
    ('reconstruct', 'mse', (8, 12, 16))
    >>> RunConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from cae_lib import __version__
from cae_lib.models import CAESpec
from cae_lib.profiles import Profile, get_profile

CACHE_ENV = "CAE_CACHE"
RETRAIN_ENV = "CAE_RETRAIN"
#: Part of every cache key: bump the trailing number when the artifact format
#: or the training procedure changes in a way that makes old runs stale.
CACHE_STAMP = f"cae_lib-{__version__}/runs-1"

TASKS = ("reconstruct", "colorize")
LOSSES = ("binary_crossentropy", "mse", "mae")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
ARTIFACTS = ("config.json", "history.json", "metrics.json", "model.keras")


def _default_profile() -> str:
    return get_profile().name


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run.

    Attributes:
        name: a short label; it names the cache folder and is part of the key.
        model: the architecture.
        task: ``"reconstruct"`` (RGB in, RGB out) or ``"colorize"``
            (L in, a,b out; see :mod:`cae_lib.color`).
        loss: ``"binary_crossentropy"``, ``"mse"`` or ``"mae"``.
        optimizer: ``"adam"``, ``"rmsprop"`` or ``"sgd"``.
        learning_rate: the optimizer's learning rate.
        batch_size: images per training step.
        epochs: epochs asked for; the profile may cap them.
        early_stopping_patience: epochs without a better validation loss
            before training stops (best weights are restored); ``None``: off.
        seed: seeds weight initialisation, shuffling and dropout.
        profile: data profile name (default: ``CAE_PROFILE``, else ``full``).
        split_seed: seed of the stratified train/validation/test split.
        metrics: Keras metrics tracked each epoch besides the loss.

    Raises:
        ValueError: for an unknown task, loss or optimizer, a model whose
            channels do not fit the task, or non-positive sizes.
    """

    name: str
    model: CAESpec = field(default_factory=CAESpec)
    task: str = "reconstruct"
    loss: str = "binary_crossentropy"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 20
    early_stopping_patience: int | None = 5
    seed: int = 0
    profile: str = field(default_factory=_default_profile)
    split_seed: int = 0
    metrics: tuple[str, ...] = ("mse", "accuracy")

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or not all(
            c.isalnum() or c in "-_." for c in self.name
        ):
            raise ValueError(
                f"RunConfig.name must be a non-empty string of letters, digits, '-', '_' or '.', got {self.name!r}"
            )
        if not isinstance(self.model, CAESpec):
            raise ValueError(f"RunConfig.model must be a CAESpec, got {type(self.model).__name__}")
        if self.task not in TASKS:
            raise ValueError(f"RunConfig.task must be one of {TASKS}, got {self.task!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"RunConfig.loss must be one of {LOSSES}, got {self.loss!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"RunConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        get_profile(self.profile)  # raises for an unknown profile
        object.__setattr__(self, "profile", self.profile.strip().lower())
        object.__setattr__(self, "metrics", tuple(self.metrics))
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"RunConfig.{name} must be a positive integer, got {value!r}")
        patience = self.early_stopping_patience
        if patience is not None and (not isinstance(patience, int) or patience < 1):
            raise ValueError(f"RunConfig.early_stopping_patience must be a positive integer or None, got {patience!r}")
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"RunConfig.learning_rate must be a positive number, got {self.learning_rate!r}")
        want = (3, 3) if self.task == "reconstruct" else (1, 2)
        have = (self.model.input_channels, self.model.output_channels)
        if have != want:
            raise ValueError(
                f"task {self.task!r} needs a model with {want[0]} input and {want[1]} output channels, "
                f"got {have[0]} and {have[1]}"
                + ("; use cae_lib.models.colorization_spec()" if self.task == "colorize" else "")
            )
        if self.task == "colorize" and self.loss == "binary_crossentropy":
            raise ValueError(
                "binary_crossentropy needs targets in [0, 1], but colorization targets (a, b) lie in [-1, 1]; "
                "use loss='mse' or 'mae'"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it."""
        out = asdict(self)
        out["model"] = self.model.to_dict()
        out["metrics"] = list(self.metrics)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Rebuild a config from :meth:`to_dict`'s output.

        Raises:
            ValueError: for unknown keys or invalid values.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown RunConfig keys {sorted(unknown)}; known keys are {sorted(known)}")
        d = dict(d)
        if "model" in d and isinstance(d["model"], dict):
            d["model"] = CAESpec.from_dict(d["model"])
        if "metrics" in d:
            d["metrics"] = tuple(d["metrics"])
        return cls(**d)

    def key(self, data_fingerprint: str) -> str:
        """SHA-256 of this config, its profile's settings, the data fingerprint and :data:`CACHE_STAMP`."""
        blob = json.dumps(
            {
                "config": self.to_dict(),
                "profile": asdict(get_profile(self.profile)),
                "data": data_fingerprint,
                "stamp": CACHE_STAMP,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_overrides(self, **changes) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class TaskData:
    """Network-ready arrays for one task, profile and split.

    For ``reconstruct``, ``x`` and ``y`` are the same float32 RGB arrays in
    [0, 1] (one copy in memory). For ``colorize``, ``x`` is L/100 with one
    channel and ``y`` is a,b/128 with two (see :mod:`cae_lib.color`).
    ``*_index`` are indices into the pooled data set.
    """

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray
    fingerprint: str
    source: str


@dataclass
class RunResult:
    """What :func:`run` returns.

    Attributes:
        config: the run's description.
        key: its cache key.
        path: its cache folder.
        model: the trained Keras model.
        history: per-epoch ``loss``, ``val_loss``, metrics and ``epoch_seconds``.
        test_metrics: test-set metrics (see :mod:`cae_lib.metrics`).
        train_seconds: training wall time, summed over epochs (resumed ones too).
        trained: ``True`` if this call trained (or resumed training),
            ``False`` if it loaded a finished run.
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

    @property
    def epochs_run(self) -> int:
        """Number of epochs in the stored history."""
        return len(self.history.get("loss", []))

    @property
    def best_epoch(self) -> int:
        """1-based epoch with the lowest validation loss (whose weights early stopping restores)."""
        return int(np.argmin(self.history["val_loss"])) + 1


# --------------------------------------------------------------------------- data


@functools.lru_cache(maxsize=2)
def _load_cached(source: str | None):
    from cae_lib.data import load_cifar10

    return load_cifar10(source)


def load_data(source: str | os.PathLike | None = None):
    """:func:`cae_lib.data.load_cifar10`, memoised per source within a process.

    Example:
        >>> data = load_data()  # doctest: +SKIP
    """
    if source is None:
        source = os.environ.get("CAE_DATA") or None
    return _load_cached(None if source is None else str(source))


def task_data(task: str, profile: str | Profile | None = None, *, split_seed: int = 0, data=None) -> TaskData:
    """Split, subset (by profile) and scale the data for a task.

    Args:
        task: ``"reconstruct"`` or ``"colorize"``.
        profile: a profile or its name (default: ``CAE_PROFILE``).
        split_seed: seed of :func:`cae_lib.data.split_indices`.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`load_data`).

    Returns:
        A :class:`TaskData`.
    """
    from cae_lib import color
    from cae_lib.data import split_indices, stratified_subset, to_float

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    data = load_data() if data is None else data
    split = split_indices(data.labels, seed=split_seed)
    parts = {}
    for part, per_class in (
        ("train", prof.train_per_class),
        ("val", prof.val_per_class),
        ("test", prof.test_per_class),
    ):
        index = getattr(split, part)
        if per_class is not None:
            index = stratified_subset(index, data.labels, per_class, seed=split_seed)
        images = data.images[index]
        if task == "reconstruct":
            x = to_float(images)
            y = x
        else:
            x, y = color.lab_to_model(color.rgb_to_lab(images))
        parts[part] = (x, y, index)
    return TaskData(
        task=task,
        x_train=parts["train"][0], y_train=parts["train"][1], train_index=parts["train"][2],
        x_val=parts["val"][0], y_val=parts["val"][1], val_index=parts["val"][2],
        x_test=parts["test"][0], y_test=parts["test"][1], test_index=parts["test"][2],
        fingerprint=data.fingerprint,
        source=data.source,
    )


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int):
    """A batched, prefetched ``tf.data`` pipeline (NumPy arrays if TF is absent).

    For reconstruction ``y is x``: the images go into the pipeline once and
    are paired with themselves, instead of being copied twice.
    """
    try:
        import tensorflow as tf
    except ImportError:  # another Keras backend without TensorFlow: Keras batches NumPy itself
        return None
    if y is x:
        ds = tf.data.Dataset.from_tensor_slices(x)
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(lambda b: (b, b))
    else:
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- cache files


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The run cache folder: ``cache_dir``, else ``CAE_CACHE``, else ``~/.cache/cae_lib/runs``."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "cae_lib" / "runs"
    return Path(cache_dir).expanduser()


def run_dir(config: RunConfig, fingerprint: str, cache_dir=None) -> Path:
    """The folder where ``config``'s artifacts live for data with ``fingerprint``."""
    return cache_root(cache_dir) / f"{config.name}-{config.key(fingerprint)[:16]}"


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    _atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n").encode())


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class CacheError(RuntimeError):
    """A cached run exists but cannot be used (missing, truncated or altered files)."""


def _verify(path: Path) -> dict:
    manifest_path = path / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CacheError(f"{manifest_path} is unreadable ({exc})") from exc
    for name in ARTIFACTS:
        entry = files.get(name)
        target = path / name
        if entry is None:
            raise CacheError(f"{manifest_path} does not list {name}")
        if not target.is_file():
            raise CacheError(f"{target} is missing")
        size = target.stat().st_size
        if size != entry["size"]:
            raise CacheError(f"{target} has {size} bytes, the manifest says {entry['size']} (truncated or altered)")
        if _sha256(target) != entry["sha256"]:
            raise CacheError(f"{target} does not match its SHA-256 in the manifest (altered or corrupted)")
    return manifest


def _load_finished(config: RunConfig, key: str, path: Path) -> RunResult:
    import keras

    _verify(path)
    try:
        history = json.loads((path / "history.json").read_text())
        metrics = json.loads((path / "metrics.json").read_text())
        model = keras.saving.load_model(path / "model.keras", compile=True)
    except Exception as exc:
        raise CacheError(f"{path} could not be loaded ({type(exc).__name__}: {exc})") from exc
    return RunResult(
        config=config,
        key=key,
        path=path,
        model=model,
        history=history,
        test_metrics=metrics["test"],
        train_seconds=metrics["train_seconds"],
        trained=False,
        epochs_this_call=0,
    )


def _move_aside(path: Path, reason: str) -> Path:
    target = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    path.rename(target)
    warnings.warn(
        f"cached run {path} is unusable: {reason}. It was moved to {target} and will be retrained.",
        RuntimeWarning,
        stacklevel=3,
    )
    return target


# --------------------------------------------------------------------------- training


def _history_logger(path: Path, keras):
    """A callback that keeps the per-epoch history in ``path``, atomically.

    It runs before :class:`keras.callbacks.BackupAndRestore` in the callback
    list, so an epoch is in the history whenever it is in the backup. When a
    resumed fit starts at epoch ``k``, rows from ``k`` on (an epoch that was
    logged but not backed up) are dropped before training goes on.
    """

    class HistoryLogger(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history: dict[str, list[float]] = {}
            self.epochs_this_call = 0
            if path.is_file():
                try:
                    self.history = json.loads(path.read_text())
                except ValueError as exc:
                    warnings.warn(
                        f"{path} is unreadable ({exc}); a resumed run's history will miss the epochs before it",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    self.history = {}
            self._t0 = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.history = {k: v[:epoch] for k, v in self.history.items()}
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            logs["epoch_seconds"] = time.perf_counter() - self._t0
            for k, v in logs.items():
                self.history.setdefault(k, []).append(float(v))
            self.epochs_this_call += 1
            atomic_write_json(path, self.history)

    return HistoryLogger()


def _early_stopping(patience: int, logger, weights_path: Path, keras):
    """``EarlyStopping`` on ``val_loss`` that restores the best weights, and survives a resume.

    Keras' own callback starts afresh when a fit resumes from a backup: it
    forgets the best loss so far, its patience count and the best weights.
    This one keeps the best weights in ``weights_path`` (``.npz``, written
    atomically whenever the validation loss improves) and, when a fit resumes
    at epoch ``k``, takes the best loss, best epoch and patience count from the
    first ``k`` rows of the history and the best weights from that file, so an
    interrupted run stops, and restores weights, by all its epochs: those
    before the interruption and those after it.
    """

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        def __init__(self):
            super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True)
            self._first_epoch = True

        def on_epoch_begin(self, epoch, logs=None):
            if self._first_epoch and epoch > 0:
                self._resume(epoch)
            self._first_epoch = False

        def _resume(self, epoch):
            done = logger.history.get("val_loss", [])[:epoch]
            if not done:
                return
            self.best_epoch = int(np.argmin(done))
            self.best = float(done[self.best_epoch])
            self.wait = epoch - 1 - self.best_epoch
            stored_epoch, weights = -1, None
            try:
                with np.load(weights_path) as stored:
                    stored_epoch = int(stored["epoch"])
                    weights = [stored[f"w{i}"] for i in range(len(stored.files) - 1)]
            except (OSError, ValueError, KeyError):
                pass
            if stored_epoch == self.best_epoch:
                self.best_weights = weights
            elif self.best_epoch == epoch - 1:
                # interrupted after the backup of the best epoch, before its weights
                # were stored here: the restored backup holds exactly those weights
                self.best_weights = self.model.get_weights()
            else:
                warnings.warn(
                    f"{weights_path} does not hold the best epoch's weights; "
                    "the resumed run keeps the best weights from the epochs it trains itself",
                    RuntimeWarning,
                    stacklevel=2,
                )

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if self.best_epoch == epoch and self.best_weights is not None:
                buffer = io.BytesIO()
                arrays = {f"w{i}": w for i, w in enumerate(self.best_weights)}
                np.savez(buffer, epoch=np.int64(epoch), **arrays)
                _atomic_write_bytes(weights_path, buffer.getvalue())

    return ResumableEarlyStopping()


def _make_optimizer(config: RunConfig, keras):
    classes = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}
    return classes[config.optimizer](learning_rate=config.learning_rate)


def prediction_metrics(data: TaskData, pred: np.ndarray) -> dict[str, float]:
    """Test-set metrics of a prediction for ``data.x_test``, as every run reports them.

    For ``reconstruct``: :func:`cae_lib.metrics.reconstruction_metrics` of the
    RGB prediction. For ``colorize``: the prediction (network scale, a,b/128)
    is clipped to [-1, 1], RGB images are rebuilt from the true L with the
    true and the predicted a,b (:func:`cae_lib.color.rebuild_rgb`), and
    :func:`cae_lib.metrics.colorization_metrics` compares them, with a,b in
    CIE units. Baselines evaluated through this function are comparable with
    the models' ``test_metrics``.

    Args:
        data: the task's arrays (:func:`task_data`).
        pred: a prediction shaped like ``data.y_test``.

    Raises:
        ValueError: if ``pred`` is not shaped like ``data.y_test``.
    """
    from cae_lib import color, metrics

    pred = np.asarray(pred)
    if pred.shape != data.y_test.shape:
        raise ValueError(f"prediction has shape {pred.shape}; the test targets have {data.y_test.shape}")
    if data.task == "reconstruct":
        out = metrics.reconstruction_metrics(data.y_test, pred)
    else:
        rgb_true = color.rebuild_rgb(data.x_test, data.y_test)
        rgb_pred = color.rebuild_rgb(data.x_test, pred)
        ab_true = data.y_test * color.AB_SCALE
        ab_pred = np.clip(pred, -1.0, 1.0) * color.AB_SCALE
        out = metrics.colorization_metrics(rgb_true, rgb_pred, ab_true, ab_pred)
    return {k: float(v) for k, v in out.items()}


def _test_metrics(model, data: TaskData, batch_size: int) -> dict[str, float]:
    pred = model.predict(data.x_test, batch_size=max(batch_size, 256), verbose=0)
    scores = model.evaluate(data.x_test, data.y_test, batch_size=max(batch_size, 256), verbose=0, return_dict=True)
    out = {f"keras_{k}": float(v) for k, v in scores.items()}
    out.update(prediction_metrics(data, pred))
    return out


def run(
    config: RunConfig,
    *,
    data=None,
    cache_dir: str | os.PathLike | None = None,
    retrain: bool | None = None,
    strategy=None,
    verbose: int = 2,
    callbacks: tuple = (),
) -> RunResult:
    """Train ``config``, or load it if the identical run is cached.

    Args:
        config: the run.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`load_data`,
            i.e. ``CAE_DATA`` or Keras' CIFAR-10).
        cache_dir: cache folder (default: :func:`cache_root`).
        retrain: train even if a finished run is cached (default:
            ``CAE_RETRAIN=1``). The old run is kept in ``<folder>.previous``
            until the new one has finished.
        strategy: a ``tf.distribute`` strategy to build and train under
            (e.g. ``MirroredStrategy`` for several GPUs).
        verbose: Keras' ``fit`` verbosity; 2 prints one line per epoch.
        callbacks: extra Keras callbacks, run after the cache's own.

    Returns:
        A :class:`RunResult`.

    Raises:
        ValueError: if the profile leaves no data for a part of the split.

    Example:
        >>> from cae_lib.runs import RunConfig, run
        >>> result = run(RunConfig(name="given_bce", profile="smoke"))  # doctest: +SKIP
        >>> result.test_metrics["psnr_global_db"]  # doctest: +SKIP
    """
    import keras

    if retrain is None:
        retrain = os.environ.get(RETRAIN_ENV, "").strip().lower() in ("1", "true", "yes")
    prof = get_profile(config.profile)
    data_obj = load_data() if data is None else data
    fingerprint = data_obj.fingerprint
    key = config.key(fingerprint)
    path = run_dir(config, fingerprint, cache_dir)

    if (path / "manifest.json").exists():
        if not retrain:
            try:
                return _load_finished(config, key, path)
            except CacheError as exc:
                _move_aside(path, str(exc))
        else:
            previous = path.with_name(f"{path.name}.previous")
            if previous.exists():
                shutil.rmtree(previous)
            path.rename(previous)
    path.mkdir(parents=True, exist_ok=True)
    backup = path / "backup"
    partial_history = path / "history.partial.json"
    best_weights = path / "best_weights.partial.npz"
    if not backup.exists():  # leftovers of a run that never completed an epoch
        partial_history.unlink(missing_ok=True)
        best_weights.unlink(missing_ok=True)

    arrays = task_data(config.task, prof, split_seed=config.split_seed, data=data_obj)
    for part in ("x_train", "x_val", "x_test"):
        if len(getattr(arrays, part)) == 0:
            raise ValueError(f"profile {prof.name!r} leaves no images in {part}; use a larger subset")

    keras.utils.set_random_seed(config.seed)
    from cae_lib.models import build_cae

    def build():
        model = build_cae(config.model, name=config.name.replace(".", "_"))
        model.compile(optimizer=_make_optimizer(config, keras), loss=config.loss, metrics=list(config.metrics))
        return model

    if strategy is not None:
        with strategy.scope():
            model = build()
    else:
        model = build()

    logger = _history_logger(partial_history, keras)
    cbs = [logger, keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)]
    if config.early_stopping_patience is not None:
        cbs.append(_early_stopping(config.early_stopping_patience, logger, best_weights, keras))
    cbs.extend(callbacks)

    train_ds = make_dataset(arrays.x_train, arrays.y_train, config.batch_size, True, config.seed)
    val_ds = make_dataset(arrays.x_val, arrays.y_val, config.batch_size, False, config.seed)
    epochs = prof.epochs(config.epochs)
    if train_ds is not None:
        model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=verbose, callbacks=cbs, shuffle=False)
    else:
        model.fit(
            arrays.x_train, arrays.y_train, batch_size=config.batch_size, shuffle=True,
            validation_data=(arrays.x_val, arrays.y_val), epochs=epochs, verbose=verbose, callbacks=cbs,
        )

    history = logger.history
    train_seconds = float(sum(history.get("epoch_seconds", [])))
    test = _test_metrics(model, arrays, config.batch_size)
    meta = {
        "config": config.to_dict(),
        "key": key,
        "data_fingerprint": fingerprint,
        "data_source": arrays.source,
        "cache_stamp": CACHE_STAMP,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "sizes": {"train": len(arrays.x_train), "val": len(arrays.x_val), "test": len(arrays.x_test)},
    }
    atomic_write_json(path / "config.json", meta)
    atomic_write_json(path / "history.json", history)
    atomic_write_json(
        path / "metrics.json",
        {"test": test, "train_seconds": train_seconds, "epochs_run": len(history.get("loss", []))},
    )
    tmp_model = path / f".model-{os.getpid()}.keras"
    model.save(tmp_model)
    os.replace(tmp_model, path / "model.keras")
    manifest = {
        "key": key,
        "files": {n: {"size": (path / n).stat().st_size, "sha256": _sha256(path / n)} for n in ARTIFACTS},
    }
    atomic_write_json(path / "manifest.json", manifest)
    shutil.rmtree(backup, ignore_errors=True)
    partial_history.unlink(missing_ok=True)
    best_weights.unlink(missing_ok=True)
    previous = path.with_name(f"{path.name}.previous")
    if previous.exists():
        shutil.rmtree(previous, ignore_errors=True)
    return RunResult(
        config=config,
        key=key,
        path=path,
        model=model,
        history=history,
        test_metrics=test,
        train_seconds=train_seconds,
        trained=True,
        epochs_this_call=logger.epochs_this_call,
    )
