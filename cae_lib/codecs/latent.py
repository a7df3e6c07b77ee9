"""A trained autoencoder as a codec: its latent as float32 bytes, decoded by its decoder.

What chapter 2's "values kept" means in bits: each latent value is a 32-bit
float, so the given network's 8×8×16 latent takes 32 bits per pixel, more than
the 24 of the 8-bit RGB image it encodes. Networks with skip connections are
refused: their decoder sees more than the latent.

Example:
    >>> import numpy as np
    >>> from cae_lib.models import given_cae
    >>> codec = LatentCodec(given_cae(), "given")
    >>> x = np.zeros((2, 32, 32, 3), np.uint8)
    >>> [len(p) for p in codec.encode(x)], codec.values_kept((32, 32, 3))
    ([4096, 4096], 1024)
"""

from __future__ import annotations

import numpy as np

from cae_lib.codecs.base import Codec, register
from cae_lib.data import to_float

__all__ = ["LatentCodec"]


@register("latent")
class LatentCodec(Codec):
    """The encoder's output of a :func:`cae_lib.models.build_cae` model as little-endian float32, per image.

    Args:
        model: a trained autoencoder without skip connections.
        label: its name in tables.

    Raises:
        ValueError: the model has skip connections.
    """

    family = "learned, float32 latent"

    def __init__(self, model, label: str = "autoencoder"):
        from cae_lib.models import decoder_of, encoder_of, spec_of

        spec = spec_of(model)
        if spec.skips != "none":
            raise ValueError("a model with skip connections is no codec: its decoder sees more than the latent")
        self.spec, self.encoder, self.decoder, self._label = spec, encoder_of(model), decoder_of(model), str(label)

    def label(self) -> str:
        return self._label

    def values_kept(self, image_shape) -> int:
        return self.spec.latent_size

    def encode(self, images) -> list[bytes]:
        latent = np.asarray(self.encoder.predict(to_float(images), verbose=0), dtype="<f4")
        return [z.tobytes() for z in latent]

    def decode(self, payloads, image_shape) -> np.ndarray:
        shape = self.spec.latent_shape
        size = 4 * int(np.prod(shape))
        for i, p in enumerate(payloads):
            if len(p) != size:
                raise ValueError(f"payload {i} has {len(p)} bytes; this latent has {size}")
        latent = np.frombuffer(b"".join(payloads), dtype="<f4").reshape(len(payloads), *shape)
        return np.asarray(self.decoder.predict(latent, verbose=0), dtype=np.float32)
