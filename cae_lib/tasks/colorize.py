"""The colorization tasks: L*/100 in; a*/128, b*/128 out, regressed or predicted as colour classes.

==================  =====================================  =====================================
task                network output                         prediction (target scale)
==================  =====================================  =====================================
``Colorize``        a*/128, b*/128 (2 channels, tanh)      the output, clipped to [-1, 1]
``ColourClasses``   a distribution over the a*b* bins      its annealed mean at ``temperature``
==================  =====================================  =====================================

Both are scored the same way: RGB is rebuilt from the true L* with the true
and with the predicted a*b* (:func:`cae_lib.color.rebuild_rgb`), and
:func:`cae_lib.metrics.colorization_metrics` compares them, a*b* in CIE units.
The colour classes (Zhang et al. 2016) train with the class-rebalanced
cross-entropy :class:`cae_lib.tasks.colour_loss.RebalancedCrossEntropy`, whose
weights come from the training targets; :mod:`cae_lib.colorization` holds the
bins, the prior and the annealed mean.

Example:
    >>> ColourClasses().output_channels, ColourClasses(temperature=0.2).label()
    (262, 'colour_classes (rebalance_lambda=0.5, temperature=0.2)')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from cae_lib import color, colorization, metrics, validate
from cae_lib.data import unit_float
from cae_lib.tasks.base import Task, register

__all__ = ["Colorize", "ColourClasses", "CLASS_LOSS", "lightness", "work_shape", "colorize_image", "at_temperature",
           "colorize_photos"]

#: The loss name a colour-class run asks for.
CLASS_LOSS = "rebalanced_crossentropy"


@register("colorize")
@dataclass(frozen=True)
class Colorize(Task):
    """Predict a*b* from L* by regression (chapter 3)."""

    input_channels = 1
    output_channels = 2
    target_range = (-1.0, 1.0)
    description = "L*/100 in, a*/128 and b*/128 out"

    def arrays(self, images, index, part):
        return color.lab_to_model(color.rgb_to_lab(images))

    def spec_hint(self) -> str:
        return "; use cae_lib.models.colorization_spec()"

    def check(self, config) -> None:
        if config.loss == CLASS_LOSS:
            raise ValueError(f"loss={CLASS_LOSS!r} predicts colour classes: use task=ColourClasses()")
        super().check(config)

    def predict(self, model, x, batch_size: int = 256) -> np.ndarray:
        return np.clip(super().predict(model, x, batch_size), -1.0, 1.0)

    def score(self, data, pred: np.ndarray) -> dict[str, float]:
        ab_pred = np.clip(pred, -1.0, 1.0)
        rgb_true = color.rebuild_rgb(data.x_test, data.y_test)
        rgb_pred = color.rebuild_rgb(data.x_test, ab_pred)
        return metrics.colorization_metrics(rgb_true, rgb_pred, data.y_test * color.AB_SCALE, ab_pred * color.AB_SCALE)


@register("colour_classes")
@dataclass(frozen=True)
class ColourClasses(Colorize):
    """Predict a distribution over a*b* bins per pixel (Zhang et al. 2016), decoded by the annealed mean.

    Attributes:
        rebalance_lambda: the mix of prior and uniform distribution in the
            rebalancing weights (:func:`cae_lib.colorization.rebalance_weights`).
        temperature: the annealed-mean temperature predictions and test metrics use.
    """

    rebalance_lambda: float = colorization.LAMBDA
    temperature: float = colorization.ANNEALED_T
    description = "L*/100 in, a distribution over a*b* bins out"

    def __post_init__(self):
        object.__setattr__(self, "rebalance_lambda",
                           validate.probability(self.rebalance_lambda, "ColourClasses.rebalance_lambda"))
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not t >= 0:
            raise ValueError(f"ColourClasses.temperature must be a number >= 0, got {t!r}")
        object.__setattr__(self, "temperature", float(t))

    @property
    def output_channels(self) -> int:  # type: ignore[override]
        return len(colorization.ab_bins())

    def check(self, config) -> None:
        if config.loss != CLASS_LOSS or config.model.output_activation != "softmax":
            raise ValueError(
                f"ColourClasses needs loss={CLASS_LOSS!r} and a model with output_activation='softmax'"
            )
        if config.metrics:
            raise ValueError("a colour-class run tracks no Keras metrics (its outputs are not a*b*); pass metrics=()")
        Task.check(self, config)

    def keras_loss(self, config, data):
        from cae_lib.tasks.colour_loss import RebalancedCrossEntropy

        bins = colorization.ab_bins()
        prior = colorization.class_prior(data.y_train, bins)
        weights = colorization.rebalance_weights(prior, bins, lam=self.rebalance_lambda)
        return RebalancedCrossEntropy(bins.centres, weights)

    def custom_objects(self) -> dict:
        from cae_lib.tasks.colour_loss import RebalancedCrossEntropy

        return {"RebalancedCrossEntropy": RebalancedCrossEntropy}

    def predict(self, model, x, batch_size: int = 256) -> np.ndarray:
        return colorization.predict_ab(model, x, colorization.ab_bins(), self.temperature, batch_size=batch_size)


# ---------------------------------------------------------------------------
# colorizing a photograph of any size
# ---------------------------------------------------------------------------


def lightness(image) -> np.ndarray:
    """L*/100 of an RGB or greyscale image, ``(H, W, 1)`` float32 in [0, 1].

    Args:
        image: ``(H, W, 3)`` RGB or ``(H, W)`` / ``(H, W, 1)`` grey; uint8, or floats in [0, 1].

    Raises:
        ValueError: another shape, an empty image, or values out of range.

    Example:
        >>> lightness(np.full((2, 3), 255, np.uint8)).round(3)[0, 0]
        array([1.], dtype=float32)
    """
    x = np.asarray(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=-1)
    if x.ndim != 3 or x.shape[-1] != 3 or min(x.shape[:2]) < 1:
        raise ValueError(f"image must be (H, W, 3) RGB or (H, W) grey; got shape {np.shape(image)}")
    rgb = unit_float(x)
    return (color.rgb_to_lab(rgb)[..., :1] / color.L_SCALE).astype(np.float32)


#: The longest side, in pixels, an image may be colorized at (its colour is predicted at a few dozen).
MAX_WORK_SIDE = 4096


def work_shape(height: int, width: int, work_size: int, multiple: int) -> tuple[int, int]:
    """The size an image is colorized at: its shorter side near ``work_size``, both sides multiples of ``multiple``.

    Raises:
        ValueError: either side would exceed :data:`MAX_WORK_SIDE` (a large ``work_size``, or a very
            elongated image whose long side follows its short one).

    Example:
        >>> work_shape(300, 451, 32, 4)
        (32, 48)
    """
    scale = work_size / min(height, width)
    shape = tuple(max(multiple, int(round(side * scale / multiple)) * multiple) for side in (height, width))
    if max(shape) > MAX_WORK_SIDE:
        raise ValueError(
            f"a {width}x{height} image colorized with its shorter side at {work_size} pixels would be "
            f"{shape[1]}x{shape[0]}, more than {MAX_WORK_SIDE} on a side; crop it, or use a smaller --work-size"
        )
    return shape


def colorize_image(model, image, *, task=None, work_size: int = 32) -> np.ndarray:
    """Colorize one image of any size with a trained colorization network.

    The network saw whole 32×32 CIFAR-10 images, so the image's lightness is
    shrunk until its shorter side is about ``work_size`` pixels, the network
    predicts a*b* there, and the a*b* planes are enlarged (bilinear) onto the
    full-resolution L*, as colorization systems do: colour varies slowly, so
    the detail of the result comes from the image's own lightness.

    Args:
        model: a colorization model of :func:`cae_lib.training.run`.
        image: RGB (its colour is discarded) or grey, uint8 or float in [0, 1], any size.
        task: the model's task, which decodes its output: :class:`cae_lib.tasks.Colorize`
            (default, regression) or :class:`cae_lib.tasks.ColourClasses` (at its temperature).
        work_size: shorter side, in pixels, at which colour is predicted.

    Returns:
        float32 ``(H, W, 3)`` RGB in [0, 1].
    """
    from cae_lib.models import any_size, spec_of

    task = Colorize() if task is None else task
    lum = lightness(image)
    h, w = lum.shape[:2]
    spec = spec_of(model)
    wh, ww = work_shape(h, w, validate.positive_int(work_size, "work_size"), spec.downsampling * spec.output_scale)
    small = cv2.resize(lum[..., 0], (ww, wh), interpolation=cv2.INTER_AREA)[None, ..., None]
    ab = task.predict(any_size(model), small)[0]
    ab_full = cv2.resize(ab, (w, h), interpolation=cv2.INTER_LINEAR)
    return color.rebuild_rgb(lum, ab_full)


def at_temperature(task, temperature: float | None):
    """``task`` decoding at ``temperature`` if it has one (colour classes); otherwise ``task`` itself."""
    if temperature is None or not hasattr(task, "temperature"):
        return task
    return dataclasses.replace(task, temperature=temperature)


def colorize_photos(runs: dict, photos: dict, *, temperature: float | None = None) -> dict:
    """:func:`colorize_image` of every photograph by every run: ``{run label: {photo name: RGB}}``.

    Args:
        runs: ``{label: run}``, each with ``model`` and ``config.task`` (a
            :class:`cae_lib.training.RunResult`).
        photos: ``{name: image}``.
        temperature: the annealed-mean temperature for colour-class runs (``None``: each run's own).
    """
    return {label: {name: colorize_image(run.model, image, task=at_temperature(run.config.task, temperature))
                    for name, image in photos.items()}
            for label, run in runs.items()}
