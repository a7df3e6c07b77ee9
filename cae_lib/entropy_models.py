"""A learned factorized density of a latent, as a Keras layer: the entropy model of Ballé et al. (2017, 2018).

:class:`EntropyBottleneck` sits between an encoder and a decoder. In training
it adds uniform noise in [-1/2, 1/2) to the latent, as Ballé et al. do, and
adds the rate, ``-log2`` of the noisy latent's likelihood under a learned
density per channel, to the model's loss (in bits per pixel, times
``rate_weight``); the decoder sees the latent rounded, with the gradient passed
straight through. In inference it rounds: the decoder sees exactly the
integers a range coder writes, so a model's ``predict`` is the codec's
reconstruction.

The density of each channel is the univariate non-parametric model of Ballé
et al. (2018, appendix 6.1), written after CompressAI's ``EntropyBottleneck``:
a cumulative ``c(y)`` built from a small monotone network (softplus matrices,
``tanh`` gates, a sigmoid), and the likelihood of an integer ``k`` is
``c(k + 1/2) - c(k - 1/2)``. :func:`pmf_tables` turns it into one probability
table per channel over a finite support, the tables the range coder uses
(:mod:`cae_lib.entropy`).

Importing this module imports Keras.

Example:
    >>> import numpy as np
    >>> layer = EntropyBottleneck(channels=2, pixels_per_value=4)
    >>> y = np.zeros((1, 2, 2, 2), np.float32)
    >>> out = layer(y, training=False)
    >>> tuple(out.shape), len(layer.losses)
    ((1, 2, 2, 2), 1)
    >>> p = likelihoods(layer, np.arange(-3, 4, dtype=np.float32)[:, None].repeat(2, 1))
    >>> p.shape, bool(0.0 < p.sum(0).min() <= 1.0)
    ((7, 2), True)
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

__all__ = ["EntropyBottleneck", "likelihoods", "pmf_tables", "LIKELIHOOD_BOUND"]

#: The smallest likelihood a value gets (CompressAI's bound): no value costs more than ~30 bits.
LIKELIHOOD_BOUND = 1e-9


@keras.saving.register_keras_serializable(package="cae_lib")
class EntropyBottleneck(keras.layers.Layer):
    """Quantize a latent and charge its rate under a learned factorized density.

    Args:
        channels: the latent's channels (one density each).
        pixels_per_value: image pixels per latent position (the encoder's
            downsampling squared), to state the rate in bits per image pixel.
        rate_weight: the factor of the rate (bits per pixel) in the loss; the
            distortion term is the compiled loss. ``1 / (lambda * 255**2)``
            with an MSE loss gives CompressAI's ``lambda * 255**2 * MSE + bpp``
            divided by ``lambda * 255**2``.
        filters: hidden widths of the density network (Ballé et al.: 3, 3, 3).
        init_scale: the density's initial width (CompressAI's 10).
        seed: seed of the training noise.
    """

    def __init__(self, channels: int, pixels_per_value: int, rate_weight: float = 1.0,
                 filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if int(channels) < 1 or int(pixels_per_value) < 1:
            raise ValueError(f"channels and pixels_per_value must be positive, got {channels}, {pixels_per_value}")
        if not float(rate_weight) > 0:
            raise ValueError(f"rate_weight must be positive, got {rate_weight}")
        self.channels, self.pixels_per_value = int(channels), int(pixels_per_value)
        self.rate_weight, self.init_scale, self.seed = float(rate_weight), float(init_scale), int(seed)
        self.filters = tuple(int(f) for f in filters)
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="noise_seed")
        widths = (1, *self.filters, 1)
        scale = self.init_scale ** (1.0 / (len(widths) - 1))
        self._matrices, self._biases, self._factors = [], [], []
        for i in range(len(widths) - 1):
            init = math.log(math.expm1(1.0 / scale / widths[i + 1]))
            self._matrices.append(self.add_weight(
                shape=(self.channels, widths[i + 1], widths[i]), name=f"matrix{i}",
                initializer=keras.initializers.Constant(init)))
            self._biases.append(self.add_weight(
                shape=(self.channels, widths[i + 1], 1), name=f"bias{i}",
                initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=self.seed + i)))
            if i < len(widths) - 2:
                self._factors.append(self.add_weight(
                    shape=(self.channels, widths[i + 1], 1), name=f"factor{i}", initializer="zeros"))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "pixels_per_value": self.pixels_per_value,
                "rate_weight": self.rate_weight, "filters": list(self.filters), "init_scale": self.init_scale,
                "seed": self.seed}

    # ---- the density
    def _logits_cumulative(self, v):
        """Logits of the cumulative at ``v`` of shape ``(channels, 1, n)``."""
        logits = v
        for i, matrix in enumerate(self._matrices):
            logits = ops.matmul(ops.softplus(matrix), logits) + self._biases[i]
            if i < len(self._factors):
                logits = logits + ops.tanh(self._factors[i]) * ops.tanh(logits)
        return logits

    def channel_likelihood(self, v):
        """Likelihood of the values ``v`` ``(channels, n)`` of each channel's integer bin around them."""
        v = ops.expand_dims(v, 1)
        lower = self._logits_cumulative(v - 0.5)
        upper = self._logits_cumulative(v + 0.5)
        sign = ops.stop_gradient(-ops.sign(lower + upper))  # evaluate the tail that keeps the sigmoid precise
        p = ops.abs(ops.sigmoid(sign * upper) - ops.sigmoid(sign * lower))
        return ops.maximum(ops.squeeze(p, 1), LIKELIHOOD_BOUND)

    # ---- the layer
    def call(self, y, training=None):
        if training:
            noisy = y + keras.random.uniform(ops.shape(y), -0.5, 0.5, seed=self.seed_generator)
            to_decoder = y + ops.stop_gradient(ops.round(y) - y)
        else:
            noisy = to_decoder = ops.round(y)
        per_channel = ops.reshape(ops.transpose(noisy, (3, 0, 1, 2)), (self.channels, -1))
        bits = -ops.sum(ops.log(self.channel_likelihood(per_channel))) / math.log(2.0)
        shape = ops.shape(y)
        pixels = ops.cast(shape[0] * shape[1] * shape[2] * self.pixels_per_value, bits.dtype)
        self.add_loss(self.rate_weight * bits / pixels)
        return to_decoder

    def compute_output_shape(self, input_shape):
        return input_shape


