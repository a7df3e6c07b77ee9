"""The Codec interface: images to one ``bytes`` per image and back, and the record every codec is measured by.

In the spirit of CompressAI's ``utils/bench/codecs.py``: a codec is a small
object with :meth:`Codec.encode` (a batch of uint8 images to one ``bytes``
object per image) and :meth:`Codec.decode` (back to float images in [0, 1]);
:func:`measure` runs one through the test part of a reconstruction task and
returns the one record every codec and every learned model share: the rate
in bits per pixel from the real byte count, the values kept where that means
something, and :func:`cae_lib.evaluation.prediction_metrics`. A codec holds
no state across images beyond what it was built with (a fitted PCA basis, a
trained network), so the byte counts are what a user would store per image,
given the codec.

A new codec is one module: a :class:`Codec` subclass, registered by name
with :func:`register`.

Example:
    >>> import numpy as np
    >>> class Raw(Codec):
    ...     family = "raw"
    ...     def encode(self, images):
    ...         return [im.tobytes() for im in images]
    ...     def decode(self, payloads, image_shape):
    ...         return np.stack([np.frombuffer(p, np.uint8).reshape(image_shape) for p in payloads]) / np.float32(255)
    >>> x = np.zeros((2, 4, 4, 3), np.uint8)
    >>> round(bits_per_pixel(Raw().encode(x), x.shape), 1)
    24.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from cae_lib.registry import Registry

__all__ = ["Codec", "CODECS", "register", "get_codec", "bits_per_pixel", "measure", "measure_all", "by_family",
           "rows_at", "RATES"]

#: The rate axes a record carries: values kept per image (a float each), bits per pixel (real bytes) and
#: bits per pixel of the entropy-coded payload alone (:meth:`Codec.payload_size`).
RATES = {"latent_size": "values kept per image", "bpp": "bits per pixel",
         "bpp_payload": "bits per pixel, entropy-coded payload alone"}


class Codec:
    """Images to bytes and back.

    Class attributes:
        name: the registered name (set by :func:`register`).
        family: the curve the codec belongs to in a figure (e.g. ``"PCA"``).
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""

    def label(self) -> str:
        """The codec's row label, e.g. ``"PCA (256 components)"``."""
        return self.family

    def encode(self, images: np.ndarray) -> list[bytes]:
        """One ``bytes`` object per image of a uint8 batch ``(N, H, W, C)``."""
        raise NotImplementedError

    def decode(self, payloads: Sequence[bytes], image_shape: tuple[int, int, int]) -> np.ndarray:
        """float32 images ``(N, H, W, C)`` in [0, 1] from :meth:`encode`'s output."""
        raise NotImplementedError

    def payload_size(self, data: bytes) -> int:
        """The bytes of the entropy-coded payload alone, without headers or tables (a file format's codec overrides it).

        The default is the whole of ``data``: a codec whose output is all payload.

        Example:
            >>> Codec().payload_size(b"abc")
            3
        """
        return len(data)

    def values_kept(self, image_shape: tuple[int, int, int]) -> int | None:
        """Values per image the code holds (``None`` where that means nothing, as for an entropy-coded file)."""
        return None


#: The registered codecs, by name (a :class:`cae_lib.registry.Registry`).
CODECS = Registry("codec", Codec)
#: Class decorator: register a :class:`Codec` subclass under a name (a CLI or a bench finds it there).
register = CODECS.register
#: The :class:`Codec` class registered under a name; ``ValueError`` listing the known ones otherwise.
get_codec = CODECS.get


def bits_per_pixel(payloads: Sequence[bytes], shape: Sequence[int]) -> float:
    """Mean bits per pixel of ``payloads`` for images of ``shape`` ``(N, H, W, C)``: ``8 * bytes / (N * H * W)``.

    Example:
        >>> bits_per_pixel([b"ab", b"cd"], (2, 2, 2, 3))
        4.0
    """
    n, h, w = (int(s) for s in shape[:3])
    if len(payloads) != n:
        raise ValueError(f"{len(payloads)} payloads for {n} images")
    return 8.0 * sum(len(p) for p in payloads) / (n * h * w)


def _uint8_images(data) -> np.ndarray:
    from cae_lib.data import to_uint8

    return to_uint8(data.x_test)


#: The metrics a codec record keeps (keys of :func:`cae_lib.metrics.reconstruction_metrics`).
_RECORD_METRICS = ("mse", "psnr_global_db", "psnr_mean_db", "ssim")


def measure(codec: Codec, data) -> dict:
    """The record of one codec on the test part of a reconstruction task's data.

    Args:
        codec: the codec.
        data: a :class:`cae_lib.tasks.TaskData` whose test inputs are the images
            themselves (:class:`cae_lib.tasks.Reconstruct`); they are turned back
            into the uint8 images they were scaled from.

    Returns:
        ``{"codec", "family", "latent_size", "bpp", "bpp_payload", "bytes_per_image", "mse",
        "psnr_global_db", "psnr_mean_db", "ssim"}``; ``latent_size`` is the values kept (``None``
        where meaningless); ``bpp`` counts whole payloads, ``bpp_payload`` their
        :meth:`Codec.payload_size` (the same, but for file formats with headers).

    Raises:
        ValueError: the codec's output is not one payload per image, or its decoding has another shape.
    """
    from cae_lib.evaluation import prediction_metrics

    images = _uint8_images(data)
    payloads = codec.encode(images)
    if len(payloads) != len(images) or not all(isinstance(p, bytes) for p in payloads):
        raise ValueError(f"codec {codec.label()!r} must return one bytes object per image")
    decoded = codec.decode(payloads, images.shape[1:])
    scores = prediction_metrics(data, np.asarray(decoded, dtype=np.float32))
    return {
        "codec": codec.label(),
        "family": codec.family,
        "latent_size": codec.values_kept(images.shape[1:]),
        "bpp": bits_per_pixel(payloads, images.shape),
        "bpp_payload": 8.0 * sum(codec.payload_size(p) for p in payloads) / int(np.prod(images.shape[:3])),
        "bytes_per_image": sum(len(p) for p in payloads) / len(payloads),
        **{k: scores[k] for k in _RECORD_METRICS},
    }


def measure_all(codecs: Sequence[Codec], data) -> list[dict]:
    """:func:`measure` of each codec, in order."""
    return [measure(codec, data) for codec in codecs]


def by_family(rows: Sequence[dict]) -> dict[str, list[dict]]:
    """Records grouped into curves by their ``family``, in order of first appearance.

    Example:
        >>> list(by_family([{"family": "a"}, {"family": "b"}, {"family": "a"}]))
        ['a', 'b']
    """
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["family"], []).append(row)
    return out


def rows_at(rows: Sequence[dict], sizes, rate: str = "latent_size") -> list[dict]:
    """The records whose ``rate`` is one of ``sizes``.

    Example:
        >>> rows_at([{"latent_size": 4}, {"latent_size": 8}], (8,))
        [{'latent_size': 8}]
    """
    return [row for row in rows if row[rate] in sizes]
