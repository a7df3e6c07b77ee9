"""What a task feeds the network and how its predictions are scored: one module per task.

============================  ========================================  ==========================================
task (module)                 input                                     target
============================  ========================================  ==========================================
``Reconstruct`` (reconstruct) RGB in [0, 1]                             the same RGB (one array in memory)
``Colorize`` (colorize)       L*/100, one channel                       a*/128, b*/128 (:mod:`cae_lib.color`)
``ColourClasses`` (colorize)  L*/100                                    a*b*/128, predicted as colour classes
``Denoise`` (denoise)         RGB + Gaussian noise of sigma, clipped    the clean RGB
``RateDistortion`` (compress) RGB in [0, 1], through a quantized latent the same RGB, for bits and distortion
============================  ========================================  ==========================================

:mod:`cae_lib.tasks.base` holds the :class:`Task` interface, the registry,
:class:`TaskData`, :func:`task_data` and the batches every run trains on. A new
task is one module with a registered :class:`Task` subclass (see
``tests/test_tasks.py``, which defines one inside the test and trains it).

Importing this package imports neither TensorFlow nor Keras.

Example:
    >>> Denoise(sigma=0.1).to_dict()
    {'name': 'denoise', 'sigma': 0.1}
    >>> task_from_dict({"name": "colorize"}) == Colorize()
    True
    >>> {"reconstruct", "colorize", "colour_classes", "denoise", "rate_distortion"} <= set(TASKS)
    True
"""

from cae_lib.tasks import base, colorize, compress, denoise, reconstruct
from cae_lib.tasks.base import *  # noqa: F403
from cae_lib.tasks.colorize import *  # noqa: F403
from cae_lib.tasks.compress import *  # noqa: F403
from cae_lib.tasks.denoise import *  # noqa: F403
from cae_lib.tasks.reconstruct import *  # noqa: F403

__all__ = [*base.__all__, *reconstruct.__all__, *colorize.__all__, *denoise.__all__, *compress.__all__]
