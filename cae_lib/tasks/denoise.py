"""The denoising task: RGB plus Gaussian noise of ``sigma``, clipped to [0, 1], in; the clean RGB out.

Training inputs are drawn afresh for every batch of every epoch, from a
generator seeded by (run seed, epoch, batch), so no two epochs see the same
noise and a resumed run sees exactly the noise an uninterrupted one would.
Validation and test noise is fixed: each image's noise is drawn from a
generator seeded by (:data:`NOISE_SEED`, the image's index in the pooled data
set), so it never changes between calls, builds or profiles.

Example:
    >>> import numpy as np
    >>> task = Denoise(sigma=0.1)
    >>> x, y = task.arrays(np.full((2, 4, 4, 3), 128, np.uint8), np.arange(2), "test")
    >>> x.shape, bool((x != y).any()), task.label()
    ((2, 4, 4, 3), True, 'denoise (sigma=0.1)')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cae_lib import validate
from cae_lib.data import to_float
from cae_lib.tasks.base import register
from cae_lib.tasks.reconstruct import Reconstruct

__all__ = ["Denoise", "NOISE_SEED", "fixed_noise", "add_noise"]

#: Seed of the fixed validation and test noise.
NOISE_SEED = 2016


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


@register("denoise")
@dataclass(frozen=True)
class Denoise(Reconstruct):
    """Remove additive Gaussian noise (chapter 4); scored like a reconstruction, against the clean images.

    Attributes:
        sigma: the noise's standard deviation on the [0, 1] scale.
    """

    sigma: float
    description = "noisy RGB in, clean RGB out"

    def __post_init__(self):
        object.__setattr__(self, "sigma", validate.positive_float(self.sigma, "Denoise.sigma (the noise level, e.g. 0.1)"))

    def arrays(self, images, index, part):
        clean = to_float(images)
        if part == "train":  # noise is drawn per batch (corrupt)
            return clean, clean
        return add_noise(clean, fixed_noise(index, clean.shape[1:], self.sigma)), clean

    def corrupt(self, x, key):
        noise = np.random.default_rng(list(key)).normal(0.0, self.sigma, x.shape)
        return add_noise(x, noise.astype(np.float32))
