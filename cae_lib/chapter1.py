"""Small helpers for chapter 1 (the given architecture): class counts and paired comparisons.

NumPy only; importing this module does not import TensorFlow or Keras.

Example:
    >>> import numpy as np
    >>> rows = split_counts([0, 0, 1, 1], {"train": [0, 2], "test": [1, 3]}, ("a", "b"))
    >>> rows[-1]
    {'class': 'total', 'train': 2, 'test': 2}
    >>> paired_difference([30.0, 20.0], [28.0, 21.0])["share_greater"]
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["split_counts", "paired_difference"]


def split_counts(
    labels,
    parts: Mapping[str, Sequence[int]],
    class_names: Sequence[str],
    total_label: str = "total",
) -> list[dict]:
    """Images per class in each part of a split, as rows for :func:`cae_lib.plots.markdown_table`.

    Args:
        labels: 1-D integer class labels of the whole data set.
        parts: ``{column name: index array}``, e.g. ``{"train": split.train,
            "validation": split.val, "test": split.test}``; indices into ``labels``.
        class_names: the class names, in label order.
        total_label: name of the last row, which holds each part's size.

    Returns:
        One dict per class, ``{"class": name, <column>: count, ...}``, then the
        total row; counts are Python ints.

    Raises:
        ValueError: ``labels`` not 1-D integers, empty ``parts`` or
            ``class_names``, indices that are not 1-D integers or lie outside
            ``labels``, or labels outside ``[0, len(class_names))``.

    Example:
        >>> split_counts([0, 1, 1], {"all": [0, 1, 2]}, ("cat", "dog"))
        [{'class': 'cat', 'all': 1}, {'class': 'dog', 'all': 2}, {'class': 'total', 'all': 3}]
    """
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array; got dtype {y.dtype}, shape {y.shape}")
    names = list(class_names)
    if not names:
        raise ValueError("class_names is empty; pass one name per class, e.g. cae_lib.data.CLASS_NAMES")
    if y.size and (y.min() < 0 or y.max() >= len(names)):
        raise ValueError(f"labels must lie in [0, {len(names)}) to match class_names; got [{y.min()}, {y.max()}]")
    if not isinstance(parts, Mapping) or not parts:
        raise ValueError("parts must be a non-empty dict {column name: index array}")
    counts = {}
    for column, index in parts.items():
        idx = np.asarray(index)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(f"parts[{column!r}] must be a 1-D integer index array; got dtype {idx.dtype}, shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= y.size):
            raise ValueError(
                f"parts[{column!r}] has indices in [{idx.min()}, {idx.max()}], outside labels (length {y.size})"
            )
        counts[column] = np.bincount(y[idx.astype(np.int64)], minlength=len(names))
    rows = [{"class": name, **{col: int(c[k]) for col, c in counts.items()}} for k, name in enumerate(names)]
    rows.append({"class": total_label, **{col: int(c.sum()) for col, c in counts.items()}})
    return rows


def paired_difference(a, b) -> dict[str, float]:
    """Summary of the per-item differences ``a - b`` of two paired samples.

    Used to compare two models image by image (e.g. per-image PSNRs from
    :func:`cae_lib.metrics.per_image_metrics` on the same test images). The
    standard error describes how much the mean would move with another draw of
    test images; it says nothing about another training seed.

    Args:
        a: 1-D array of values, one per item.
        b: 1-D array of the same length, paired with ``a``.

    Returns:
        ``{"mean": mean of a - b, "std_error": sample standard deviation of
        a - b (ddof=1) / sqrt(n) (NaN for n = 1), "share_greater": fraction of
        items with a > b, "share_equal": fraction with a == b, "n": n}``, all
        Python floats except ``n`` (int).

    Raises:
        ValueError: shapes that differ or are not 1-D, empty input, or
            non-finite values.

    Example:
        >>> d = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 4.0])
        >>> round(d["mean"], 4), round(d["std_error"], 4), round(d["share_greater"], 4), d["n"]
        (1.6667, 0.8819, 0.6667, 3)
    """
    x = np.asarray(a, dtype=np.float64)
    z = np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or x.shape != z.shape:
        raise ValueError(f"a and b must be 1-D arrays of the same length; got shapes {x.shape} and {z.shape}")
    if x.size == 0:
        raise ValueError("a and b are empty; pass one value per item")
    if not (np.isfinite(x).all() and np.isfinite(z).all()):
        raise ValueError("a and b must be finite (cap infinite PSNRs, e.g. with cae_lib.metrics.psnr_from_mse)")
    d = x - z
    n = int(d.size)
    se = float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {
        "mean": float(np.mean(d)),
        "std_error": se,
        "share_greater": float(np.mean(d > 0)),
        "share_equal": float(np.mean(d == 0)),
        "n": n,
    }
