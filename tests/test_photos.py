"""cae_lib.photos: the bundled photographs and the tiles cut from them."""

import cv2
import numpy as np
import pytest

from cae_lib import photos


def test_tiles_are_area_shrunk_photographs_cut_on_a_grid():
    coffee = photos.sample_photographs(["coffee"])["coffee"]
    tiles = photos.photo_tiles(names=["coffee"])
    assert tiles.shape == (6 * 9, 32, 32, 3) and tiles.dtype == np.uint8
    # by hand: the mean of each 2 x 2 block, rounded as OpenCV rounds
    blocks = coffee[:64, :64].astype(np.float64).reshape(32, 2, 32, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(tiles[0], blocks, atol=0.51)
    second = coffee[:64, 64:128].astype(np.float64).reshape(32, 2, 32, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(tiles[1], second, atol=0.51)  # row by row
    np.testing.assert_array_equal(tiles[0], cv2.resize(coffee, (300, 200), interpolation=cv2.INTER_AREA)[:32, :32])


def test_every_photograph_gives_tiles_and_bad_sizes_are_refused():
    assert len(photos.photo_tiles()) == 64 + 54 + 28 + 60  # astronaut, coffee, chelsea, rocket at half size
    with pytest.raises(ValueError, match="no photograph holds"):
        photos.photo_tiles(size=400, names=["coffee"])
    with pytest.raises(ValueError, match="scale"):
        photos.photo_tiles(scale=0)
