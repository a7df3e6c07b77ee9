"""The Task interface, the registry of tasks, and what every task shares: the split and the batches.

A task is a small frozen dataclass whose fields are its parameters
(``Denoise(sigma=0.1)``); :attr:`cae_lib.training.RunConfig.task` holds one, and
its non-default fields are part of the run's key. A task says

- what goes in and what should come out (:meth:`Task.arrays`), from the pooled
  uint8 images of one part of the split;
- how a training batch is corrupted, if it is (:meth:`Task.corrupt`, seeded by
  the run's seed, the epoch and the batch);
- which runs it can train (:meth:`Task.check`: channels, loss, metrics);
- the Keras loss (:meth:`Task.keras_loss`), how a model's output becomes a
  prediction in the target's scale (:meth:`Task.predict`) and how a prediction
  is scored (:meth:`Task.score`).

A new task is one new module: a subclass registered by name with
:func:`register` (the name is how ``config.json`` refers to it); nothing else
in the library changes.

Every task starts from the same pooled CIFAR-10 images and the same
stratified 80/10/10 split (:mod:`cae_lib.data`). :func:`training_batches` is the
input pipeline of every run: a generator of ``(x, y)`` batches whose order for
epoch ``e`` is a permutation seeded by (seed, e) alone, so epoch ``e`` is the
same whether training started at epoch 0 or resumed at ``e``. Arrays are
scaled once when :func:`task_data` builds them; batches are views gathered
from them (no per-epoch copy of the data).

Importing this module imports neither TensorFlow nor Keras.

Example:
    >>> x = np.zeros((4, 2, 2, 3), np.float32)
    >>> batches = training_batches(x, x, batch_size=3, seed=0)
    >>> [len(b[0]) for b in (next(batches), next(batches), next(batches))]
    [3, 1, 3]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from cae_lib import keys, validate
from cae_lib.data import load_data, split_digest, split_indices, stratified_subset
from cae_lib.profiles import Profile, get_profile
from cae_lib.registry import Registry

__all__ = [
    "Task",
    "TASKS",
    "register",
    "get_task",
    "as_task",
    "task_from_dict",
    "TaskData",
    "task_data",
    "training_batches",
    "steps_per_epoch",
    "epoch_order",
    "profile_usage",
]


@dataclass(frozen=True)
class Task:
    """What one task asks of a network; subclass it, with the parameters as fields, and :func:`register` it.

    Class attributes (set by each task):
        name: the registered name (set by :func:`register`).
        input_channels, output_channels: channels the network takes and gives.
        target_range: the interval the targets lie in.
        description: one line for tables.
    """

    name: ClassVar[str] = ""
    input_channels: ClassVar[int] = 3
    output_channels: ClassVar[int] = 3
    target_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    description: ClassVar[str] = ""

    # ---- data
    def arrays(self, images: np.ndarray, index: np.ndarray, part: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: network inputs and targets of the uint8 ``images`` of one ``part`` ("train", "val", "test").

        ``index`` holds the images' indices in the pooled data (for noise fixed per image).
        """
        raise NotImplementedError

    def corrupt(self, x: np.ndarray, key: tuple[int, int, int]) -> np.ndarray | None:
        """A training batch's input drawn afresh from ``key`` = (seed, epoch, batch), or ``None``: use ``x``."""
        return None

    # ---- training
    def check(self, config) -> None:
        """Raise ``ValueError`` if this task cannot train ``config`` (a :class:`~cae_lib.training.RunConfig`)."""
        model = config.model
        want = (self.input_channels, self.output_channels)
        have = (model.input_channels, model.output_channels)
        if have != want:
            raise ValueError(
                f"task {self.name!r} needs a model with {want[0]} input and {want[1]} output channels, "
                f"got {have[0]} and {have[1]}{self.spec_hint()}"
            )
        if self.target_range[0] < 0 and config.loss == "binary_crossentropy":
            raise ValueError(
                f"binary_crossentropy needs targets in [0, 1], but {self.name} targets lie in "
                f"{list(self.target_range)}; use loss='mse' or 'mae'"
            )

    def spec_hint(self) -> str:
        """A hint appended to a channel mismatch: how to build a fitting model."""
        return ""

    def build_model(self, config, name: str):
        """The untrained network of ``config`` (a :class:`~cae_lib.training.RunConfig`): by default
        :func:`cae_lib.models.build_cae` of its spec; a task whose network is more than an autoencoder overrides it."""
        from cae_lib.models import build_cae

        return build_cae(config.model, name=name)

    def keras_loss(self, config, data: TaskData):
        """The loss ``model.compile`` gets: by default the config's loss name."""
        return config.loss

    def custom_objects(self) -> dict:
        """Keras objects a saved model of this task needs to load (imported only when loading)."""
        return {}

    # ---- scoring
    def predict(self, model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """A model's prediction for ``x`` in the target's scale, in batches, silently, float32."""
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)

    def score(self, data: TaskData, pred: np.ndarray) -> dict[str, float]:
        """Test metrics of a prediction of ``data.x_test`` (shape and values checked by the caller)."""
        raise NotImplementedError

    # ---- identity
    def key_extras(self) -> dict:
        """What :func:`cae_lib.keys.settings` always keeps: the task's name."""
        return {"name": self.name}

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., <every parameter>: value}``, JSON-ready; :func:`task_from_dict` inverts it."""
        out = {"name": self.name}
        out.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        return out

    def label(self) -> str:
        """The task in words: its name and any parameters, e.g. ``"denoise (sigma=0.1)"``."""
        params = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{self.name} ({params})" if params else self.name


#: The registered tasks, by name (a :class:`cae_lib.registry.Registry`).
TASKS = Registry("task", Task)
#: Class decorator: register a :class:`Task` subclass under a name (how ``config.json`` refers to it).
register = TASKS.register
#: The :class:`Task` class registered under a name; ``ValueError`` listing the known ones otherwise.
get_task = TASKS.get


def as_task(task) -> Task:
    """A :class:`Task` instance: ``task`` itself, or the registered task ``task`` (a name) with its defaults.

    Raises:
        ValueError: an unknown name, a task whose parameters have no defaults, or another type.
    """
    if isinstance(task, Task):
        return task
    if isinstance(task, str):
        cls = get_task(task)
        try:
            return cls()
        except TypeError:
            params = ", ".join(f"{f.name}=..." for f in dataclasses.fields(cls))
            raise ValueError(f"task {task!r} needs its parameters: pass {cls.__name__}({params})") from None
    raise ValueError(f"task must be a Task (e.g. Denoise(sigma=0.1)) or a task name, got {type(task).__name__}")


def task_from_dict(d: dict) -> Task:
    """Rebuild a task from :meth:`Task.to_dict`; missing parameters take their defaults.

    Raises:
        ValueError: no name, an unknown name or unknown parameters.
    """
    if isinstance(d, str):
        return as_task(d)
    if not isinstance(d, dict) or "name" not in d:
        raise ValueError(f"a task must be a dict with its 'name', got {d!r}")
    cls = get_task(d["name"])
    params = {k: v for k, v in d.items() if k != "name"}
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown parameters {unknown} of task {d['name']!r}; it has {sorted(known)}")
    return cls(**params)


@dataclass(frozen=True)
class TaskData:
    """Network-ready arrays for one task, profile and split.

    When a task's inputs equal its targets (``reconstruct``), ``x`` and ``y``
    are the same float32 arrays (one copy). ``*_index`` are indices into the
    pooled data.

    Attributes:
        task: the :class:`Task`.
        x_train, y_train, x_val, y_val, x_test, y_test: float32 arrays.
        train_index, val_index, test_index: int64 indices into the pooled images.
        fingerprint: the data's fingerprint (:attr:`cae_lib.data.CifarData.fingerprint`).
        source: where the data came from.
        split: SHA-256 of the split's index arrays (:func:`cae_lib.data.split_digest`).
    """

    task: Task
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
    split: str

    def sizes(self) -> dict[str, int]:
        """Images per part: ``{"train", "val", "test"}``."""
        return {"train": len(self.x_train), "val": len(self.x_val), "test": len(self.x_test)}

    def scored_on(self, part: str) -> TaskData:
        """A view whose "test" arrays are another part's, to score on it (e.g. choose a setting on ``"val"``)."""
        if part == "test":
            return self
        if part != "val":
            raise ValueError(f"part must be 'val' or 'test', got {part!r}")
        return replace(self, x_test=self.x_val, y_test=self.y_val, test_index=self.val_index)

    def first_test(self, n: int) -> TaskData:
        """A view whose test part is its first ``n`` images (all of them if there are fewer)."""
        n = min(validate.positive_int(n, "n"), len(self.x_test))
        return replace(self, x_test=self.x_test[:n], y_test=self.y_test[:n], test_index=self.test_index[:n])

    def key_fields(self) -> dict:
        """What a result computed from these arrays depends on: data, split, sizes and task (for cache keys)."""
        return {"data": self.fingerprint, "split": self.split, "sizes": self.sizes(), "task": keys.settings(self.task)}


