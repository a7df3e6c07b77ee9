"""Photographs that ship with scikit-image: real images beside CIFAR-10, and nothing to download.

Chapter 3 colorizes them, chapter 4 denoises one. They were never part of the
training data.

Example:
    >>> sample_photographs(["coffee"])["coffee"].shape
    (400, 600, 3)
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOGRAPHS", "sample_photographs"]

#: Colour photographs that ship with scikit-image (nothing is downloaded).
PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket")


def sample_photographs(names=PHOTOGRAPHS) -> dict:
    """scikit-image's sample colour photographs by name, as uint8 RGB (needs scikit-image)."""
    from skimage import data as samples

    return {name: np.ascontiguousarray(getattr(samples, name)()[..., :3]) for name in names}
