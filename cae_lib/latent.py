"""Output sizes of convolution and pooling layers, and the latent-size table.

A convolution (or pooling window) of size ``K`` moved with stride ``S`` over an
input of width ``W`` padded with ``P`` pixels on each side produces

.. math::

    W_\\text{out} = \\left\\lfloor \\frac{W - K + 2P}{S} \\right\\rfloor + 1

positions. :func:`conv_output_size` is the only place in :mod:`cae_lib` that
evaluates this formula; everything else (the latent table, the model specs)
calls it. How many pixels are padded is decided by :func:`total_padding`:

- ``"valid"``: no padding, ``2P = 0``.
- ``"same"``: Keras/TensorFlow pad just enough for ``W_out = ceil(W / S)``; the
  total is ``max((ceil(W/S) - 1)·S + K - W, 0)``. When it is odd the extra pixel
  goes to the bottom/right, so ``P = total / 2`` is a half-integer (shown as
  e.g. ``0.5`` in the table).
- an integer ``p >= 0``: ``p`` pixels on every side (``keras.layers.ZeroPadding2D(p)``
  followed by a ``"valid"`` layer).

Layers are described by the small frozen dataclasses :class:`Conv` and
:class:`Pool`; :func:`latent_table` walks a list of them and returns one
:class:`LayerStep` per layer, :func:`format_table` renders it as Markdown.

This module does not import TensorFlow or Keras.

Example:
    >>> latent_size(GIVEN_ENCODER)
    1024
    >>> [step.size_out for step in latent_table(GIVEN_ENCODER)]
    [32, 16, 16, 8, 8]
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from cae_lib import validate

__all__ = [
    "PADDINGS",
    "Conv",
    "Pool",
    "LayerStep",
    "GIVEN_ENCODER",
    "total_padding",
    "conv_output_size",
    "latent_table",
    "latent_shape",
    "latent_size",
    "format_table",
    "shape_text",
]

PADDINGS = ("same", "valid")
"""Padding modes understood besides an explicit non-negative integer."""

Padding = str | int


def _check_padding(padding, what: str = "padding") -> Padding:
    if isinstance(padding, str):
        if padding not in PADDINGS:
            raise ValueError(
                f"{what} must be 'same', 'valid' or a non-negative integer, got {padding!r}"
            )
        return padding
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
        raise ValueError(
            f"{what} must be 'same', 'valid' or a non-negative integer, got {padding!r}"
        )
    return int(padding)


def total_padding(size: int, kernel: int, stride: int = 1, padding: Padding = "same") -> int:
    """Total number of pixels padded along one axis (both sides together).

    Args:
        size: input width ``W`` (positive int).
        kernel: kernel or pooling-window size ``K`` (positive int).
        stride: stride ``S`` (positive int).
        padding: ``"same"``, ``"valid"`` or an explicit per-side padding ``p >= 0``.

    Returns:
        ``2P``: 0 for ``"valid"``, ``2p`` for an integer, and for ``"same"`` the
        amount TensorFlow adds, ``max((ceil(W/S) - 1)·S + K - W, 0)`` (the smaller
        half on the top/left, the larger on the bottom/right).

    Raises:
        ValueError: non-positive sizes or an unknown padding.

    Example:
        >>> total_padding(32, 3, 1, "same"), total_padding(32, 3, 2, "same")
        (2, 1)
        >>> total_padding(32, 5, 1, 2), total_padding(32, 5, 1, "valid")
        (4, 0)
    """
    size = validate.positive_int(size, "size")
    kernel = validate.positive_int(kernel, "kernel")
    stride = validate.positive_int(stride, "stride")
    padding = _check_padding(padding)
    if padding == "valid":
        return 0
    if padding == "same":
        target = -(-size // stride)  # ceil(W / S)
        return max((target - 1) * stride + kernel - size, 0)
    return 2 * padding


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: Padding = "same") -> int:
    """Output width of a convolution or pooling layer, ``floor((W - K + 2P) / S) + 1``.

    The floor is what Keras applies when the window does not fit a whole number
    of times; with ``padding="same"`` the result is ``ceil(W / S)``.

    Args:
        size: input width ``W`` (positive int).
        kernel: kernel or pooling-window size ``K`` (positive int).
        stride: stride ``S`` (positive int).
        padding: ``"same"``, ``"valid"`` or an explicit per-side padding ``p >= 0``
            (see :func:`total_padding`).

    Returns:
        The output width (a positive int).

    Raises:
        ValueError: non-positive sizes, an unknown padding, or a kernel larger
            than the padded input (the output would be empty).

    Example:
        >>> conv_output_size(32, 3, 1, "valid")
        30
        >>> conv_output_size(32, 5, 2, "valid")
        14
        >>> conv_output_size(33, 3, 2, "same")
        17
    """
    two_p = total_padding(size, kernel, stride, padding)
    span = size - kernel + two_p
    if span < 0:
        raise ValueError(
            f"kernel {kernel} does not fit an input of width {size} with padding "
            f"{padding!r} (2P = {two_p}); use a smaller kernel, 'same' padding or a larger input"
        )
    return span // stride + 1


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution with square kernels.

    Args:
        filters: number of output channels.
        kernel: kernel size ``K``.
        stride: stride ``S``.
        padding: ``"same"``, ``"valid"`` or an integer per-side padding.
        name: label in the table (default ``conv<i>``).

    Example:
        >>> Conv(16, kernel=5, padding="valid")
        Conv(filters=16, kernel=5, stride=1, padding='valid', name=None)
    """

    filters: int
    kernel: int = 3
    stride: int = 1
    padding: Padding = "same"
    name: str | None = None

    def __post_init__(self):
        validate.positive_int(self.filters, "Conv.filters")
        validate.positive_int(self.kernel, "Conv.kernel")
        validate.positive_int(self.stride, "Conv.stride")
        _check_padding(self.padding, "Conv.padding")


