"""Small TaskData built in memory, for tests that score predictions without loading CIFAR-10."""

import numpy as np

from cae_lib import color
from cae_lib.tasks import Colorize, TaskData


def synthetic(task, x_test, y_test, x_train=None, y_train=None) -> TaskData:
    """A TaskData of ``task`` whose test part is ``(x_test, y_test)`` (train and validation: the same, or given)."""
    x_train = x_test if x_train is None else x_train
    y_train = y_test if y_train is None else y_train
    return TaskData(
        task=task, x_train=x_train, y_train=y_train, x_val=x_test, y_val=y_test, x_test=x_test, y_test=y_test,
        train_index=np.arange(len(x_train)), val_index=np.arange(len(x_test)), test_index=np.arange(len(x_test)),
        fingerprint="synthetic", source="synthetic", split="synthetic",
    )


def colorize_data(n_train=6, n_test=4, size=16, seed=0):
    """A tiny TaskData for 'colorize' built from random RGB images, as task_data() scales them."""
    rng = np.random.default_rng(seed)
    parts = {}
    for part, n in (("train", n_train), ("val", 2), ("test", n_test)):
        rgb = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
        parts[part] = color.lab_to_model(color.rgb_to_lab(rgb))
    return TaskData(
        task=Colorize(),
        x_train=parts["train"][0], y_train=parts["train"][1],
        x_val=parts["val"][0], y_val=parts["val"][1],
        x_test=parts["test"][0], y_test=parts["test"][1],
        train_index=np.arange(n_train), val_index=np.arange(2), test_index=np.arange(n_test),
        fingerprint="synthetic", source="random uint8", split="synthetic",
    )
