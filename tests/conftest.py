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


@pytest.fixture(scope="session")
def tiny_zip(tmp_path_factory):
    """An image-folder zip of 1,000 smooth 32x32 PNGs (100 per class): enough for the smoke profile."""
    import zipfile

    import cv2
    import numpy as np

    from cae_lib.data import CLASS_NAMES

    path = tmp_path_factory.mktemp("data") / "tiny.zip"
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as zf:
        for name in CLASS_NAMES:
            for i in range(100):
                small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
                image = cv2.resize(small, (32, 32), interpolation=cv2.INTER_LINEAR)
                part = "train" if i < 80 else "test"
                zf.writestr(f"cifar/{part}/{name}/{i:04d}.png", cv2.imencode(".png", image)[1].tobytes())
    return path
