"""Convolutional autoencoders for CIFAR-10 in Keras 3.

One module per concept of the report (the README's "Where things live" table):
``data`` and ``sources`` (CIFAR-10 and its split), ``color`` (CIELAB),
``latent`` (the output-size formula), ``models`` (the builder), ``tasks``
(what each task feeds the network), ``training``, ``cache`` and ``callbacks``
(runs), ``evaluation`` and ``metrics`` (scores and verdicts), ``baselines``
(classical methods), ``colorization`` (colour classes, photographs),
``restoration`` (denoising), ``tuning`` (keras-tuner), ``plots`` and
``tables`` (figures and tables), ``validate`` (shared checks), ``profiles``,
``notebook`` (chapter helpers), ``experiments`` (the book's named runs, a
leaf) and ``cli``.

Importing ``cae_lib`` is cheap: TensorFlow/Keras are imported only by the
functions that need them.
"""

__version__ = "0.1.0"
