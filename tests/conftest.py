"""Shared fixtures.

Tests that need the real CIFAR-10 read ``CAE_DATA`` (``.ci/run`` sets it to the
shared mirror when that exists); without it they are skipped, never faked.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def cifar_zip():
    """Path of a real CIFAR-10 copy from ``CAE_DATA``, or skip the test."""
    value = os.environ.get("CAE_DATA")
    if not value or not Path(value).exists():
        pytest.skip("set CAE_DATA to a CIFAR-10 copy (e.g. ../shared/data/cifar10-jpeg.zip) to run this test")
    return Path(value)
