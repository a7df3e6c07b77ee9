"""Entropy coding: integer symbols to bytes with a range coder, under one probability table per channel.

The coder is ``constriction``'s range coder (Bamler 2022), a maintained,
framework-free one; this module holds what the codecs share around it:

- :class:`SymbolTables`: one probability table per channel over an integer
  support ``lo[c] .. lo[c] + len(table) - 1``; built from a learned density
  (:func:`cae_lib.entropy_models.pmf_tables`) or counted on training symbols
  (:meth:`SymbolTables.fit`, for codecs whose latents were not trained for bits);
- :meth:`SymbolTables.encode` / :meth:`SymbolTables.decode`: the symbols of
  one image, ``(channels, n)``, to one ``bytes`` and back, exactly;
- :meth:`SymbolTables.bits`: the ideal code length ``-sum log2 p`` of the same
  symbols, the rate a model estimates, to set beside the real bytes;
- :class:`LaplaceCoder`: the same for symbols that each have their own
  zero-mean Laplace density of a given scale (transform coefficients, as a
  classical transform coder models them).

The range coder writes 32-bit words; trailing zero bytes are dropped and
restored by the decoder (it reads past the end as zeros), so a file is not
padded to a whole word.

Symbols outside a channel's support cannot be coded: :meth:`SymbolTables.clip`
brings them inside, and a codec clips before it reconstructs, so its encoder
and decoder agree on every value.

Example:
    >>> import numpy as np
    >>> tables = SymbolTables.fit(np.array([[0, 1, 1, 2, 1, 1]]))
    >>> data = tables.encode(np.array([[1, 1, 2, 0]]))
    >>> tables.decode(data, 4).tolist(), len(data) <= 4
    ([[1, 1, 2, 0]], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SymbolTables", "LaplaceCoder", "channels_first"]

#: The smallest probability a table entry gets, so every symbol of the support stays codable.
MIN_PROBABILITY = 1e-7


def channels_first(symbols: np.ndarray) -> np.ndarray:
    """One image's ``(h, w, C)`` latent symbols as the ``(C, h * w)`` rows :class:`SymbolTables` codes.

    Example:
        >>> channels_first(np.arange(8).reshape(2, 2, 2)).tolist()
        [[0, 2, 4, 6], [1, 3, 5, 7]]
    """
    symbols = np.asarray(symbols)
    return np.moveaxis(symbols, -1, 0).reshape(symbols.shape[-1], -1)


@dataclass(frozen=True, eq=False)
class SymbolTables:
    """One probability table per channel over a contiguous integer support.

    Attributes:
        lo: int64 ``(channels,)``, the smallest symbol of each channel.
        tables: one float64 array per channel; ``tables[c][k]`` is the
            probability of symbol ``lo[c] + k`` (normalised, floored at
            :data:`MIN_PROBABILITY`).

    Raises:
        ValueError: a table that is empty, not finite, or not one per channel.
    """

    lo: np.ndarray
    tables: tuple[np.ndarray, ...]

    def __post_init__(self):
        lo = np.asarray(self.lo, dtype=np.int64).reshape(-1)
        if len(self.tables) != len(lo) or not len(lo):
            raise ValueError(f"SymbolTables needs one table per channel: {len(lo)} supports, {len(self.tables)} tables")
        tables = []
        for c, t in enumerate(self.tables):
            t = np.asarray(t, dtype=np.float64).reshape(-1)
            if not len(t) or not np.isfinite(t).all() or (t < 0).any() or t.sum() <= 0:
                raise ValueError(f"table {c} must hold finite, non-negative probabilities with a positive sum")
            if len(t) == 1:  # the range coder needs two symbols: the next one, never used, gets the floor
                t = np.append(t, 0.0)
            t = np.maximum(t / t.sum(), MIN_PROBABILITY)
            tables.append(t / t.sum())
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "tables", tuple(tables))
        object.__setattr__(self, "_models", None)

    @classmethod
    def fit(cls, symbols, *, support: tuple[int, int] | None = None, prior: float = 0.5) -> SymbolTables:
        """Tables counted on training symbols ``(channels, n)``.

        Each table covers ``support`` = ``(lo, hi)`` (every channel alike; symbols
        outside it are an error), or by default the range each channel's symbols
        span. Every count gets ``prior`` added (the Krichevsky-Trofimov estimate
        at 0.5), so a symbol never seen in training is still codable.
        """
        symbols = np.asarray(symbols)
        if symbols.ndim != 2 or symbols.shape[1] == 0 or not np.issubdtype(symbols.dtype, np.integer):
            raise ValueError(f"symbols must be integers of shape (channels, n), got {symbols.dtype} {symbols.shape}")
        lo, hi = symbols.min(axis=1), symbols.max(axis=1)
        if support is not None:
            if lo.min() < support[0] or hi.max() > support[1]:
                raise ValueError(f"symbols outside the support {tuple(support)}")
            lo, hi = np.full_like(lo, support[0]), np.full_like(hi, support[1])
        tables = [np.bincount(s - lo[c], minlength=hi[c] - lo[c] + 1) + float(prior) for c, s in enumerate(symbols)]
        return cls(lo, tuple(tables))

    @property
    def channels(self) -> int:
        return len(self.lo)

    @property
    def hi(self) -> np.ndarray:
        """int64 ``(channels,)``, the largest symbol of each channel."""
        return self.lo + np.array([len(t) for t in self.tables], np.int64) - 1

    def clip(self, symbols) -> np.ndarray:
        """``symbols`` ``(channels, ...)`` clipped into each channel's support (int64)."""
        symbols = np.asarray(symbols, dtype=np.int64)
        shape = (self.channels,) + (1,) * (symbols.ndim - 1)
        return np.clip(symbols, self.lo.reshape(shape), self.hi.reshape(shape))

    def _check(self, symbols) -> np.ndarray:
        symbols = np.asarray(symbols)
        if symbols.ndim != 2 or symbols.shape[0] != self.channels:
            raise ValueError(f"symbols must have shape ({self.channels}, n), got {symbols.shape}")
        symbols = symbols.astype(np.int64)
        if (symbols < self.lo[:, None]).any() or (symbols > self.hi[:, None]).any():
            raise ValueError("symbols outside the tables' support: clip them first (SymbolTables.clip)")
        return symbols

    def _model(self, c: int):
        if self._models is None:
            import constriction

            categorical = constriction.stream.model.Categorical
            object.__setattr__(self, "_models", [categorical(t, perfect=False) for t in self.tables])
        return self._models[c]

    def bits(self, symbols) -> float:
        """The ideal code length of ``symbols`` ``(channels, n)`` under the tables: ``-sum log2 p``."""
        symbols = self._check(symbols)
        return float(-sum(np.log2(self.tables[c][s - self.lo[c]]).sum() for c, s in enumerate(symbols)))

    def encode(self, symbols) -> bytes:
        """The symbols ``(channels, n)`` of one image as range-coded bytes (channel after channel)."""
        import constriction

        symbols = self._check(symbols)
        encoder = constriction.stream.queue.RangeEncoder()
        for c, s in enumerate(symbols):
            encoder.encode((s - self.lo[c]).astype(np.int32), self._model(c))
        return _pack_words(encoder.get_compressed())

    def decode(self, data: bytes, n: int) -> np.ndarray:
        """The ``(channels, n)`` int64 symbols :meth:`encode` wrote to ``data``.

        Raises:
            ValueError: ``data`` is not bytes.
        """
        import constriction

        decoder = constriction.stream.queue.RangeDecoder(_unpack_words(data))
        out = np.empty((self.channels, int(n)), np.int64)
        for c in range(self.channels):
            out[c] = np.asarray(decoder.decode(self._model(c), int(n)), np.int64) + self.lo[c]
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        """``{"lo", "sizes", "probabilities"}``: the tables as three arrays (for ``np.savez``)."""
        return {"lo": self.lo, "sizes": np.array([len(t) for t in self.tables], np.int64),
                "probabilities": np.concatenate(self.tables)}

    @classmethod
    def from_arrays(cls, lo, sizes, probabilities) -> SymbolTables:
        """Inverse of :meth:`to_arrays`."""
        sizes = np.asarray(sizes, np.int64)
        probabilities = np.asarray(probabilities, np.float64)
        if (sizes < 1).any() or sizes.sum() != len(probabilities):
            raise ValueError("SymbolTables arrays are inconsistent: the sizes do not add up to the probabilities")
        return cls(lo, tuple(np.split(probabilities, np.cumsum(sizes)[:-1])))



