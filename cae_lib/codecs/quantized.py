"""Codecs of quantized, entropy-coded values that were not trained for bits: PCA coefficients and autoencoder latents.

Two baselines of the compression chapter, both coded into real bytes with the
range coder of :mod:`cae_lib.entropy`:

- :class:`QuantizedPCA`, the classical transform code: the PCA coefficients
  (the Karhunen-Loeve transform that JPEG's DCT approximates) divided by one
  step size for all of them, rounded, and coded under a zero-mean Laplace
  density per coefficient whose scale was measured on the training part.
  One step for every coefficient is the high-rate optimum for squared error;
  coefficients far below the step cost almost nothing. A curve is a sweep of
  steps (:func:`quantized_pca_codecs`).
- :class:`QuantizedLatent`, a chapter-2 autoencoder "as it is": each latent
  channel cut into ``2**bits`` uniform levels between its smallest and
  largest value on the training part, the levels coded under one table per
  channel counted on the training part (:meth:`cae_lib.entropy.SymbolTables.fit`).

Neither writes a header: the payload is all a file would hold beyond what the
codec is built with (basis, step, scales, tables), like the chapter-2 codecs.

Example:
    >>> import numpy as np
    >>> from cae_lib.codecs.pca import fit_pca
    >>> x = np.random.default_rng(0).random((50, 2, 2, 3), dtype=np.float32)
    >>> codec = QuantizedPCA.fit(fit_pca(x, 12, solver="full"), x, step=0.05)
    >>> images = (x[:3] * 255).astype(np.uint8)
    >>> out = codec.decode(codec.encode(images), (2, 2, 3))
    >>> out.shape, bool(np.abs(out - codec.reconstruct(images)).max() == 0)
    ((3, 2, 2, 3), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cae_lib import validate
from cae_lib.codecs.base import Codec, register
from cae_lib.data import to_float
from cae_lib.entropy import LaplaceCoder, SymbolTables, channels_first

__all__ = ["QuantizedPCA", "quantized_pca_codecs", "mean_abs_coefficients", "QuantizedLatent", "PCA_STEPS"]

#: Step sizes of the PCA coefficients (on the [0, 1] pixel scale) for a curve from about 0.3 to 6 bits per pixel.
PCA_STEPS = (0.4, 0.25, 0.16, 0.1, 0.065, 0.04, 0.025, 0.016)
#: The smallest Laplace scale (in steps) a coefficient gets: the coder needs a positive one.
_MIN_SCALE = 0.02
#: Images coded per batch of the encoder network.
_BATCH = 256


@register("quantized_pca")
class QuantizedPCA(Codec):
    """PCA coefficients quantized with one step size and coded under a Laplace density each.

    Args:
        basis: a fitted :class:`cae_lib.codecs.pca.PCABasis`.
        step: the quantization step of every coefficient (pixels in [0, 1]).
        mean_abs: the mean magnitude of each coefficient on the training part
            (the Laplace scale's maximum-likelihood estimate); see :meth:`fit`.

    Raises:
        ValueError: a non-positive step, or one ``mean_abs`` per component missing.
    """

    family = "PCA, quantized and entropy-coded"

    def __init__(self, basis, step: float, mean_abs):
        self.basis = basis
        self.step = validate.positive_float(step, "QuantizedPCA.step")
        mean_abs = np.asarray(mean_abs, np.float64).reshape(-1)
        if mean_abs.shape != (basis.n_values,) or not np.isfinite(mean_abs).all():
            raise ValueError(f"mean_abs must hold one finite value per component ({basis.n_values})")
        self.scales = np.maximum(mean_abs / self.step, _MIN_SCALE)
        # no coefficient of an image in [0, 1] exceeds its distance from the mean image
        farthest = float(np.sqrt(np.square(np.maximum(basis.mean, 1.0 - basis.mean)).sum()))
        radius = int(np.ceil(farthest / self.step)) + 1
        self.coder = LaplaceCoder(radius=radius)

    @classmethod
    def fit(cls, basis, x_train, step: float) -> QuantizedPCA:
        """The codec at ``step`` with Laplace scales measured on float images ``x_train``."""
        return cls(basis, step, mean_abs_coefficients(basis, x_train))

    def label(self) -> str:
        return f"PCA, quantized (step {self.step:g})"

    def _symbols(self, images) -> np.ndarray:
        codes = self.basis.encode(to_float(images))
        return self.coder.clip(np.rint(codes / self.step))

    def reconstruct(self, images) -> np.ndarray:
        """What decoding ``images``' payloads gives."""
        return self.basis.decode(self._symbols(images) * np.float32(self.step)).astype(np.float32)

    def estimated_bits(self, images) -> np.ndarray:
        """Bits per image under the continuous Laplace densities (the model's estimate)."""
        return np.array([self.coder.bits(s, self.scales) for s in self._symbols(images)])

    def encode(self, images) -> list[bytes]:
        return [self.coder.encode(s, self.scales) for s in self._symbols(images)]

    def decode(self, payloads, image_shape) -> np.ndarray:
        codes = np.stack([self.coder.decode(p, self.scales) for p in payloads]).astype(np.float32)
        return self.basis.decode(codes * np.float32(self.step)).astype(np.float32)


def mean_abs_coefficients(basis, x_train) -> np.ndarray:
    """The mean magnitude of each PCA coefficient over float images ``x_train`` (in chunks)."""
    total = np.zeros(basis.n_values, np.float64)
    for start in range(0, len(x_train), 4096):
        total += np.abs(basis.encode(x_train[start : start + 4096])).sum(axis=0)
    return total / len(x_train)


def quantized_pca_codecs(basis, x_train, steps: Sequence[float] = PCA_STEPS) -> list[QuantizedPCA]:
    """:class:`QuantizedPCA` codecs at each step, sharing one measurement of the scales."""
    mean_abs = mean_abs_coefficients(basis, x_train)
    return [QuantizedPCA(basis, step, mean_abs) for step in steps]


@register("quantized_latent")
class QuantizedLatent(Codec):
    """An autoencoder's latent at ``bits`` per value, uniform levels per channel, range-coded per channel.

    Build it with :meth:`fit` (it measures each channel's range and counts the
    levels on training images).

    Args:
        model: a trained :func:`cae_lib.models.build_cae` model without skip connections.
        low, high: float32 ``(channels,)``, the range of each latent channel.
        tables: the :class:`~cae_lib.entropy.SymbolTables` of the levels.
        bits: bits per value before entropy coding (levels = ``2**bits``).
        label: the row label.
    """

    family = "autoencoder, latent quantized and entropy-coded"

    def __init__(self, model, low, high, tables: SymbolTables, bits: int = 8, label: str = "autoencoder"):
        from cae_lib.models import decoder_of, encoder_of, spec_of

        spec = spec_of(model)
        if spec.skips != "none":
            raise ValueError("a model with skip connections is no codec: its decoder sees more than the latent")
        self.bits = validate.positive_int(bits, "QuantizedLatent.bits")
        if self.bits > 16:
            raise ValueError(f"QuantizedLatent.bits must be at most 16, got {self.bits}")
        self.spec, self.encoder, self.decoder = spec, encoder_of(model), decoder_of(model)
        self.low = np.asarray(low, np.float32).reshape(-1)
        self.high = np.maximum(np.asarray(high, np.float32).reshape(-1), self.low + np.float32(1e-6))
        channels = spec.latent_shape[2]
        if self.low.shape != (channels,) or tables.channels != channels:
            raise ValueError(f"one range and one table per latent channel ({channels})")
        self.tables, self._label = tables, str(label)

    @classmethod
    def fit(cls, model, x_train, bits: int = 8, label: str = "autoencoder") -> QuantizedLatent:
        """Ranges and tables measured on float images ``x_train``."""
        from cae_lib.models import encoder_of

        latent = np.asarray(encoder_of(model).predict(x_train, batch_size=_BATCH, verbose=0), np.float32)
        low, high = latent.min(axis=(0, 1, 2)), latent.max(axis=(0, 1, 2))
        levels = 2 ** validate.positive_int(bits, "bits") - 1
        symbols = _levels(latent, low, np.maximum(high, low + 1e-6), levels)
        tables = SymbolTables.fit(np.moveaxis(symbols, -1, 0).reshape(latent.shape[-1], -1), support=(0, levels))
        return cls(model, low, high, tables, bits, label)

    def label(self) -> str:
        return f"{self._label}, {self.bits}-bit latent"

    def values_kept(self, image_shape) -> int:
        return self.spec.latent_size

    def _symbols(self, images) -> np.ndarray:
        latent = np.asarray(self.encoder.predict(to_float(images), batch_size=_BATCH, verbose=0), np.float32)
        return _levels(latent, self.low, self.high, 2**self.bits - 1)

    def _values(self, symbols) -> np.ndarray:
        step = (self.high - self.low) / np.float32(2**self.bits - 1)
        return (self.low + symbols.astype(np.float32) * step).astype(np.float32)

    def reconstruct(self, images) -> np.ndarray:
        """What decoding ``images``' payloads gives."""
        values = self._values(self._symbols(images))
        return np.asarray(self.decoder.predict(values, batch_size=_BATCH, verbose=0), np.float32)

    def estimated_bits(self, images) -> np.ndarray:
        """Bits per image under the counted tables (the ideal code length)."""
        return np.array([self.tables.bits(channels_first(s)) for s in self._symbols(images)])

    def encode(self, images) -> list[bytes]:
        return [self.tables.encode(channels_first(s)) for s in self._symbols(images)]

    def decode(self, payloads, image_shape) -> np.ndarray:
        h, w, c = self.spec.latent_shape
        symbols = np.stack([np.moveaxis(self.tables.decode(p, h * w).reshape(c, h, w), 0, -1) for p in payloads])
        return np.asarray(self.decoder.predict(self._values(symbols), batch_size=_BATCH, verbose=0), np.float32)


def _levels(latent, low, high, levels: int) -> np.ndarray:
    """Latent values to the nearest of ``levels + 1`` uniform levels per channel (int64)."""
    scaled = (latent - low) / (high - low) * levels
    return np.clip(np.rint(scaled), 0, levels).astype(np.int64)