@dataclass(frozen=True)
class Pool:
    """A 2-D pooling layer (max or average: the size arithmetic is the same).

    Args:
        size: window size ``K``.
        stride: stride ``S``; ``None`` means ``size`` (the Keras default).
        padding: ``"valid"`` (the Keras default), ``"same"`` or an integer.
        name: label in the table (default ``pool<i>``).

    Example:
        >>> Pool(2).effective_stride
        2
    """

    size: int = 2
    stride: int | None = None
    padding: Padding = "valid"
    name: str | None = None

    def __post_init__(self):
        validate.positive_int(self.size, "Pool.size")
        if self.stride is not None:
            validate.positive_int(self.stride, "Pool.stride")
        _check_padding(self.padding, "Pool.padding")

    @property
    def effective_stride(self) -> int:
        """The stride actually used (``size`` when ``stride`` is None)."""
        return self.size if self.stride is None else self.stride


@dataclass(frozen=True)
class LayerStep:
    """One row of the latent table.

    Attributes:
        name: layer label.
        kind: ``"conv"`` or ``"pool"``.
        size_in: input width ``W``.
        kernel: kernel/window size ``K``.
        padding_px: ``P`` = total padding / 2 (a half-integer when ``"same"``
            padding is asymmetric).
        stride: stride ``S``.
        size_out: output width.
        channels: output channels.
        padding: the padding mode as given (``"same"``, ``"valid"`` or an int).
    """

    name: str
    kind: str
    size_in: int
    kernel: int
    padding_px: float
    stride: int
    size_out: int
    channels: int
    padding: Padding = "same"

    @property
    def shape_out(self) -> tuple[int, int, int]:
        """``(size_out, size_out, channels)``."""
        return (self.size_out, self.size_out, self.channels)

    @property
    def values_out(self) -> int:
        """Number of values in the output, ``size_out² · channels``."""
        return self.size_out * self.size_out * self.channels


