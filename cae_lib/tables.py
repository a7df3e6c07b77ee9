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
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "markdown_table",
    "METRIC_HEADERS",
    "METRIC_FORMATS",
    "COMPARISON_COLUMNS",
    "TRAINING_COLUMNS",
    "comparison_table",
    "Layout",
    "CONFIGS",
    "BCE_FLOOR",
    "COUNTER_EXAMPLES",
    "CROSS_LOSSES",
    "DIFFERENCES",
    "ARCHITECTURES",
    "CODECS",
    "SKIPS",
    "SEARCH_SPACE",
    "STANDING",
    "GAMUT",
    "COLOUR",
    "COLOUR_SHORT",
    "TEMPERATURES",
    "TRADEOFF",
    "PHOTOS",
    "DENOISING",
    "DENOISERS",
    "CACHE_SUMMARY",
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


#: Columns of chapter 1's table of its two runs: how they trained, then how they score.
TRAINING_COLUMNS = ("model", "epochs", "best_epoch", "train_seconds", "mse", "psnr_global_db", "psnr_mean_db", "ssim")


def comparison_table(rows: Sequence[Mapping], columns: Sequence[str] = COMPARISON_COLUMNS) -> str:
    """:func:`markdown_table` of run rows with the standard headers and formats."""
    return markdown_table(rows, columns, METRIC_FORMATS, METRIC_HEADERS)


@dataclass(frozen=True)
class Layout:
    """How one kind of table reads: its columns (``None``: every key), number formats and headers.

    Example:
        >>> print(Layout(("a",), {"a": ".1f"}, {"a": "A"}).render([{"a": 1.25, "b": 2}]))
        | A |
        |--:|
        | 1.2 |
    """

    columns: tuple[str, ...] | None = None
    floatfmt: str | Mapping[str, str] = ".4f"
    headers: Mapping[str, str] = field(default_factory=dict)

    def render(self, rows: Sequence[Mapping]) -> str:
        """The rows as a Markdown table in this layout."""
        return markdown_table(rows, self.columns, self.floatfmt, self.headers)


#: Chapter 1: the runs' configurations (:func:`cae_lib.training.config_rows`).
CONFIGS = Layout(floatfmt="g")
#: Chapter 1: the BCE of the best epoch against its floor (:func:`cae_lib.findings.bce_floor_table`).
BCE_FLOOR = Layout(floatfmt={"floor / BCE": ".1%"})
#: Chapter 1: Keras' "accuracy" beside PSNR and SSIM (:func:`cae_lib.findings.accuracy_counterexamples`).
COUNTER_EXAMPLES = Layout(("prediction", "accuracy", "mse", "psnr_global_db", "ssim"),
                          headers={"mse": "MSE", "psnr_global_db": "PSNR, global (dB)", "ssim": "SSIM"})
#: Chapter 1: each model under both losses (:func:`cae_lib.findings.loss_comparison`).
CROSS_LOSSES = Layout(("model", "BCE", "BCE − floor", "mse", "mae", "psnr_global_db", "psnr_mean_db", "ssim"),
                      {"mse": ".5f", "psnr_global_db": ".2f", "psnr_mean_db": ".2f"})
#: Chapter 1: the per-image differences of the two models.
DIFFERENCES = Layout(floatfmt={"share of images where the MSE model is better": ".0%"})
#: Architectures (:func:`cae_lib.models.architecture_rows`).
ARCHITECTURES = Layout(floatfmt={"compression": ".3f"}, headers={
    "convs_per_stage": "convs / stage", "latent_shape": "latent shape", "latent_size": "latent values",
    "compression": "latent / input values", "params": "parameters"})
#: Chapter 2: codecs at a few sizes (:func:`cae_lib.codecs.measure` records).
CODECS = Layout(("codec", "latent_size", "bpp", "psnr_global_db", "ssim"),
                {"bpp": ".2f", "psnr_global_db": ".2f", "ssim": ".3f"},
                {"latent_size": "values kept", "bpp": "bits per pixel", "psnr_global_db": "test PSNR (dB)",
                 "ssim": "test SSIM"})
#: Chapter 2: the skip-connected compressor (:func:`cae_lib.findings.skip_facts`).
SKIPS = Layout(floatfmt=".2f")
#: Chapter 2: the keras-tuner search space (:func:`cae_lib.tuning.search_space_rows`).
SEARCH_SPACE = Layout(floatfmt={"default": "g"},
                      headers={"default": "default (given network)", "condition": "only when"})
#: Chapter 2: the best learned model against PCA (:func:`cae_lib.findings.standing`).
STANDING = Layout(floatfmt=".2f")
#: Chapter 5: chapter-2 models' latents as float32 and quantized (:func:`cae_lib.ratedistortion.latent_bits_rows`).
LATENT_BITS = Layout(floatfmt={"float32 bpp": ".1f", "float32 PSNR (dB)": ".2f", "quantized bpp": ".2f",
                               "quantized PSNR (dB)": ".2f", "bits saved": ".1%"})
#: Chapter 5: the learned codec's runs.
CODEC_RUNS = Layout(floatfmt={"lambda": "g", "training time (min)": ".1f", "test PSNR of the run (dB)": ".2f"})
#: Chapter 5: estimated against real rates (:func:`cae_lib.ratedistortion.agreement_rows`).
RATE_AGREEMENT = Layout(floatfmt={"bpp_estimated": ".3f", "bpp_payload": ".3f", "bpp": ".3f",
                                  "payload / estimate": ".4f", "file / (estimate + header)": ".4f"},
                        headers={"bpp_estimated": "estimated bpp (payload)", "bpp_payload": "payload bpp (real)",
                                 "bpp": "file bpp (real)"})