def _pack_words(words: np.ndarray) -> bytes:
    return np.asarray(words).astype("<u4").tobytes().rstrip(b"\0")


def _unpack_words(data) -> np.ndarray:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    return np.frombuffer(data + b"\0" * (-len(data) % 4), dtype="<u4").astype(np.uint32)


@dataclass(frozen=True)
class LaplaceCoder:
    """Integer symbols in ``[-radius, radius]``, each under a zero-mean Laplace density of its own scale.

    A symbol ``k`` has the probability of the bin ``[k - 1/2, k + 1/2]``, the
    two end bins holding the tails (the range coder's quantized Laplace,
    ``constriction.stream.model.QuantizedLaplace``).

    Attributes:
        radius: the largest magnitude a symbol can have; larger ones are clipped.

    Example:
        >>> import numpy as np
        >>> coder = LaplaceCoder(radius=8)
        >>> s, b = np.array([0, 3, -8, 1]), np.array([0.5, 2.0, 4.0, 1.0])
        >>> coder.decode(coder.encode(s, b), b).tolist(), round(coder.bits(s, b), 1)
        ([0, 3, -8, 1], 10.9)
    """

    radius: int

    def __post_init__(self):
        if int(self.radius) < 1:
            raise ValueError(f"LaplaceCoder.radius must be a positive integer, got {self.radius!r}")
        object.__setattr__(self, "radius", int(self.radius))

    def clip(self, symbols) -> np.ndarray:
        """``symbols`` clipped into ``[-radius, radius]`` (int64)."""
        return np.clip(np.asarray(symbols, np.int64), -self.radius, self.radius)

    def _check(self, symbols, scales) -> tuple[np.ndarray, np.ndarray]:
        symbols, scales = np.asarray(symbols).reshape(-1), np.asarray(scales, np.float64).reshape(-1)
        if symbols.shape != scales.shape:
            raise ValueError(f"one scale per symbol: {symbols.shape[0]} symbols, {scales.shape[0]} scales")
        if not (np.isfinite(scales).all() and (scales > 0).all()):
            raise ValueError("Laplace scales must be positive and finite")
        if np.abs(symbols).max(initial=0) > self.radius:
            raise ValueError(f"symbols beyond the radius {self.radius}: clip them first (LaplaceCoder.clip)")
        return symbols.astype(np.int64), scales

    def _family(self):
        import constriction

        return constriction.stream.model.QuantizedLaplace(-self.radius, self.radius)

    def bits(self, symbols, scales) -> float:
        """The ideal code length ``-sum log2 p`` of ``symbols`` under the continuous Laplace densities."""
        k, b = self._check(symbols, scales)

        def cdf(v):
            return np.where(v < 0, 0.5 * np.exp(v / b), 1.0 - 0.5 * np.exp(-v / b))

        upper = np.where(k == self.radius, 1.0, cdf(k + 0.5))
        lower = np.where(k == -self.radius, 0.0, cdf(k - 0.5))
        return float(-np.log2(np.maximum(upper - lower, 1e-300)).sum())

    def encode(self, symbols, scales) -> bytes:
        """``symbols`` (any shape, one ``scales`` entry each) as range-coded bytes."""
        import constriction

        k, b = self._check(symbols, scales)
        encoder = constriction.stream.queue.RangeEncoder()
        encoder.encode(k.astype(np.int32), self._family(), np.zeros_like(b), b)
        return _pack_words(encoder.get_compressed())

    def decode(self, data: bytes, scales) -> np.ndarray:
        """The int64 symbols :meth:`encode` wrote under ``scales``."""
        import constriction

        b = np.asarray(scales, np.float64).reshape(-1)
        decoder = constriction.stream.queue.RangeDecoder(_unpack_words(data))
        return np.asarray(decoder.decode(self._family(), np.zeros_like(b), b), np.int64)
