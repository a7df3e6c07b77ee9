"""Convolutional autoencoders for CIFAR-10 in Keras 3.

The package is split into small modules, each importable on its own:

- :mod:`cae_lib.data`: loading CIFAR-10, the stratified split, scaling.
- :mod:`cae_lib.color`: RGB <-> CIELAB and the colorization network's inputs/targets.
- :mod:`cae_lib.latent`: the convolution output-size formula and latent sizes.
- :mod:`cae_lib.models`: the given autoencoder and the parametric builder.
- :mod:`cae_lib.runs`: training runs described by a frozen config, cached on disk.
- :mod:`cae_lib.metrics`, :mod:`cae_lib.plots`: evaluation and figures.

Importing ``cae_lib`` is cheap: TensorFlow/Keras are imported only by the
functions that need them.
"""

__version__ = "0.1.0"
