"""Codecs: images to bytes and back, each measured by the same record (bits per pixel from real bytes, metrics).

================================  ==============================================================
module                            codec
================================  ==============================================================
:mod:`~cae_lib.codecs.base`       the :class:`Codec` interface, the registry, :func:`measure`
:mod:`~cae_lib.codecs.pca`        :class:`PCA`: float32 coefficients of a fitted PCA basis
:mod:`~cae_lib.codecs.thumbnail`  :class:`Thumbnail`: a small uint8 image, enlarged bicubically
:mod:`~cae_lib.codecs.latent`     :class:`LatentCodec`: a trained autoencoder's float32 latent
================================  ==============================================================

A new codec is one module with a registered :class:`Codec` subclass; the
rate-distortion figure (:func:`cae_lib.plots.rate_distortion_figure`) and the
standings (:func:`cae_lib.findings.standing`) take any list of records and a
rate axis (:data:`RATES`). Importing this package imports neither TensorFlow
nor Keras.

Example:
    >>> sorted(CODECS)[:3], RATES["bpp"]
    (['latent', 'pca', 'thumbnail'], 'bits per pixel')
"""

from cae_lib.codecs import base, latent, pca, thumbnail
from cae_lib.codecs.base import *  # noqa: F403
from cae_lib.codecs.latent import *  # noqa: F403
from cae_lib.codecs.pca import *  # noqa: F403
from cae_lib.codecs.thumbnail import *  # noqa: F403

__all__ = [*base.__all__, *pca.__all__, *thumbnail.__all__, *latent.__all__]
