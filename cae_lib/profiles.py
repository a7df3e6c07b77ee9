"""Run profiles: how much data and how many epochs a build uses.

``CAE_PROFILE=full`` (the default) is the published report: the whole
80/10/10 split and the epoch counts the chapters ask for. ``CAE_PROFILE=smoke``
runs every chapter end to end on a small stratified subset with at most two
epochs, for CI and tests.

Example:
    >>> from cae_lib.profiles import get_profile
    >>> get_profile("smoke").max_epochs
    2
    >>> get_profile("full").train_per_class is None
    True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

__all__ = [
    "PROFILE_ENV",
    "Profile",
    "PROFILES",
    "get_profile",
]

PROFILE_ENV = "CAE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """How much of the data and training a run uses.

    Attributes:
        name: ``"full"`` or ``"smoke"``.
        train_per_class: images per class kept from the training part
            (``None``: all of them).
        val_per_class: the same for the validation part.
        test_per_class: the same for the test part.
        max_epochs: cap on any run's epochs (``None``: no cap).
        tuner_max_trials: trial budget of a keras-tuner search.
        tuner_max_epochs: most epochs a single tuner trial trains.
        tuner_train_per_class: training images per class a tuner trial trains
            on (``None``: all the profile's training images). Trials rank
            architectures; the best one is then trained on the whole training
            part like any other run. Validation always uses the whole part.
    """

    name: str
    train_per_class: int | None
    val_per_class: int | None
    test_per_class: int | None
    max_epochs: int | None
    tuner_max_trials: int
    tuner_max_epochs: int
    tuner_train_per_class: int | None = None

    def epochs(self, requested: int) -> int:
        """The epochs a run asking for ``requested`` trains under this profile."""
        return requested if self.max_epochs is None else min(requested, self.max_epochs)

    def run_settings(self) -> dict:
        """The fields that decide a training run: all but the search's ``tuner_*`` budget.

        A run's cache key holds these, so that changing the search's budget
        leaves the trained runs in the cache (the search's key holds its own).

        Example:
            >>> sorted(get_profile("smoke").run_settings())
            ['max_epochs', 'name', 'test_per_class', 'train_per_class', 'val_per_class']
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("tuner_")}


PROFILES = {
    # Search trials: 6 epochs ranked the best architectures of a 12-epoch search as
    # 12 epochs did, in 0.53 of the time (bench/bench_search.py, bench/results/search.md).
    "full": Profile(
        "full", None, None, None, None, tuner_max_trials=30, tuner_max_epochs=6, tuner_train_per_class=1000
    ),
    "smoke": Profile("smoke", 40, 10, 10, 2, tuner_max_trials=2, tuner_max_epochs=1),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the named profile, or the one ``CAE_PROFILE`` selects.

    Args:
        name: ``"full"`` or ``"smoke"``; ``None`` reads ``CAE_PROFILE``
            (default ``"full"``).

    Returns:
        The :class:`Profile`.

    Raises:
        ValueError: for an unknown profile name.
    """
    chosen = name if name is not None else os.environ.get(PROFILE_ENV, "full")
    chosen = chosen.strip().lower()
    if chosen not in PROFILES:
        source = "argument" if name is not None else f"environment variable {PROFILE_ENV}"
        raise ValueError(
            f"unknown profile {chosen!r} (from the {source}); "
            f"use one of {sorted(PROFILES)}, e.g. {PROFILE_ENV}=smoke"
        )
    return PROFILES[chosen]