def task_data(task, profile: str | Profile | None = None, *, split_seed: int = 0, data=None) -> TaskData:
    """Split, subset (by profile) and scale the data for a task.

    Args:
        task: a :class:`Task`, or the name of a task whose parameters all have defaults.
        profile: a profile or its name (default: ``CAE_PROFILE``).
        split_seed: seed of :func:`cae_lib.data.split_indices`.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`cae_lib.data.load_data`).

    Returns:
        A :class:`TaskData`.

    Raises:
        ValueError: an unknown task, or a profile that leaves a part of the split without images.
    """
    task = as_task(task)
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    data = load_data() if data is None else data
    split = split_indices(data.labels, seed=split_seed)
    parts = {}
    for part, per_class in (("train", prof.train_per_class), ("val", prof.val_per_class), ("test", prof.test_per_class)):
        index = getattr(split, part)
        if per_class is not None:
            fewest = int(np.bincount(data.labels[index], minlength=len(data.class_names)).min())
            if fewest < per_class:
                raise ValueError(
                    f"the data has too few images for the {prof.name!r} profile: its {part} part holds {fewest} "
                    f"images of one class, and the profile takes {per_class} of each; point --source (or CAE_DATA) "
                    "at a larger copy of CIFAR-10, or use --profile smoke (CAE_PROFILE=smoke)"
                )
            index = stratified_subset(index, data.labels, per_class, seed=split_seed)
        if len(index) == 0:
            raise ValueError(f"profile {prof.name!r} leaves no images in the {part} part; use a larger subset")
        index = np.asarray(index, np.int64)
        parts[part] = (*task.arrays(data.images[index], index, part), index)
    return TaskData(
        task=task,
        x_train=parts["train"][0], y_train=parts["train"][1], train_index=parts["train"][2],
        x_val=parts["val"][0], y_val=parts["val"][1], val_index=parts["val"][2],
        x_test=parts["test"][0], y_test=parts["test"][1], test_index=parts["test"][2],
        fingerprint=data.fingerprint,
        source=data.source,
        split=split_digest(split),
    )


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one epoch of ``n`` images (the last one may be short)."""
    return math.ceil(validate.positive_int(n, "n") / validate.positive_int(batch_size, "batch_size"))


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` training images: a permutation seeded by (seed, epoch).

    Example:
        >>> bool(np.array_equal(epoch_order(5, 0, 3), epoch_order(5, 0, 3))), sorted(epoch_order(5, 0, 1).tolist())
        (True, [0, 1, 2, 3, 4])
    """
    return np.random.default_rng([validate.non_negative_int(seed, "seed"), epoch]).permutation(n)


