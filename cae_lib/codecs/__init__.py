"""Codecs: images to bytes and back, each measured by the same record (bits per pixel from real bytes, metrics).

================================  ==============================================================
module                            codec
================================  ==============================================================
:mod:`~cae_lib.codecs.base`       the :class:`Codec` interface, the registry, :func:`measure`
:mod:`~cae_lib.codecs.pca`        :class:`PCA`: float32 coefficients of a fitted PCA basis
:mod:`~cae_lib.codecs.thumbnail`  :class:`Thumbnail`: a small uint8 image, enlarged bicubically
:mod:`~cae_lib.codecs.latent`     :class:`LatentCodec`: a trained autoencoder's float32 latent
:mod:`~cae_lib.codecs.classical`  :class:`JPEG`, :class:`WebP`, :class:`AVIF`, :class:`JPEGXL`, :class:`JPEG2000` (imagecodecs)
:mod:`~cae_lib.codecs.learned`    :class:`LearnedCodec`: a rate-distortion model's range-coded latent, in a file
:mod:`~cae_lib.codecs.quantized`  :class:`QuantizedPCA`, :class:`QuantizedLatent`: quantized values, range-coded
:mod:`~cae_lib.codecs.container`  the learned codec's file format: a small versioned header, then the payload
================================  ==============================================================

A new codec is one module with a registered :class:`Codec` subclass; the
rate-distortion figure (:func:`cae_lib.plots.rate_distortion_figure`) and the
standings (:func:`cae_lib.findings.standing`) take any list of records and a
rate axis (:data:`RATES`). Importing this package imports neither TensorFlow
nor Keras.

Example:
    >>> {"latent", "learned", "pca", "thumbnail"} <= set(CODECS), RATES["bpp"]
    (True, 'bits per pixel')
"""

from cae_lib.codecs import base, classical, latent, learned, pca, quantized, thumbnail
from cae_lib.codecs.base import *  # noqa: F403
from cae_lib.codecs.classical import *  # noqa: F403
from cae_lib.codecs.latent import *  # noqa: F403
from cae_lib.codecs.learned import *  # noqa: F403
from cae_lib.codecs.pca import *  # noqa: F403
from cae_lib.codecs.quantized import *  # noqa: F403
from cae_lib.codecs.thumbnail import *  # noqa: F403

__all__ = [*base.__all__, *pca.__all__, *thumbnail.__all__, *latent.__all__, *learned.__all__,
           *quantized.__all__, *classical.__all__]
