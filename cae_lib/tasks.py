"""What a task feeds the network: inputs, targets, the profile's subset, and the batches.

Every task starts from the same pooled CIFAR-10 images and the same
stratified 80/10/10 split (:mod:`cae_lib.data`); a task says what goes in and
what should come out:

============  =====================================  ==========================================
task          input                                   target
============  =====================================  ==========================================
reconstruct   RGB in [0, 1]                           the same RGB (one array in memory)
colorize      L*/100, one channel                     a*/128, b*/128 (:mod:`cae_lib.color`)
denoise       RGB + Gaussian noise of sigma, clipped  the clean RGB
============  =====================================  ==========================================

For ``denoise`` the training inputs are drawn afresh for every batch of every
epoch, from a generator seeded by (run seed, epoch, batch), so no two epochs
see the same noise and a resumed run sees exactly the noise an uninterrupted
one would. Validation and test noise is fixed: each image's noise is drawn
from a generator seeded by (:data:`NOISE_SEED`, the image's index in the
pooled data set), so it never changes between calls, builds or profiles.

:func:`training_batches` is the input pipeline of every run: a generator of
``(x, y)`` batches whose order for epoch ``e`` is a permutation seeded by
(seed, e) alone, so epoch ``e`` is the same whether training started at epoch
0 or resumed at ``e``. Arrays are scaled once when :func:`task_data` builds
them; batches are views gathered from them (no per-epoch copy of the data).

Adding a task is one entry in :data:`TASKS` and one branch in :func:`_arrays`.
Importing this module imports neither TensorFlow nor Keras.

Example:
    >>> TASKS["colorize"].input_channels, TASKS["colorize"].output_channels
    (1, 2)
    >>> x = np.zeros((4, 2, 2, 3), np.float32)
    >>> batches = training_batches(x, x, batch_size=3, seed=0)
    >>> [len(b[0]) for b in (next(batches), next(batches), next(batches))]
    [3, 1, 3]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from cae_lib import color, validate
from cae_lib.data import load_data, split_digest, split_indices, stratified_subset, to_float
from cae_lib.profiles import Profile, get_profile

__all__ = [
    "Task",
    "TASKS",
    "NOISE_SEED",
    "TaskData",
    "task_data",
    "fixed_noise",
    "training_batches",
    "steps_per_epoch",
]

#: Seed of the fixed validation and test noise of the denoise task.
NOISE_SEED = 2016


@dataclass(frozen=True)
class Task:
    """What one task asks of a network.

    Attributes:
        name: the task's key in :data:`TASKS`.
        input_channels: channels the network takes.
        output_channels: channels of the target.
        target_range: the interval the targets lie in.
        description: one line for tables.
    """

    name: str
    input_channels: int
    output_channels: int
    target_range: tuple[float, float]
    description: str


TASKS: dict[str, Task] = {
    "reconstruct": Task("reconstruct", 3, 3, (0.0, 1.0), "RGB in, the same RGB out"),
    "colorize": Task("colorize", 1, 2, (-1.0, 1.0), "L*/100 in, a*/128 and b*/128 out"),
    "denoise": Task("denoise", 3, 3, (0.0, 1.0), "noisy RGB in, clean RGB out"),
}


def get_task(name: str) -> Task:
    """The :class:`Task` called ``name``; ``ValueError`` listing the known ones otherwise."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {tuple(TASKS)}, got {name!r}")
    return TASKS[name]


def check_noise(task: str, noise_sigma) -> float | None:
    """Validate the noise level of ``task``: a positive sigma for ``denoise``, ``None`` otherwise."""
    if task == "denoise":
        return validate.positive_float(noise_sigma, "noise_sigma (the denoise task's noise level, e.g. 0.1)")
    if noise_sigma is not None:
        raise ValueError(f"noise_sigma is only meaningful for task 'denoise', not {task!r}; leave it None")
    return None


