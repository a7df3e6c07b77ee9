"""Thumbnails as a codec: shrink each image by area averaging, keep the small uint8 image, enlarge it bicubically.

The ``k x k x C`` thumbnail is the code: :func:`resize_values` values, one byte
each. :class:`Thumbnail` is the byte-level codec; :func:`resize_codec` the same
round trip on float images, without the rounding to bytes.

Example:
    >>> x = np.full((1, 8, 8, 3), 128, np.uint8)
    >>> codec = Thumbnail(4)
    >>> [len(p) for p in codec.encode(x)], codec.label(), round(float(codec.decode(codec.encode(x), (8, 8, 3)).max()), 4)
    ([48], 'area down, bicubic up (4×4)', 0.502)
"""

from __future__ import annotations

import cv2
import numpy as np

from cae_lib import validate
from cae_lib.codecs.base import Codec, register
from cae_lib.data import to_float

__all__ = ["resize_values", "resize_codec", "Thumbnail", "THUMBNAIL_LABEL"]

#: The family label of thumbnails in tables and figures.
THUMBNAIL_LABEL = "area down, bicubic up"


def resize_values(k: int, channels: int = 3) -> int:
    """Values kept by :func:`resize_codec` at side ``k``: ``channels * k**2``.

    Example:
        >>> resize_values(18)
        972
    """
    return validate.positive_int(channels, "channels") * validate.positive_int(k, "k") ** 2


def resize_codec(x, k: int) -> np.ndarray:
    """Shrink each image to ``k x k`` by area averaging, enlarge it back bicubically.

    The ``k x k x C`` small image is the code (:func:`resize_values` values):
    OpenCV ``cv2.resize`` with ``INTER_AREA`` (each small pixel the mean of the
    large pixels it covers, fractionally for sizes that do not divide) down,
    ``INTER_CUBIC`` (bicubic, a = -0.75) back up, then clipped to [0, 1]
    (bicubic overshoots at edges). ``k`` equal to the image side returns the
    images themselves.

    Args:
        x: float images ``(N, H, W, C)`` in [0, 1].
        k: side of the small image, ``1 <= k <= min(H, W)``.

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1].

    Raises:
        ValueError: bad images or ``k`` out of range.

    Example:
        >>> import numpy as np
        >>> x = np.full((1, 8, 8, 3), 0.5, np.float32)
        >>> float(np.abs(resize_codec(x, 3) - x).max())
        0.0
    """
    arr = validate.float_images(x, "x").astype(np.float32, copy=False)
    n, h, w, c = arr.shape
    k = validate.positive_int(k, "k")
    if k > min(h, w):
        raise ValueError(f"k must be at most the image size min(H, W) = {min(h, w)}; got {k}")
    out = np.empty_like(arr)
    for i in range(n):  # cv2 per image: ~40 us each for 32x32x3
        small = cv2.resize(arr[i], (k, k), interpolation=cv2.INTER_AREA)
        out[i] = _enlarge(small, h, w, c)
    return np.clip(out, 0.0, 1.0, out=out)


def _enlarge(small: np.ndarray, h: int, w: int, c: int) -> np.ndarray:
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, c)


@register("thumbnail")
class Thumbnail(Codec):
    """A ``side x side`` uint8 thumbnail per image (area down), enlarged bicubically back (clipped to [0, 1]).

    Args:
        side: the thumbnail's side ``k`` (at most the images' shorter side).
    """

    family = THUMBNAIL_LABEL

    def __init__(self, side: int):
        self.side = validate.positive_int(side, "Thumbnail.side")

    def label(self) -> str:
        return f"{THUMBNAIL_LABEL} ({self.side}×{self.side})"

    def values_kept(self, image_shape) -> int:
        return resize_values(self.side, image_shape[-1])

    def encode(self, images) -> list[bytes]:
        arr = np.asarray(images)
        if arr.dtype != np.uint8 or arr.ndim != 4:
            raise ValueError(f"images must be uint8 (N, H, W, C), got {arr.dtype} {arr.shape}")
        if self.side > min(arr.shape[1:3]):
            raise ValueError(f"side must be at most the image size min(H, W) = {min(arr.shape[1:3])}; got {self.side}")
        k = self.side
        return [np.ascontiguousarray(cv2.resize(im, (k, k), interpolation=cv2.INTER_AREA)).tobytes() for im in arr]

    def decode(self, payloads, image_shape) -> np.ndarray:
        h, w, c = image_shape
        k = self.side
        out = np.empty((len(payloads), h, w, c), np.float32)
        for i, p in enumerate(payloads):
            if len(p) != k * k * c:
                raise ValueError(f"payload {i} has {len(p)} bytes; a {k}x{k}x{c} thumbnail has {k * k * c}")
            small = to_float(np.frombuffer(p, np.uint8).reshape(k, k, c))
            out[i] = _enlarge(small, h, w, c)
        return np.clip(out, 0.0, 1.0, out=out)
