"""The small checks every module shares: one validator per kind of input.

Each returns the cleaned value or raises ``ValueError`` with one line that
names the argument, says what was expected and shows what was given.

NumPy only; importing this module imports no TensorFlow.

Example:
    >>> positive_int(3, "epochs")
    3
    >>> name("given_mse", "RunConfig.name")
    'given_mse'
    >>> positive_int(0, "epochs")
    Traceback (most recent call last):
    ...
    ValueError: epochs must be a positive integer, got 0
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["positive_int", "non_negative_int", "positive_float", "name", "probability", "float_images"]


def positive_int(value, what: str) -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (``bool`` is refused).

    Example:
        >>> positive_int(np.int64(2), "batch_size")
        2
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, what: str) -> int:
    """``value`` as an ``int`` if it is an integer >= 0 (``bool`` is refused).

    Example:
        >>> non_negative_int(0, "seed")
        0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_float(value, what: str) -> float:
    """``value`` as a ``float`` if it is a finite number > 0.

    Example:
        >>> positive_float(1e-3, "learning_rate")
        0.001
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive finite number, got {value!r}")
    return float(value)


def probability(value, what: str) -> float:
    """``value`` as a ``float`` if it is a number in [0, 1].

    Example:
        >>> probability(0.5, "lambda")
        0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be a number in [0, 1], got {value!r}")
    return float(value)


def name(value, what: str) -> str:
    """``value`` if it is a non-empty string of letters, digits, ``-``, ``_`` and ``.``, not starting with ``.``.

    Such a name can be a file or folder name on every system, and as a folder
    name it stays where it is put: no ``/``, no ``..``, no NUL byte, no hidden
    (dot) file.

    Example:
        >>> name("a b", "run name")
        Traceback (most recent call last):
        ...
        ValueError: run name must be a non-empty string of letters, digits, '-', '_' or '.', not starting with '.', got 'a b'
    """
    if (
        not isinstance(value, str)
        or not value
        or value.startswith(".")
        or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)
    ):
        raise ValueError(
            f"{what} must be a non-empty string of letters, digits, '-', '_' or '.', not starting with '.', got {value!r}"
        )
    return value


def float_images(x, what: str, *, channels: int | tuple[int, ...] | None = None, ndim: tuple[int, ...] = (4,)):
    """``x`` as a finite floating NumPy array of images, channels last.

    Args:
        x: the array.
        what: its name in the message.
        channels: allowed sizes of the last axis (``None``: any).
        ndim: allowed numbers of dimensions (``(4,)``: a batch ``(N, H, W, C)``;
            ``(3, 4)``: one image or a batch).

    Raises:
        ValueError: another number of dimensions or channels, an empty array,
            a non-float dtype or non-finite values.

    Example:
        >>> float_images(np.zeros((2, 4, 4, 3), np.float32), "images", channels=3).shape
        (2, 4, 4, 3)
    """
    arr = np.asarray(x)
    allowed = (channels,) if isinstance(channels, int) else channels
    shape_hint = "(N, H, W, C)" if ndim == (4,) else "(H, W, C) or (N, H, W, C)"
    if arr.ndim not in ndim or (allowed is not None and arr.shape[-1] not in allowed):
        want = "" if allowed is None else f" with {' or '.join(map(str, allowed))} channels"
        raise ValueError(f"{what} must have shape {shape_hint}{want}; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{what} is empty (shape {arr.shape})")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what} must hold floats; got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    return arr