@dataclass(frozen=True)
class TaskData:
    """Network-ready arrays for one task, profile and split.

    For ``reconstruct``, ``x`` and ``y`` are the same float32 arrays (one
    copy). For ``denoise``, ``x_train is y_train`` too: training noise is
    added batch by batch (:func:`training_batches`); ``x_val`` and ``x_test``
    hold the fixed noisy inputs. ``*_index`` are indices into the pooled data.

    Attributes:
        task: the task's name.
        x_train, y_train, x_val, y_val, x_test, y_test: float32 arrays.
        train_index, val_index, test_index: int64 indices into the pooled images.
        fingerprint: the data's fingerprint (:attr:`cae_lib.data.CifarData.fingerprint`).
        source: where the data came from.
        split: SHA-256 of the split's index arrays (:func:`cae_lib.data.split_digest`).
        noise_sigma: the denoise task's noise level (``None`` for other tasks).
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
    split: str
    noise_sigma: float | None = None

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


def fixed_noise(index, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """The fixed Gaussian noise (float32) of the images with pooled indices ``index``.

    Image ``i``'s noise comes from a generator seeded by ``(NOISE_SEED, i)``,
    so it is the same in every call, profile and subset.

    Example:
        >>> a = fixed_noise([5, 7], (2, 2, 3), 0.1)
        >>> b = fixed_noise([7], (2, 2, 3), 0.1)
        >>> bool(np.array_equal(a[1], b[0])), a.shape
        (True, (2, 2, 2, 3))
    """
    sigma = validate.positive_float(sigma, "sigma")
    index = np.asarray(index, dtype=np.int64)
    out = np.empty((len(index), *shape), dtype=np.float32)
    for k, i in enumerate(index):
        out[k] = np.random.default_rng([NOISE_SEED, int(i)]).normal(0.0, sigma, shape)
    return out


def add_noise(clean: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``clean + noise``, clipped to [0, 1], as float32."""
    return np.clip(clean + noise, 0.0, 1.0, dtype=np.float32)


def _arrays(task: str, images: np.ndarray, index: np.ndarray, part: str, noise_sigma):
    if task == "reconstruct":
        x = to_float(images)
        return x, x
    if task == "colorize":
        return color.lab_to_model(color.rgb_to_lab(images))
    clean = to_float(images)
    if part == "train":
        return clean, clean
    return add_noise(clean, fixed_noise(index, clean.shape[1:], noise_sigma)), clean


def task_data(
    task: str,
    profile: str | Profile | None = None,
    *,
    split_seed: int = 0,
    data=None,
    noise_sigma: float | None = None,
) -> TaskData:
    """Split, subset (by profile) and scale the data for a task.

    Args:
        task: a key of :data:`TASKS`.
        profile: a profile or its name (default: ``CAE_PROFILE``).
        split_seed: seed of :func:`cae_lib.data.split_indices`.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`cae_lib.data.load_data`).
        noise_sigma: the noise level of ``denoise`` (required there, refused elsewhere).

    Returns:
        A :class:`TaskData`.

    Raises:
        ValueError: an unknown task, a bad noise level, or a profile that
            leaves a part of the split without images.
    """
    get_task(task)
    noise_sigma = check_noise(task, noise_sigma)
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    data = load_data() if data is None else data
    split = split_indices(data.labels, seed=split_seed)
    parts = {}
    for part, per_class in (("train", prof.train_per_class), ("val", prof.val_per_class), ("test", prof.test_per_class)):
        index = getattr(split, part)
        if per_class is not None:
            index = stratified_subset(index, data.labels, per_class, seed=split_seed)
        if len(index) == 0:
            raise ValueError(f"profile {prof.name!r} leaves no images in the {part} part; use a larger subset")
        parts[part] = (*_arrays(task, data.images[index], index, part, noise_sigma), np.asarray(index, np.int64))
    return TaskData(
        task=task,
        x_train=parts["train"][0], y_train=parts["train"][1], train_index=parts["train"][2],
        x_val=parts["val"][0], y_val=parts["val"][1], val_index=parts["val"][2],
        x_test=parts["test"][0], y_test=parts["test"][1], test_index=parts["test"][2],
        fingerprint=data.fingerprint,
        source=data.source,
        split=split_digest(split),
        noise_sigma=noise_sigma,
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
    noise_sigma: float | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless ``(x, y)`` training batches, epoch after epoch, starting at ``first_epoch``.

    Epoch ``e`` visits the images in :func:`epoch_order` ``(n, seed, e)``, in
    :func:`steps_per_epoch` batches. With ``noise_sigma``, each input batch
    is ``x`` plus Gaussian noise drawn from a generator seeded by
    ``(seed, e, batch number)``, clipped to [0, 1]. Give Keras
    ``steps_per_epoch`` so that it keeps one iterator across epochs.

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
            xb, yb = x[pick], (y[pick] if y is not x else None)
            if noise_sigma is not None:
                noise = np.random.default_rng([seed, epoch, step]).normal(0.0, noise_sigma, xb.shape)
                yb = xb
                xb = add_noise(xb, noise.astype(np.float32))
            yield xb, (xb if yb is None else yb)
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