def training_batches(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    first_epoch: int = 0,
    corrupt: Callable[[np.ndarray, tuple[int, int, int]], np.ndarray | None] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless ``(x, y)`` training batches, epoch after epoch, starting at ``first_epoch``.

    Epoch ``e`` visits the images in :func:`epoch_order` ``(n, seed, e)``, in
    :func:`steps_per_epoch` batches. With ``corrupt`` (a task's
    :meth:`Task.corrupt`), each input batch is replaced by
    ``corrupt(x_batch, (seed, e, batch number))`` where that returns an array.
    Give Keras ``steps_per_epoch`` so that it keeps one iterator across epochs.

    Example:
        >>> x = np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1)
        >>> a = training_batches(x, x, batch_size=4, seed=1, first_epoch=2)
        >>> b = training_batches(x, x, batch_size=4, seed=1)
        >>> _ = next(b), next(b)
        >>> bool(np.array_equal(next(a)[0], next(b)[0]))
        True
    """
    batch_size = validate.positive_int(batch_size, "batch_size")
    n = len(x)
    steps = steps_per_epoch(n, batch_size)
    epoch = validate.non_negative_int(first_epoch, "first_epoch")
    while True:
        order = epoch_order(n, seed, epoch)
        for step in range(steps):
            pick = np.sort(order[step * batch_size : (step + 1) * batch_size])
            xb = x[pick]
            yb = xb if y is x else y[pick]
            changed = None if corrupt is None else corrupt(xb, (seed, epoch, step))
            yield (xb if changed is None else changed), yb
        epoch += 1


def profile_usage(data, task_data: TaskData, split) -> tuple[list[dict], dict]:
    """How many images of each part of the split this build's profile uses.

    Args:
        data: the pooled :class:`cae_lib.data.CifarData`.
        task_data: this build's :class:`TaskData`.
        split: the :class:`cae_lib.data.Split` the task data was cut from.

    Returns:
        ``(rows, facts)``: one row per part (images in the split, images used),
        and ``n_images``, ``n_train``, ``n_val``, ``n_test``, ``used_train``,
        ``used_val``, ``used_test``, ``used_test_counts`` (images per class in
        the test part, as text: one number, or a range).
    """
    parts = {"train": split.train, "validation": split.val, "test": split.test}
    used = {"train": task_data.train_index, "validation": task_data.val_index, "test": task_data.test_index}
    for part, index in used.items():
        if not np.isin(index, parts[part]).all():
            raise ValueError(f"the {part} images used are not all in the split's {part} part")
    counts = np.bincount(data.labels[task_data.test_index], minlength=len(data.class_names))
    rows = [{"part": p, "images in the split": len(parts[p]), "images the runs use": len(used[p])} for p in parts]
    facts = {
        "n_images": len(data.images),
        "n_train": len(parts["train"]), "n_val": len(parts["validation"]), "n_test": len(parts["test"]),
        "used_train": len(used["train"]), "used_val": len(used["validation"]), "used_test": len(used["test"]),
        "used_test_counts": str(counts.min()) if counts.min() == counts.max() else f"{counts.min()} to {counts.max()}",
    }
    return rows, facts
