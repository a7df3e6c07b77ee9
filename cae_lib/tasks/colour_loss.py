"""The class-rebalanced cross-entropy of colour classes (Zhang, Isola and Efros 2016), a Keras loss.

Importing this module imports Keras; :class:`cae_lib.tasks.colorize.ColourClasses`
imports it only when it builds the loss or loads a model compiled with it.
Importing the module registers the class with Keras as
``"cae_lib>RebalancedCrossEntropy"``, so ``keras.saving.load_model`` finds it.

Example:
    >>> import numpy as np
    >>> from cae_lib.colorization import ab_bins
    >>> loss = RebalancedCrossEntropy(ab_bins().centres, np.ones(len(ab_bins())))
    >>> loss.name, loss.centres.shape
    ('rebalanced_crossentropy', (262, 2))
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from cae_lib import color, validate
from cae_lib.colorization import NEIGHBOURS, SIGMA

__all__ = ["RebalancedCrossEntropy"]


@keras.saving.register_keras_serializable(package="cae_lib")
class RebalancedCrossEntropy(keras.losses.Loss):
    """Soft-encoded, class-rebalanced cross-entropy over a*b* bins.

    The loss of a pixel with target ``y`` (network scale, ``(a*, b*) / AB_SCALE``)
    and predicted probabilities ``p`` is ``-w_{q*} sum_j g_j log p_{q_j}``, where
    ``q_1..q_n`` are the ``neighbours`` centres nearest to ``AB_SCALE * y``
    (found with ``keras.ops.top_k``, ties to the lower index), ``g`` their
    normalised Gaussian weights (:func:`cae_lib.colorization.soft_encode`),
    ``q* = q_1`` the nearest bin and ``w`` the rebalancing weights; ``p`` is
    clipped to ``[epsilon, 1]``. The pixel losses are averaged (Keras'
    ``"sum_over_batch_size"``). A model that predicts colour at a coarser scale
    (``CAESpec.output_scale``) is compared with the targets' averages over the
    same cells.

    Args:
        centres: ``(K, 2)`` bin centres in CIE units (``AbBins.centres``).
        weights: ``(K,)`` positive weights (:func:`cae_lib.colorization.rebalance_weights`;
            all ones: no rebalancing).
        sigma: soft-encoding width in CIE units.
        neighbours: centres per pixel in the soft encoding.
        epsilon: lower clip of the probabilities (Keras' fuzz factor).
        name, reduction, dtype: as ``keras.losses.Loss``.

    Raises:
        ValueError: centres that are not a finite ``(K, 2)`` array, weights
            that are not ``K`` positive numbers, or bad parameters.
    """

    def __init__(
        self,
        centres,
        weights,
        sigma: float = SIGMA,
        neighbours: int = NEIGHBOURS,
        epsilon: float = 1e-7,
        name: str = "rebalanced_crossentropy",
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        c = np.asarray(centres, dtype=np.float32)
        if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0 or not np.isfinite(c).all():
            raise ValueError(f"centres must be a finite (K, 2) array of bin centres, got shape {c.shape}")
        w = np.asarray(weights, dtype=np.float32)
        if w.shape != (len(c),) or not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError(f"weights must be {len(c)} finite positive numbers (one per centre), got shape {w.shape}")
        self.centres = c
        self.weights = w
        self.sigma = validate.positive_float(sigma, "sigma")
        self.neighbours = validate.positive_int(neighbours, "neighbours")
        if self.neighbours > len(c):
            raise ValueError(f"neighbours must be at most the number of centres ({len(c)}), got {self.neighbours}")
        self.epsilon = validate.positive_float(epsilon, "epsilon")

    def call(self, y_true, y_pred):
        if y_true.shape[1] is not None and y_pred.shape[1] is not None and y_true.shape[1] != y_pred.shape[1]:
            f = y_true.shape[1] // y_pred.shape[1]
            y_true = ops.average_pool(y_true, pool_size=f, strides=f, padding="valid")
        ab = y_true * color.AB_SCALE  # (B, H, W, 2) in CIE units
        centres = ops.convert_to_tensor(self.centres, dtype=ab.dtype)
        da = ab[..., 0:1] - centres[:, 0]  # (B, H, W, K)
        db = ab[..., 1:2] - centres[:, 1]
        neg_d2, index = ops.top_k(-(da * da + db * db), k=self.neighbours)  # nearest first
        g = ops.exp((neg_d2 - neg_d2[..., :1]) / (2.0 * self.sigma**2))
        g = g / ops.sum(g, axis=-1, keepdims=True)
        p = ops.clip(ops.take_along_axis(y_pred, index, axis=-1), self.epsilon, 1.0)
        w = ops.take(ops.convert_to_tensor(self.weights, dtype=y_pred.dtype), index[..., 0])
        return -w * ops.sum(g * ops.log(p), axis=-1)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "centres": self.centres.tolist(),
            "weights": self.weights.tolist(),
            "sigma": self.sigma,
            "neighbours": self.neighbours,
            "epsilon": self.epsilon,
        }
