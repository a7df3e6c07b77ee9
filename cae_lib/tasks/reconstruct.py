"""The reconstruction task: RGB in [0, 1] in, the same RGB out.

Inputs and targets are one float32 array in memory. Scored by
:func:`cae_lib.metrics.reconstruction_metrics` (MSE, PSNR, SSIM) against the
targets.

Example:
    >>> import numpy as np
    >>> x, y = Reconstruct().arrays(np.full((1, 2, 2, 3), 255, np.uint8), np.arange(1), "train")
    >>> x is y, float(x.max())
    (True, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cae_lib import metrics
from cae_lib.data import to_float
from cae_lib.tasks.base import Task, register

__all__ = ["Reconstruct"]


@register("reconstruct")
@dataclass(frozen=True)
class Reconstruct(Task):
    """Give the image back: the autoencoder's own task (chapters 1 and 2)."""

    description = "RGB in, the same RGB out"

    def arrays(self, images, index, part):
        x = to_float(images)
        return x, x

    def score(self, data, pred: np.ndarray) -> dict[str, float]:
        return metrics.reconstruction_metrics(data.y_test, pred)
