"""Photographs that ship with scikit-image: real images beside CIFAR-10, and nothing to download.

Chapter 3 colorizes them, chapter 4 denoises one, chapter 6 cuts them into
CIFAR-sized tiles (:func:`photo_tiles`). They were never part of the training
data.

Example:
    >>> sample_photographs(["coffee"])["coffee"].shape
    (400, 600, 3)
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOGRAPHS", "sample_photographs", "photo_tiles"]

#: Colour photographs that ship with scikit-image (nothing is downloaded).
PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket")


def sample_photographs(names=PHOTOGRAPHS) -> dict:
    """scikit-image's sample colour photographs by name, as uint8 RGB (needs scikit-image)."""
    from skimage import data as samples

    return {name: np.ascontiguousarray(getattr(samples, name)()[..., :3]) for name in names}


def photo_tiles(size: int = 32, scale: int = 2, names=PHOTOGRAPHS) -> np.ndarray:
    """Every whole ``size`` x ``size`` tile of the photographs, shrunk ``scale`` times by area first; uint8.

    Area averaging (OpenCV's ``INTER_AREA``) makes the tiles' detail closer to
    CIFAR-10's and removes any JPEG block structure the photographs carry.
    Tiles are cut on a grid from each photograph's top-left corner, row by row,
    photograph by photograph, so the result is the same everywhere.

    Example:
        >>> photo_tiles(names=["coffee"]).shape  # 400 x 600 -> 200 x 300: 6 x 9 tiles
        (54, 32, 32, 3)
    """
    import cv2

    from cae_lib import validate

    size, scale = validate.positive_int(size, "size"), validate.positive_int(scale, "scale")
    tiles = []
    for photo in sample_photographs(names).values():
        h, w = photo.shape[0] // scale, photo.shape[1] // scale
        small = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        tiles += [small[r:r + size, c:c + size] for r in range(0, h - size + 1, size)
                  for c in range(0, w - size + 1, size)]
    if not tiles:
        raise ValueError(f"no photograph holds a whole {size} x {size} tile after shrinking {scale} times")
    return np.stack(tiles)