#: Chapter 5: BD-rates of the learned codec (:func:`cae_lib.ratedistortion.bd_table`).
BD_RATES = Layout(("anchor", "bd_rate_pct", "bd_rate_range_pct", "note"),
                  {"bd_rate_pct": "+.1f", "bd_rate_range_pct": "+.1f"},
                  {"anchor": "against", "bd_rate_pct": "BD-rate, all points (%)",
                   "bd_rate_range_pct": "BD-rate, 0.5 to 4 bpp (%)", "note": "why a figure is missing"})
#: Chapter 5: JPEG on the mirror and on clean tiles (:func:`cae_lib.ratedistortion.jpeg_bias`).
JPEG_BIAS = Layout(floatfmt={"mirror_bpp": ".2f", "mirror_psnr_db": ".2f", "clean_bpp": ".2f",
                             "clean_psnr_db": ".2f"},
                   headers={"quality": "JPEG quality", "mirror_bpp": "mirror bpp", "mirror_psnr_db": "mirror PSNR (dB)",
                            "clean_bpp": "clean tiles bpp", "clean_psnr_db": "clean tiles PSNR (dB)"})
#: Chapter 3: the a*b* ranges of the sRGB gamut and of the training images.
GAMUT = Layout(("range", "a_min", "a_max", "b_min", "b_max"), ".1f",
               {"a_min": "min a*", "a_max": "max a*", "b_min": "min b*", "b_max": "max b*"})
#: Chapter 3: colour predictions and the originals (:func:`cae_lib.findings.colour_table`).
COLOUR = Layout(
    ("prediction", "psnr_global_db", "ssim", "ab_mae", "colourfulness", "colourfulness_pct", "chroma"),
    {"psnr_global_db": ".2f", "ssim": ".4f", "ab_mae": ".2f", "colourfulness": ".1f", "colourfulness_pct": ".0f",
     "chroma": ".1f"},
    {"psnr_global_db": "RGB PSNR, global (dB)", "ssim": "RGB SSIM", "ab_mae": r"a\*b\* MAE (CIE units)",
     "colourfulness_pct": "colourfulness (% of originals)", "chroma": "mean chroma C*"})
#: Chapter 3: two regression models side by side (:func:`cae_lib.findings.colour_row`).
COLOUR_SHORT = Layout(floatfmt=".2f")
#: Chapter 3: the class model at each annealed-mean temperature, validation part.
TEMPERATURES = Layout(("prediction", "psnr_global_db", "colourfulness_pct", "ab_mae"), ".2f",
                      {"prediction": "temperature (validation part)"})
#: Chapter 3: every setting of the PSNR-colourfulness trade-off.
TRADEOFF = Layout(("prediction", "psnr_global_db", "ssim", "ab_mae", "colourfulness_pct"),
                  {"psnr_global_db": ".2f", "ssim": ".4f", "ab_mae": ".2f", "colourfulness_pct": ".0f"},
                  {"psnr_global_db": "RGB PSNR (dB)", "ssim": "SSIM", "ab_mae": "a*b* MAE",
                   "colourfulness_pct": "colourfulness (% of originals)"})
#: Chapter 3: photographs colorized by each model (:func:`cae_lib.findings.photo_rows`).
PHOTOS = Layout(floatfmt={"psnr_db": ".2f", "colourfulness_pct": ".0f"},
                headers={"psnr_db": "RGB PSNR (dB)", "colourfulness_pct": "colourfulness (% of the original)"})
#: Chapter 4: classical and learned denoisers (:func:`cae_lib.baselines.denoising_scores`,
#: :func:`cae_lib.restoration.model_row`).
DENOISING = Layout(floatfmt={"psnr_global_db": ".2f", "ssim": ".3f", "psnr_subset_db": ".2f"},
                   headers={"psnr_global_db": "test PSNR (dB)", "ssim": "SSIM", "n_images": "images",
                            "psnr_subset_db": "PSNR on the BM3D subset (dB)"})
#: Chapter 4: the denoising runs (:func:`cae_lib.restoration.denoiser_rows`).
DENOISERS = Layout(("model", "sigma", "filters", "pooling", "params", "epochs"))
#: Appendix: what the cache holds (:func:`cae_lib.training.cached_summary`).
CACHE_SUMMARY = Layout(floatfmt={"training time (s)": ".0f", "test PSNR (dB)": ".2f"})




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
#: Chapter 6: linear probes and k-NN on codes, pixels and PCA (:func:`cae_lib.representation.probe_rows`).
PROBE = Layout(("features", "values", "psnr_global_db", "probe_accuracy", "ci_low", "ci_high", "knn_accuracy"),
               {"psnr_global_db": ".2f", "probe_accuracy": ".1%", "ci_low": ".1%", "ci_high": ".1%",
                "knn_accuracy": ".1%"},
               {"values": "values per image", "psnr_global_db": "test PSNR (dB)", "probe_accuracy": "linear probe",
                "ci_low": "95 % CI from", "ci_high": "to", "knn_accuracy": "k-NN"})
#: Chapter 6: reconstruction error on novel images (:func:`cae_lib.representation.novelty_rows`).
NOVELTY = Layout(("model", "kind", "median_mse", "test_median_mse", "auc"),
                 {"median_mse": ".4f", "test_median_mse": ".4f", "auc": ".3f"},
                 {"kind": "novel images", "median_mse": "median MSE", "test_median_mse": "test images' median MSE",
                  "auc": "ROC AUC"})