def likelihoods(layer: EntropyBottleneck, values) -> np.ndarray:
    """The likelihood of each integer bin in ``values`` ``(n, channels)`` under each channel's density (float64).

    Raises:
        ValueError: ``values`` is not ``(n, channels)``.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != layer.channels:
        raise ValueError(f"values must have shape (n, {layer.channels}), got {values.shape}")
    p = layer.channel_likelihood(ops.convert_to_tensor(values.T))
    return np.asarray(ops.convert_to_numpy(p), dtype=np.float64).T


def pmf_tables(layer: EntropyBottleneck, *, tail: float = 1e-9, max_half_width: int = 4096):
    """One probability table per channel: the integers ``lo[c] .. hi[c]`` and their likelihoods.

    The support of channel ``c`` is the smallest integer interval outside which
    the density holds less than ``tail`` on either side (searched in
    ``[-max_half_width, max_half_width]``); latents outside it are clipped to
    it by the codec, so encoder and decoder agree on every value.

    Returns:
        ``(lo, tables)``: ``lo`` int64 ``(channels,)``, ``tables`` a list of
        float64 arrays (``tables[c][k]`` is the probability of ``lo[c] + k``),
        each normalised to sum to one.
    """
    grid = np.arange(-max_half_width, max_half_width + 1, dtype=np.float32)
    p = likelihoods(layer, np.repeat(grid[:, None], layer.channels, axis=1))  # (n, channels)
    # the tails from the cumulative itself (the bins' floors would count as mass): c(k - 1/2) below bin k,
    # 1 - c(k + 1/2) above it, each a sigmoid evaluated where it is precise
    edges = np.append(grid - 0.5, grid[-1] + 0.5).astype(np.float32)
    logits = layer._logits_cumulative(ops.convert_to_tensor(np.tile(edges, (layer.channels, 1, 1))))
    logits = np.asarray(ops.convert_to_numpy(logits), np.float64)[:, 0, :]
    with np.errstate(over="ignore"):  # exp overflows to inf far in a tail: the sigmoid is then 0, as it should be
        below, above = 1.0 / (1.0 + np.exp(-logits[:, :-1])), 1.0 / (1.0 + np.exp(logits[:, 1:]))
    centre = max_half_width
    lo, tables = [], []
    for c in range(layer.channels):
        first = min(max(int(np.searchsorted(below[c], tail)) - 1, 0), centre)
        last = max(min(int(np.searchsorted(-above[c], -tail)), len(grid) - 1), centre)
        table = p[first : last + 1, c]
        lo.append(int(grid[first]))
        tables.append(table / table.sum())
    return np.asarray(lo, np.int64), tables
