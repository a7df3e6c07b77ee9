"""The book's named runs: what each chapter trains, by name.

The chapters and the command line (``python -m cae_lib train NAME``) take
their configurations from here, so the book, the tests and a user at a shell
train exactly the same runs and share one cache. This module is a leaf of the
library: no module of ``cae_lib`` imports it; only the front ends (the
command line and the chapters) do.

Example:
    >>> from cae_lib.experiments import experiment, names
    >>> experiment("given_mse", profile="smoke").loss
    'mse'
    >>> "colorize" in names()
    True
"""

from __future__ import annotations

from cae_lib.models import CAESpec, colorization_spec
from cae_lib.training import RunConfig

_GIVEN = CAESpec()

#: name -> (chapter, one-line description, RunConfig keyword arguments)
_EXPERIMENTS: dict[str, tuple[int, str, dict]] = {
    "given_bce": (1, "given architecture, binary cross-entropy", dict(model=_GIVEN, loss="binary_crossentropy")),
    "given_mse": (1, "given architecture, mean squared error", dict(model=_GIVEN, loss="mse")),
    "avg_pool": (2, "average pooling instead of max", dict(model=CAESpec(pooling="avg"), loss="mse")),
    "no_pool": (2, "no pooling, no upsampling (latent 32x32x16)", dict(model=CAESpec(pooling="none"), loss="mse")),
    "no_pool_1024": (
        2,
        "no pooling, latent squeezed to 32x32x1 = 1024 values",
        dict(model=CAESpec(filters=(8, 12, 1), pooling="none"), loss="mse"),
    ),
    "wide": (2, "twice the filters, same 8x8x16 latent", dict(model=CAESpec(filters=(16, 24, 16)), loss="mse")),
    "deep": (2, "two convolutions per stage, same latent", dict(model=CAESpec(convs_per_stage=2), loss="mse")),
    "small_latent": (
        2,
        "a third pooling stage: latent 4x4x16 = 256 values",
        dict(model=CAESpec(filters=(8, 12, 16, 16)), loss="mse"),
    ),
    "colorize": (
        3,
        "colorization: L in, a,b out",
        dict(
            model=colorization_spec(filters=(16, 32, 64)),
            task="colorize",
            loss="mse",
            metrics=("mae",),
        ),
    ),
}


def names(chapter: int | None = None) -> list[str]:
    """Experiment names, all or those of one chapter, in book order."""
    return [n for n, (ch, _, _) in _EXPERIMENTS.items() if chapter is None or ch == chapter]


def describe(name: str) -> str:
    """One-line description of an experiment."""
    return _lookup(name)[1]


def experiment(name: str, profile: str | None = None, **overrides) -> RunConfig:
    """The configuration of a named run.

    Args:
        name: one of :func:`names`.
        profile: ``"full"`` or ``"smoke"`` (default: ``CAE_PROFILE``).
        **overrides: any other RunConfig field (e.g. ``epochs=3``).

    Returns:
        The :class:`~cae_lib.training.RunConfig`.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
    """
    _, _, kwargs = _lookup(name)
    settings = dict(name=name, **kwargs)
    if profile is not None:
        settings["profile"] = profile
    settings.update(overrides)
    return RunConfig(**settings)


def _lookup(name: str):
    try:
        return _EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(_EXPERIMENTS)}") from None


#: The keras-tuner search of chapter 2: keyword arguments of :func:`cae_lib.tuning.search`.
SEARCHES: dict[str, dict] = {
    "latent_search": dict(kind="hyperband", latent_budget=1024),
}


def search_settings(name: str) -> dict:
    """The :func:`cae_lib.tuning.search` arguments of a named search.

    Example:
        >>> search_settings("latent_search")["latent_budget"]
        1024
    """
    try:
        return dict(SEARCHES[name])
    except KeyError:
        raise KeyError(f"unknown search {name!r}; known: {', '.join(SEARCHES)}") from None