def latent_table(layers: Sequence[Conv | Pool], input_size: int = 32) -> list[LayerStep]:
    """Walk a stack of layers and record every layer's output size.

    Args:
        layers: a non-empty sequence of :class:`Conv` / :class:`Pool`, starting
            with a :class:`Conv` (which fixes the channel count).
        input_size: width (= height) of the square input image.

    Returns:
        One :class:`LayerStep` per layer, in order.

    Raises:
        ValueError: an empty list, a first layer that is not a Conv, an element
            that is neither Conv nor Pool, or a layer whose output would be empty.

    Example:
        >>> [s.shape_out for s in latent_table([Conv(8), Pool(2)], input_size=32)]
        [(32, 32, 8), (16, 16, 8)]
    """
    input_size = validate.positive_int(input_size, "input_size")
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty; give at least one Conv")
    if not isinstance(layers[0], Conv):
        raise ValueError(
            f"the first layer must be a Conv (it sets the channel count), got {layers[0]!r}"
        )
    steps: list[LayerStep] = []
    size, channels = input_size, None
    counts = {"conv": 0, "pool": 0}
    for index, layer in enumerate(layers):
        if isinstance(layer, Conv):
            kind, kernel, stride, channels_out = "conv", layer.kernel, layer.stride, layer.filters
        elif isinstance(layer, Pool):
            kind, kernel, stride, channels_out = "pool", layer.size, layer.effective_stride, channels
        else:
            raise ValueError(f"layers[{index}] must be a Conv or a Pool, got {layer!r}")
        counts[kind] += 1
        name = layer.name or f"{kind}{counts[kind]}"
        try:
            size_out = conv_output_size(size, kernel, stride, layer.padding)
        except ValueError as err:
            raise ValueError(
                f"layer {index} ({name}) shrinks the {size}x{size} input to nothing: {err}"
            ) from None
        steps.append(
            LayerStep(
                name=name,
                kind=kind,
                size_in=size,
                kernel=kernel,
                padding_px=total_padding(size, kernel, stride, layer.padding) / 2,
                stride=stride,
                size_out=size_out,
                channels=channels_out,
                padding=layer.padding,
            )
        )
        size, channels = size_out, channels_out
    return steps


def latent_shape(layers: Sequence[Conv | Pool], input_size: int = 32) -> tuple[int, int, int]:
    """``(height, width, channels)`` after the last layer.

    Example:
        >>> latent_shape(GIVEN_ENCODER)
        (8, 8, 16)
    """
    return latent_table(layers, input_size)[-1].shape_out


def latent_size(layers: Sequence[Conv | Pool], input_size: int = 32) -> int:
    """Number of values in the last layer's output, ``size_out² · channels``.

    Example:
        >>> latent_size(GIVEN_ENCODER, input_size=32)
        1024
    """
    return latent_table(layers, input_size)[-1].values_out


def _format_px(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def format_table(steps: Sequence[LayerStep]) -> str:
    """Render a latent table as Markdown (one row per layer).

    Columns: layer, type, padding mode, ``W`` in, ``K``, ``P``, ``S``, ``W`` out,
    output shape and number of output values. ``P`` is the total padding divided
    by two; a half-integer (e.g. ``0.5``) means the extra pixel sits on the
    bottom/right, and a note below the table says so.

    Args:
        steps: rows from :func:`latent_table`.

    Returns:
        The Markdown table as one string (no trailing newline).

    Raises:
        ValueError: ``steps`` is empty.

    Example:
        >>> print(format_table(latent_table([Conv(8, kernel=5, padding="valid")])))
        | layer | type | padding | W in | K | P | S | W out | output | values |
        |---|---|---|---:|---:|---:|---:|---:|---|---:|
        | conv1 | conv | valid | 32 | 5 | 0 | 1 | 28 | 28×28×8 | 6272 |
    """
    steps = list(steps)
    if not steps:
        raise ValueError("steps is empty; pass the rows returned by latent_table()")
    lines = [
        "| layer | type | padding | W in | K | P | S | W out | output | values |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in steps:
        lines.append(
            f"| {s.name} | {s.kind} | {s.padding} | {s.size_in} | {s.kernel} | "
            f"{_format_px(s.padding_px)} | {s.stride} | {s.size_out} | "
            f"{shape_text((s.size_out, s.size_out, s.channels))} | {s.values_out} |"
        )
    if any(not float(s.padding_px).is_integer() for s in steps):
        lines.append("")
        lines.append(
            "P is the total padding / 2; a half-integer means one more pixel of "
            "padding on the bottom/right than on the top/left (Keras 'same')."
        )
    return "\n".join(lines)


GIVEN_ENCODER: tuple[Conv | Pool, ...] = (
    Conv(8, kernel=3, padding="same", name="enc1_conv1"),
    Pool(2, name="enc1_pool"),
    Conv(12, kernel=3, padding="same", name="enc2_conv1"),
    Pool(2, name="enc2_pool"),
    Conv(16, kernel=3, padding="same", name="enc3_conv1"),
)
"""The given autoencoder's encoder, named as in :func:`cae_lib.models.given_cae`."""


def shape_text(shape) -> str:
    """A shape as text, ``(8, 8, 16)`` -> ``"8×8×16"``: the one place shapes are formatted.

    Example:
        >>> shape_text((8, 8, 16))
        '8×8×16'
    """
    return "×".join(str(int(s)) for s in shape)
