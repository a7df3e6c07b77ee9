"""What the chapters share: set-up, glued values, tables and progress, the same in Jupyter Book and Colab.

:func:`glue_all` stores values for the chapter's prose (myst-nb's
``{glue:text}`` role) when myst-nb is installed (the book build) and does
nothing visible otherwise (Colab), so a chapter runs the same everywhere.
:func:`setup` describes what produced a chapter's numbers without naming any
path of the machine that built it.

Example:
    >>> from cae_lib.notebook import fmt
    >>> fmt(0.0123456, ".4f")
    '0.0123'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["setup", "fmt", "glue", "glue_all", "show_markdown", "show_table", "training_verbosity",
    "build_note",
    "versions",
    "lock_differences",
    "lock_sentence",
]


def _devices() -> str:
    import keras

    try:
        import tensorflow as tf
    except ImportError:  # another Keras backend
        return keras.backend.backend()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"{len(gpus)} GPU(s)"
    return f"CPU ({os.cpu_count()} cores)"


def setup(seed: int = 0) -> dict[str, str]:
    """Prepare a chapter: quiet TensorFlow's logging, seed Keras, show figures inline, say what runs.

    Returns:
        ``{"profile", "data", "backend", "devices"}`` as text, which the chapter
        displays so a reader knows what produced its numbers. The data is
        described (format, image count, fingerprint), never located.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Predicting with several models re-traces tf.functions; TensorFlow's
    # Python logger reports each retrace, which says nothing about results.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    import keras

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # again: importing TensorFlow may reset it

    from cae_lib.data import describe_source, load_data
    from cae_lib.profiles import get_profile

    keras.utils.set_random_seed(seed)
    _inline_figures()
    return {
        "profile": get_profile().name,
        "data": describe_source(load_data()),
        "backend": f"Keras {keras.__version__} on {keras.backend.backend()}",
        "devices": _devices(),
    }


BOOK_BUILD_ENV = "CAE_BOOK_BUILD"


def training_verbosity() -> int:
    """Keras ``fit`` verbosity for a chapter cell: a progress bar when a person watches, silence in a book build.

    ``make book`` sets ``CAE_BOOK_BUILD=1``, which keeps the built pages free of
    thousand-line progress logs; a reader running the chapter in Colab or
    Jupyter sees each epoch's progress bar with the loss and an ETA.

    Example:
        >>> import os; os.environ["CAE_BOOK_BUILD"] = "1"; training_verbosity()
        0
    """
    return 0 if os.environ.get(BOOK_BUILD_ENV, "").strip() not in ("", "0") else 1


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
    NumPy scalars are glued as the Python numbers they hold (their text is then
    ``25.3``, not ``np.float64(25.3)``, so the prose can format them).
    """
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    try:
        from myst_nb import glue as _glue
    except ImportError:
        if display:
            from IPython.display import display as _display

            _display(value)
        return value
    _glue(name, value, display=display)
    return value


def glue_all(values: Mapping[str, Any], prefix: str = "") -> Mapping[str, Any]:
    """:func:`glue` every ``name: value`` of a dict (names prefixed with ``prefix``); returns the dict.

    Example:
        >>> glue_all({"a": 1})["a"]
        1
    """
    for name, value in values.items():
        glue(f"{prefix}{name}", value)
    return values


def show_markdown(text: str) -> None:
    """Display Markdown (a table from :func:`cae_lib.tables.markdown_table`) in a notebook."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_table(rows, columns=None, floatfmt=".4f", headers=None, *, layout=None) -> None:
    """Display rows as a Markdown table: in a :class:`cae_lib.tables.Layout`, or with the arguments given."""
    from cae_lib.tables import markdown_table

    show_markdown(layout.render(rows) if layout is not None else markdown_table(rows, columns, floatfmt, headers))


def build_note(profile: str) -> str:
    """One sentence on what a build's numbers are worth, for the top of the book.

    Example:
        >>> build_note("smoke")[:40]
        'This build used the smoke profile: every'
    """
    if profile == "smoke":
        return ("This build used the smoke profile: every model trained for at most two epochs on a few hundred "
                "images, so its numbers are a plumbing check, not results.")
    return "This build used the full profile: every model trained on the whole training part of the split."


def versions() -> list[dict]:
    """The versions of Python and of the libraries the numbers depend on, as table rows."""
    import importlib.metadata
    import platform

    rows = [{"package": "Python", "version": platform.python_version()}]
    for name in ("tensorflow", "keras", "keras-tuner", "numpy", "opencv-python-headless", "scikit-learn",
                 "scikit-image", "matplotlib", "jupyter-book"):
        try:
            rows.append({"package": name, "version": importlib.metadata.version(name)})
        except importlib.metadata.PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return rows


def lock_differences(lock_text: str, installed=None) -> list[dict]:
    r"""The packages whose installed version is not the one ``requirements.lock`` pins.

    Args:
        lock_text: the lock file's text (``name==version`` lines; comments ignored).
        installed: ``{normalised name: version}`` (default: this Python's installed distributions).

    Returns:
        One row per difference: ``{"package", "locked", "installed"}`` (``installed`` is
        ``"not installed"`` for a missing package).

    Example:
        >>> lock_differences("numpy==2.0.0\nscipy==1.0  # via x\n", {"numpy": "2.0.0", "scipy": "1.1"})
        [{'package': 'scipy', 'locked': '1.0', 'installed': '1.1'}]
    """
    import importlib.metadata
    import re

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    if installed is None:
        installed = {norm(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    installed = {norm(k): v for k, v in installed.items()}
    rows = []
    for line in lock_text.splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", line)
        if match:
            name, version = norm(match.group(1)), match.group(2)
            have = installed.get(name, "not installed")
            if have != version:
                rows.append({"package": name, "locked": version, "installed": have})
    return rows


def lock_sentence(differences: list[dict], lock_name: str = "requirements.lock") -> str:
    """Whether this build ran in the locked environment, in one sentence.

    Example:
        >>> lock_sentence([])
        'This build ran in the environment requirements.lock pins: every locked package at its locked version.'
    """
    if not differences:
        return f"This build ran in the environment {lock_name} pins: every locked package at its locked version."
    return (f"This build did not run in the environment {lock_name} pins: {len(differences)} package"
            f"{'s' if len(differences) > 1 else ''} differ (table below), so its numbers may differ from the "
            "published ones.")
