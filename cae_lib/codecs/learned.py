"""A learned codec: a rate-distortion model's rounded latent, range-coded under its learned density, in a file.

:class:`LearnedCodec` takes a model trained on the task
:class:`~cae_lib.tasks.compress.RateDistortion` and turns it into a codec of
real files (:mod:`cae_lib.codecs.container`): the encoder's latent, rounded
and clipped into each channel's support, coded channel by channel with the
range coder of :mod:`cae_lib.entropy` under the tables of the model's own
:class:`~cae_lib.entropy_models.EntropyBottleneck`. Its
:meth:`~LearnedCodec.decode` turns a file back into exactly the image its
:meth:`~LearnedCodec.reconstruct` gives for the input (the same integers
through the same decoder), and :meth:`~LearnedCodec.estimated_bits` is the
rate the density predicts, to set beside the bytes written.

Images of any size: the model is rebuilt to take any height and width,
images are padded at the bottom and right (edge pixels repeated) to a
multiple of the encoder's downsampling and cropped after decoding.

Example:
    >>> import numpy as np
    >>> from cae_lib.models import CAESpec
    >>> from cae_lib.tasks.compress import build_rd_model
    >>> codec = LearnedCodec(build_rd_model(CAESpec(filters=(8, 4), pooling="stride"), 1e-3), "tiny")
    >>> x = np.full((1, 5, 7, 3), 128, np.uint8)
    >>> files = codec.encode(x)
    >>> codec.decode(files, (5, 7, 3)).shape
    (1, 5, 7, 3)
    >>> bool(np.array_equal(codec.decode(files, (5, 7, 3)), codec.reconstruct(x)))
    True
"""

from __future__ import annotations

import hashlib

import numpy as np

from cae_lib.codecs.base import Codec, register
from cae_lib.codecs.container import FormatError, header_size, pack, unpack
from cae_lib.data import to_float
from cae_lib.entropy import SymbolTables, channels_first

__all__ = ["LearnedCodec"]


@register("learned")
class LearnedCodec(Codec):
    """Files of a rate-distortion model's range-coded latent.

    Args:
        model: a model of :func:`cae_lib.tasks.compress.build_rd_model` (trained
            on :class:`~cae_lib.tasks.compress.RateDistortion`).
        name: the model's name, written into every file (1 to 255 ASCII characters).
        label: its row label in tables (default: ``name``).

    Raises:
        ValueError: the model has no entropy bottleneck.
    """

    family = "learned codec (factorized prior)"

    def __init__(self, model, name: str, label: str | None = None):
        from cae_lib.entropy_models import pmf_tables
        from cae_lib.models import decoder_of, encoder_of, spec_of
        from cae_lib.tasks.compress import BOTTLENECK, build_rd_model

        try:
            bottleneck = model.get_layer(BOTTLENECK)
        except ValueError:
            raise ValueError(
                f"model {model.name!r} has no {BOTTLENECK!r} layer: train it on task rate_distortion"
            ) from None
        self.spec = spec_of(model)
        flexible = build_rd_model(self.spec, bottleneck.rate_weight, name=model.name, flexible_size=True)
        flexible.set_weights(model.get_weights())
        self.encoder, self.decoder = encoder_of(flexible), decoder_of(flexible)
        self.tables = SymbolTables(*pmf_tables(flexible.get_layer(BOTTLENECK)))
        self.name_in_file = str(name)
        pack(self.name_in_file, (1, 1), b"", digest=b"")  # validates the name
        self._label = self.name_in_file if label is None else str(label)
        weights = hashlib.sha256()
        for w in flexible.get_weights():
            weights.update(np.ascontiguousarray(w).tobytes())
        for array in self.tables.to_arrays().values():
            weights.update(np.ascontiguousarray(array).tobytes())
        self.digest = weights.digest()

    def label(self) -> str:
        return self._label

    # ---- the latent
    def _padded(self, images) -> tuple[np.ndarray, tuple[int, int]]:
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 RGB (N, H, W, 3), got {images.dtype} {images.shape}")
        h, w = images.shape[1:3]
        d = self.spec.downsampling
        pad = ((0, 0), (0, -h % d), (0, -w % d), (0, 0))
        return np.pad(images, pad, mode="edge"), (h, w)

    def symbols(self, images) -> np.ndarray:
        """The rounded latent ``(N, h, w, C)`` of uint8 images, clipped into the tables' support (int64)."""
        padded, _ = self._padded(images)
        latent = np.asarray(self.encoder.predict(to_float(padded), verbose=0, batch_size=64), np.float32)
        q = np.rint(latent).astype(np.int64)
        return np.moveaxis(self.tables.clip(np.moveaxis(q, -1, 0)), 0, -1)

    def _decode_symbols(self, symbols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        out = self.decoder.predict(symbols.astype(np.float32), verbose=0, batch_size=64)
        return np.asarray(out, np.float32)[:, : shape[0], : shape[1], :]

    def reconstruct(self, images) -> np.ndarray:
        """What decoding the files of ``images`` gives: the decoder of the clipped, rounded latent."""
        _, shape = self._padded(images)
        return self._decode_symbols(self.symbols(images), shape)

    def estimated_bits(self, images) -> np.ndarray:
        """Bits per image the learned density predicts for the latent (payload alone, no header)."""
        return np.array([self.tables.bits(channels_first(s)) for s in self.symbols(images)])

    # ---- files
    def encode(self, images) -> list[bytes]:
        _, (h, w) = self._padded(images)
        return [pack(self.name_in_file, (h, w), self.tables.encode(channels_first(s)), digest=self.digest)
                for s in self.symbols(images)]

    def payload_size(self, data: bytes) -> int:
        return len(data) - header_size(data)

    def decode(self, payloads, image_shape=None) -> np.ndarray:
        """Images from files of this model (``image_shape`` is read from the files; if given, it is checked).

        Raises:
            cae_lib.codecs.container.FormatError: a file that is damaged, truncated, of
                another version or of another model, or files of different sizes.
        """
        shapes, latents = set(), []
        d = self.spec.downsampling
        for i, data in enumerate(payloads):
            name, shape, payload = unpack(data, digest=self.digest)
            if name != self.name_in_file:
                raise FormatError(
                    f"file {i} was written by model {name!r}; this codec is {self.name_in_file!r}")
            shapes.add(shape)
            h, w = -(-shape[0] // d), -(-shape[1] // d)
            symbols = self.tables.decode(payload, h * w)
            latents.append(np.moveaxis(symbols.reshape(self.tables.channels, h, w), 0, -1))
        if len(shapes) > 1:
            raise FormatError(f"the files hold images of different sizes {sorted(shapes)}: decode them apart")
        (shape,) = shapes
        if image_shape is not None and tuple(image_shape[:2]) != shape:
            raise FormatError(f"the files hold {shape[0]}x{shape[1]} images, not {image_shape[:2]}")
        return self._decode_symbols(np.stack(latents), shape)

