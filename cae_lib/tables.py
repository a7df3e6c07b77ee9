"""Markdown tables for the book: one writer, and the column sets the chapters show.

:func:`markdown_table` renders rows (dicts) as a pipe table, numbers
right-aligned; the ``*_COLUMNS`` / ``*_HEADERS`` / ``*_FORMATS`` constants say
how each kind of table reads, so every chapter formats the same quantity
the same way.

NumPy only; importing this module imports no TensorFlow.

Example:
    >>> print(markdown_table([{"model": "given", "mse": 0.0031}], floatfmt=".3f"))
    | model | mse |
    |:--|--:|
    | given | 0.003 |
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "markdown_table",
    "METRIC_HEADERS",
    "METRIC_FORMATS",
    "COMPARISON_COLUMNS",
    "comparison_table",
]

#: Header text of the metrics every table may show.
METRIC_HEADERS = {
    "model": "model",
    "params": "parameters",
    "latent_shape": "latent shape",
    "latent_size": "latent values",
    "compression": "latent / input values",
    "mse": "test MSE",
    "mae": "test MAE",
    "psnr_global_db": "test PSNR, global (dB)",
    "psnr_mean_db": "test PSNR, mean of images (dB)",
    "ssim": "test SSIM",
    "train_seconds": "training time (s)",
    "epochs": "epochs",
    "best_epoch": "best epoch",
}

#: Number formats of those metrics.
METRIC_FORMATS = {
    "compression": ".3f",
    "mse": ".5f",
    "mae": ".4f",
    "psnr_global_db": ".2f",
    "psnr_mean_db": ".2f",
    "ssim": ".3f",
    "train_seconds": ".0f",
}

#: Columns of the comparison of trained runs (rows of :func:`cae_lib.evaluation.run_row`).
COMPARISON_COLUMNS = (
    "model",
    "params",
    "latent_shape",
    "latent_size",
    "compression",
    "mse",
    "psnr_global_db",
    "ssim",
    "train_seconds",
    "epochs",
)


def comparison_table(rows: Sequence[Mapping], columns: Sequence[str] = COMPARISON_COLUMNS) -> str:
    """:func:`markdown_table` of run rows with the standard headers and formats."""
    return markdown_table(rows, columns, METRIC_FORMATS, METRIC_HEADERS)




def _cell(value, fmt: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format(float(value), fmt)
    return str(value).replace("|", r"\|").replace("\n", " ")


def markdown_table(
    rows: Sequence[Mapping],
    columns: Sequence[str] | None = None,
    floatfmt: str | Mapping[str, str] = ".4f",
    headers: Mapping[str, str] | None = None,
) -> str:
    """A Markdown (pipe) table for the book, numbers right-aligned.

    Args:
        rows: one dict per row.
        columns: keys to show, in order; default: every key, in first-seen order.
        floatfmt: format spec for floats, or ``{column: spec}`` (others ``.4f``).
        headers: optional ``{column: header text}`` (e.g. ``{"psnr_mean_db":
            "PSNR, mean of images (dB)"}``).

    Returns:
        The table as a string (no trailing newline). Missing values are blank.

    Raises:
        ValueError: empty ``rows`` or ``columns``, or a row that is not a dict.

    >>> print(markdown_table([{"model": "given", "mse": 0.0031}], floatfmt=".3f"))
    | model | mse |
    |:--|--:|
    | given | 0.003 |
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows is empty; pass at least one dict")
    if not all(isinstance(r, Mapping) for r in rows):
        raise ValueError("every row must be a dict {column: value}")
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    columns = list(columns)
    if not columns:
        raise ValueError("no columns to show")
    headers = dict(headers or {})

    def fmt_of(col):
        if isinstance(floatfmt, Mapping):
            return floatfmt.get(col, ".4f")
        return floatfmt

    def numeric(col):
        vals = [r.get(col) for r in rows if r.get(col) is not None]
        return bool(vals) and all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in vals
        )

    lines = [
        "| " + " | ".join(_cell(headers.get(c, c), "") for c in columns) + " |",
        "|" + "|".join("--:" if numeric(c) else ":--" for c in columns) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c), fmt_of(c)) for c in columns) + " |")
    return "\n".join(lines)
