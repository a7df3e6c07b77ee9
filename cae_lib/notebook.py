"""Small helpers the book's chapters share: set-up, glued numbers, tables.

``glue`` stores a value for the chapter's prose (myst-nb's ``{glue:text}``
role) when myst-nb is installed, and does nothing visible otherwise (Colab),
so a chapter runs the same everywhere.

Example:
    >>> from cae_lib.notebook import fmt
    >>> fmt(0.0123456, ".4f")
    '0.0123'
"""

from __future__ import annotations

import logging
import os
from typing import Any


def setup(seed: int = 0) -> dict[str, str]:
    """Prepare a chapter: quiet TensorFlow's C++ logging, seed, and say what runs.

    Returns:
        ``{"profile", "data", "cache", "backend", "devices"}`` as text, which
        the chapter displays so a reader knows what produced its numbers.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Predicting with several models re-traces tf.functions; TensorFlow's
    # Python logger reports each retrace, which says nothing about results.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    import keras

    from cae_lib.profiles import get_profile
    from cae_lib.runs import cache_root

    keras.utils.set_random_seed(seed)
    _inline_figures()
    devices = "CPU"
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            devices = f"{len(gpus)} GPU(s): " + ", ".join(g.name for g in gpus)
    except ImportError:  # another Keras backend
        devices = keras.backend.backend()
    return {
        "profile": get_profile().name,
        "data": os.environ.get("CAE_DATA") or "keras.datasets.cifar10 (downloaded once, then cached by Keras)",
        "cache": str(cache_root()),
        "backend": f"Keras {keras.__version__} on {keras.backend.backend()}",
        "devices": devices,
    }


def _inline_figures() -> None:
    """In IPython, show returned Matplotlib figures inline, whatever ``MPLBACKEND`` says."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")


def fmt(value: Any, spec: str = ".4g") -> str:
    """``format(value, spec)`` for numbers, ``str(value)`` otherwise."""
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Store ``value`` for ``{glue:text}`name``` in the chapter's prose.

    Uses :func:`myst_nb.glue` when myst-nb is installed (the book build);
    elsewhere it only returns ``value``, and shows it when ``display`` is true.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:
        if display:
            from IPython.display import display as _display

            _display(value)
        return value
    _glue(name, value, display=display)
    return value


def show_markdown(text: str) -> None:
    """Display Markdown (a table from :func:`cae_lib.plots.markdown_table`) in a notebook."""
    from IPython.display import Markdown, display

    display(Markdown(text))
