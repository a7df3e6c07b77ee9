"""Tests for cae_lib.data: loading every source format, bad input, split and subset.

Synthetic datasets are written to tmp_path (random 32x32 PNGs for all ten
classes, pickled batches in the CIFAR-10 format); the expected arrays are built
from what was written, not from the loader. Tests on the real copy use the
``cifar_zip`` fixture and skip without CAE_DATA.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from cae_lib import data
from cae_lib.data import (
    CLASS_NAMES,
    CifarData,
    Split,
    load_cifar10,
    split_indices,
    stratified_subset,
    to_float,
)

N_TRAIN, N_TEST = 3, 2  # images per class in the synthetic image folders


# --------------------------------------------------------------------------------------
# Synthetic fixtures
# --------------------------------------------------------------------------------------


def _png_bytes(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))  # OpenCV writes BGR
    assert ok
    return buf.tobytes()


def make_image_tree(seed: int = 0):
    """Return ({relative path: file bytes}, expected images, expected labels).

    File names are random ids, so sorted order differs from creation order; the
    expected arrays follow the documented order (train, then test; class order;
    names sorted).
    """
    rng = np.random.default_rng(seed)
    files: dict[str, bytes] = {}
    expected_images, expected_labels = [], []
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        for label, cls in enumerate(CLASS_NAMES):
            ids = rng.choice(1000, size=n, replace=False)  # unsorted
            by_name = {}
            for i in ids:
                img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
                name = f"{split}/{cls}/{i:04d}.png"
                files[name] = _png_bytes(img)
                by_name[name] = img
            for name in sorted(by_name):
                expected_images.append(by_name[name])
                expected_labels.append(label)
    return files, np.stack(expected_images), np.array(expected_labels)


def first_file(files: dict[str, bytes], folder: str) -> str:
    """The first file name (sorted) under ``folder`` in a synthetic tree."""
    return sorted(n for n in files if n.startswith(folder))[0]


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, blob in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return root


def write_zip(path: Path, files: dict[str, bytes], prefix: str = "cifar10/") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for rel, blob in files.items():
            zf.writestr(prefix + rel, blob)
    return path


@pytest.fixture(scope="module")
def tree():
    return make_image_tree()


@pytest.fixture
def image_dir(tmp_path, tree):
    files, _, _ = tree
    return write_tree(tmp_path / "cifar10", files)


def make_batches(n: int = 4, seed: int = 1):
    """Six batches of ``n`` random rows each in CIFAR-10's pickled layout."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name in data._BATCHES:
        rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        batches[name] = {b"batch_label": name.encode(), b"data": rows, b"labels": labels}
    return batches


def write_batches(folder: Path, batches) -> Path:
    folder.mkdir(parents=True)
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def write_targz(path: Path, folder: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname="cifar-10-batches-py")
    return path


def expected_from_batches(batches):
    """Pixel (r, c) of channel ch sits at column ch*1024 + r*32 + c of a row."""
    images, labels = [], []
    r, c = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    for name in data._BATCHES:
        for row, label in zip(batches[name][b"data"], batches[name][b"labels"]):
            img = np.empty((32, 32, 3), np.uint8)
            for ch in range(3):
                img[:, :, ch] = row[ch * 1024 + r * 32 + c]
            images.append(img)
            labels.append(label)
    return np.stack(images), np.array(labels)


# --------------------------------------------------------------------------------------
# Image folders and zips
# --------------------------------------------------------------------------------------


def check_loaded(d: CifarData, tree):
    _, images, labels = tree
    assert d.images.dtype == np.uint8 and d.images.shape == (10 * (N_TRAIN + N_TEST), 32, 32, 3)
    assert d.labels.dtype == np.int64
    np.testing.assert_array_equal(d.images, images)  # PNG is lossless: exact pixels
    np.testing.assert_array_equal(d.labels, labels)
    assert d.class_names == CLASS_NAMES
    assert f"(train {10 * N_TRAIN} + test {10 * N_TEST})" in d.source


def test_image_folder_loads_exact_pixels_in_order(image_dir, tree):
    d = load_cifar10(image_dir)
    check_loaded(d, tree)
    assert d.source.startswith("image folder ")
    # train first: the first 10*N_TRAIN labels are the train part, class by class
    assert d.labels[: 10 * N_TRAIN].tolist() == [k for k in range(10) for _ in range(N_TRAIN)]


def test_image_folder_parent_dir_also_accepted(image_dir, tree):
    check_loaded(load_cifar10(image_dir.parent), tree)  # <parent>/cifar10/{train,test}


@pytest.mark.parametrize("prefix", ["cifar10/", "any-name/", ""])
def test_zip_with_any_root_or_none(tmp_path, tree, prefix):
    path = write_zip(tmp_path / "c.zip", tree[0], prefix=prefix)
    d = load_cifar10(path)
    check_loaded(d, tree)
    assert d.source.startswith(f"image-folder zip {path}")


def test_zip_ignores_top_level_extras(tmp_path, tree):
    path = write_zip(tmp_path / "c.zip", tree[0])
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("README", b"hello")
        zf.writestr("cifar10/LICENSE.txt", b"text")
        zf.writestr("cifar10/.DS_Store", b"\0\1")
        zf.writestr("cifar10/train/cat/.DS_Store", b"\0\1")
        zf.writestr("__MACOSX/cifar10/train/cat/._0001.png", b"\0\1")
        zf.writestr("cifar10/train/", b"")  # directory entry
    check_loaded(load_cifar10(path), tree)


def test_red_image_loads_as_rgb_red(tmp_path, tree):
    files = dict(tree[0])
    name = first_file(files, "train/airplane/")
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 255
    ok, buf = cv2.imencode(".png", np.full((32, 32, 3), (0, 0, 255), np.uint8))  # BGR red
    files[name] = buf.tobytes()
    d = load_cifar10(write_tree(tmp_path / "d", files))
    assert d.images[0].tolist() == red.tolist()
    assert d.images[0, 5, 7].tolist() == [255, 0, 0]


def test_jpeg_and_grayscale_files_are_read(tmp_path, tree):
    files = dict(tree[0])
    smooth = np.zeros((32, 32, 3), np.uint8)
    smooth[..., 0] = np.arange(32, dtype=np.uint8)[None, :] * 8  # red ramp
    smooth[..., 2] = 100
    ok, jpg = cv2.imencode(".jpg", smooth[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    gray = np.arange(1024, dtype=np.uint16).reshape(32, 32) % 256
    ok2, gray_png = cv2.imencode(".png", gray.astype(np.uint8))
    del files[first_file(files, "train/airplane/")]
    files["train/airplane/0000.JPEG"] = jpg.tobytes()  # upper case extension, sorts first
    files["train/automobile/0000.png"] = gray_png.tobytes()
    d = load_cifar10(write_tree(tmp_path / "d", files))
    assert np.abs(d.images[0].astype(int) - smooth).mean() < 3  # lossy, but close
    auto = d.images[d.labels == 1][0]
    np.testing.assert_array_equal(auto, np.repeat(gray.astype(np.uint8)[..., None], 3, axis=2))


# --------------------------------------------------------------------------------------
# Pickled batches: folder and tar.gz
# --------------------------------------------------------------------------------------


def test_batches_folder_and_targz(tmp_path):
    batches = make_batches()
    folder = write_batches(tmp_path / "cifar-10-batches-py", batches)
    images, labels = expected_from_batches(batches)
    for source in (folder, tmp_path, write_targz(tmp_path / "cifar-10-python.tar.gz", folder)):
        d = load_cifar10(source)
        np.testing.assert_array_equal(d.images, images)
        np.testing.assert_array_equal(d.labels, labels)
        assert d.labels.dtype == np.int64 and d.images.dtype == np.uint8
        assert "(train 20 + test 4)" in d.source
    assert d.source.startswith("cifar-10-python archive")
    # the archive is read in memory: nothing new appears next to it
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_targz_with_unsafe_member_is_refused(tmp_path):
    folder = write_batches(tmp_path / "b", make_batches())
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname="cifar-10-batches-py")
        tf.add(folder / "test_batch", arcname="../escape")
    with pytest.raises(ValueError, match="unsafe member name"):
        load_cifar10(path)
    assert not (tmp_path.parent / "escape").exists()


def test_targz_missing_batch(tmp_path):
    batches = make_batches()
    del batches["data_batch_3"]
    folder = write_batches(tmp_path / "b", batches)
    with pytest.raises(ValueError, match="lacks data_batch_3"):
        load_cifar10(write_targz(tmp_path / "x.tar.gz", folder))
    with pytest.raises(FileNotFoundError, match="data_batch_3 is missing"):
        load_cifar10(folder)


def test_batch_with_wrong_content(tmp_path):
    batches = make_batches()
    batches["test_batch"][b"data"] = batches["test_batch"][b"data"][:, :100]
    with pytest.raises(ValueError, match=r"test_batch: 'data' must be uint8 \(N, 3072\)"):
        load_cifar10(write_batches(tmp_path / "b", batches))
    (tmp_path / "b" / "data_batch_1").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="data_batch_1: not a readable CIFAR-10 batch"):
        load_cifar10(tmp_path / "b")


# --------------------------------------------------------------------------------------
# CAE_DATA and the Keras fallback
# --------------------------------------------------------------------------------------


def test_cae_data_env_is_used(monkeypatch, image_dir, tree):
    def no_keras():
        raise AssertionError("Keras must not be asked when CAE_DATA is set")

    monkeypatch.setattr(data, "_keras_load", no_keras)
    monkeypatch.setenv("CAE_DATA", str(image_dir))
    check_loaded(load_cifar10(), tree)
    monkeypatch.setenv("CAE_DATA", str(image_dir / "nope"))
    with pytest.raises(FileNotFoundError, match="from CAE_DATA"):
        load_cifar10()


def test_offline_without_cae_data_explains_fix(monkeypatch):
    cause = OSError("URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")

    def offline():
        raise cause

    monkeypatch.delenv("CAE_DATA", raising=False)
    monkeypatch.setattr(data, "_keras_load", offline)
    with pytest.raises(RuntimeError, match="set CAE_DATA=") as info:
        load_cifar10()
    assert info.value.__cause__ is cause
    assert "cifar-10-python.tar.gz" in str(info.value) and "zip" in str(info.value)


def test_keras_arrays_are_pooled(monkeypatch):
    rng = np.random.default_rng(3)
    x_train = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    y_train = np.array([[0], [1], [2], [3], [4], [5]], np.uint8)  # Keras gives (N, 1) uint8
    y_test = np.array([[9], [8], [7], [6]], np.uint8)
    monkeypatch.delenv("CAE_DATA", raising=False)
    monkeypatch.setattr(data, "_keras_load", lambda: ((x_train, y_train), (x_test, y_test)))
    d = load_cifar10()
    np.testing.assert_array_equal(d.images, np.concatenate([x_train, x_test]))
    assert d.labels.tolist() == [0, 1, 2, 3, 4, 5, 9, 8, 7, 6]
    assert d.source == "keras.datasets.cifar10 (train 6 + test 4)"


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found.*CAE_DATA"):
        load_cifar10(tmp_path / "missing.zip")


def test_unsupported_file(tmp_path):
    (tmp_path / "data.csv").write_text("a,b")
    with pytest.raises(ValueError, match="Unsupported CIFAR-10 source"):
        load_cifar10(tmp_path / "data.csv")


def test_wrong_layout_without_train_test(tmp_path, tree):
    files = {rel.split("/", 1)[1]: blob for rel, blob in tree[0].items()}  # <class>/x.png
    with pytest.raises(ValueError, match="wrong layout, no train/ or test/"):
        load_cifar10(write_tree(tmp_path / "flat", files))
    with pytest.raises(ValueError, match="wrong layout, no train/ or test/"):
        load_cifar10(write_zip(tmp_path / "flat.zip", files))


def test_missing_test_split(tmp_path, tree):
    files = {k: v for k, v in tree[0].items() if k.startswith("train/")}
    with pytest.raises(ValueError, match="no cifar10/test/ folder"):
        load_cifar10(write_zip(tmp_path / "c.zip", files))


def test_empty_class_folder(image_dir):
    for f in (image_dir / "test" / "frog").iterdir():
        f.unlink()
    with pytest.raises(ValueError, match="test/frog are empty"):
        load_cifar10(image_dir)


def test_missing_class_folder(tmp_path, tree):
    files = {k: v for k, v in tree[0].items() if not k.startswith("train/ship/")}
    with pytest.raises(ValueError, match="train/ lacks the class folder.*ship"):
        load_cifar10(write_zip(tmp_path / "c.zip", files))


def test_unknown_class_folder(tmp_path, tree):
    files = dict(tree[0])
    files["train/dinosaur/0001.png"] = files[first_file(files, "train/cat/")]
    with pytest.raises(ValueError, match="unknown class folder 'cifar10/train/dinosaur'"):
        load_cifar10(write_zip(tmp_path / "c.zip", files))


def test_undecodable_image(image_dir):
    (image_dir / "train" / "dog" / "broken.png").write_bytes(b"this is not a png")
    with pytest.raises(ValueError, match=r"broken.png: cannot be decoded as an image"):
        load_cifar10(image_dir)


def test_unknown_extension_in_class_folder(image_dir):
    (image_dir / "test" / "cat" / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match=r"notes.txt' is not an image file"):
        load_cifar10(image_dir)


def test_image_of_wrong_size(tmp_path, tree):
    files = dict(tree[0])
    files["test/horse/big.png"] = _png_bytes(np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ValueError, match=r"big.png: image is 64x48 pixels.*Resize"):
        load_cifar10(write_zip(tmp_path / "c.zip", files))


def test_nested_folder_and_stray_image(image_dir, tree):
    (image_dir / "train" / "cat" / "sub").mkdir()
    with pytest.raises(ValueError, match="nested folder"):
        load_cifar10(image_dir)
    (image_dir / "train" / "cat" / "sub").rmdir()
    (image_dir / "stray.png").write_bytes(tree[0][first_file(tree[0], "train/cat/")])
    with pytest.raises(ValueError, match="unexpected image 'stray.png'"):
        load_cifar10(image_dir)


def test_corrupt_zip(tmp_path, tree):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(os.urandom(2000))
    with pytest.raises(ValueError, match="corrupt or truncated zip"):
        load_cifar10(junk)
    good = write_zip(tmp_path / "good.zip", tree[0]).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated zip"):
        load_cifar10(cut)
    # a flipped byte inside a member's data: caught by the CRC check
    flipped = bytearray(good)
    with zipfile.ZipFile(tmp_path / "good.zip") as zf:
        info = zf.infolist()[5]
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 40
    flipped[offset] ^= 0xFF
    bad = tmp_path / "crc.zip"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=f"cannot read member '{info.filename}'"):
        load_cifar10(bad)


def test_corrupt_targz(tmp_path):
    folder = write_batches(tmp_path / "b", make_batches())
    good = write_targz(tmp_path / "good.tar.gz", folder).read_bytes()
    for name, blob in (("junk.tar.gz", os.urandom(3000)), ("cut.tar.gz", good[: len(good) // 2])):
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(ValueError, match="corrupt or truncated archive.*Re-download"):
            load_cifar10(tmp_path / name)


# --------------------------------------------------------------------------------------
# CifarData
# --------------------------------------------------------------------------------------


def _small_data(seed=0, n=20):
    rng = np.random.default_rng(seed)
    return CifarData(
        rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
        rng.integers(0, 10, n),
        CLASS_NAMES,
        "rng",
    )


def test_cifardata_unpacks_and_fingerprint_is_stable():
    d = _small_data()
    images, labels, class_names, source = d
    assert images is d.images and labels is d.labels
    assert class_names == CLASS_NAMES and source == "rng"
    fp = d.fingerprint
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert "fingerprint" in d.__dict__  # cached
    expected = hashlib.blake2b(digest_size=8)
    expected.update(b"cae_lib.CifarData/1" + b"(20, 32, 32, 3)")
    expected.update(images.tobytes() + labels.astype("<i8").tobytes())
    assert fp == expected.hexdigest()
    assert _small_data().fingerprint == fp  # equal content, new object
    pixel = np.array(images)
    pixel[3, 4, 5, 1] ^= 1
    assert CifarData(pixel, labels, CLASS_NAMES, "x").fingerprint != fp
    relabel = np.array(labels)
    relabel[0] = (relabel[0] + 1) % 10
    assert CifarData(images, relabel, CLASS_NAMES, "x").fingerprint != fp
    assert CifarData(images, labels, CLASS_NAMES, "other source").fingerprint == fp


def test_cifardata_is_frozen_and_read_only():
    d = _small_data()
    with pytest.raises(AttributeError):
        d.source = "x"
    with pytest.raises(ValueError, match="read-only"):
        d.images[0, 0, 0, 0] = 1


@pytest.mark.parametrize(
    "images, labels, match",
    [
        (np.zeros((2, 32, 32, 3), np.float32), [0, 1], "uint8 array of shape"),
        (np.zeros((2, 28, 28, 3), np.uint8), [0, 1], "uint8 array of shape"),
        (np.zeros((2, 32, 32, 3), np.uint8), [0], "2 images but 1 labels"),
        (np.zeros((2, 32, 32, 3), np.uint8), [0, 10], r"labels must lie in 0..9"),
        (np.zeros((2, 32, 32, 3), np.uint8), [0.0, 1.0], "1-D integer array"),
    ],
)
def test_cifardata_validates(images, labels, match):
    with pytest.raises(ValueError, match=match):
        CifarData(images, np.asarray(labels), CLASS_NAMES, "x")


# --------------------------------------------------------------------------------------
# split_indices / stratified_subset
# --------------------------------------------------------------------------------------


def hash_sorted(indices, seed):
    """Independent statement of the documented order: blake2b of "seed:index"."""
    return sorted(
        (int(i) for i in indices),
        key=lambda i: (hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest(), i),
    )


@pytest.fixture(scope="module")
def big_labels():
    return np.random.default_rng(7).permutation(np.repeat(np.arange(10), 6000))


def test_split_is_stratified_disjoint_and_covering(big_labels):
    s = split_indices(big_labels)
    assert isinstance(s, Split)
    train, val, test = s
    for part in s:
        assert part.dtype == np.int64
        assert np.all(np.diff(part) > 0)  # sorted ascending, no repeats
    assert (len(train), len(val), len(test)) == (48000, 6000, 6000)
    everything = np.concatenate([train, val, test])
    np.testing.assert_array_equal(np.sort(everything), np.arange(60000))  # disjoint + covering
    for part, per_class in ((train, 4800), (val, 600), (test, 600)):
        assert np.bincount(big_labels[part], minlength=10).tolist() == [per_class] * 10


def test_split_matches_independent_hash_order(big_labels):
    seed = 5
    s = split_indices(big_labels, seed=seed)
    for cls in (0, 7):
        order = hash_sorted(np.flatnonzero(big_labels == cls), seed)
        assert set(s.train[big_labels[s.train] == cls]) == set(order[:4800])
        assert set(s.val[big_labels[s.val] == cls]) == set(order[4800:5400])
        assert set(s.test[big_labels[s.test] == cls]) == set(order[5400:])


def test_split_is_repeatable_and_seed_dependent(big_labels):
    a, b = split_indices(big_labels), split_indices(big_labels)
    c = split_indices(big_labels, seed=1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.val, c.val)
    assert len(c.val) == len(a.val)


@pytest.mark.parametrize(
    "n, fractions, sizes",
    [
        # 7 * (.8, .1, .1) = 5.6, .7, .7 -> floors 5, 0, 0; 2 left go to the .7s
        (7, (0.8, 0.1, 0.1), (5, 1, 1)),
        # 3 * (.8, .1, .1) = 2.4, .3, .3 -> floors 2, 0, 0; 1 left goes to the .4
        (3, (0.8, 0.1, 0.1), (3, 0, 0)),
        # 10 * (1/3 each): 3.33 each, tie -> the earlier part (train)
        (10, (1 / 3, 1 / 3, 1 / 3), (4, 3, 3)),
        (6000, (0.7, 0.15, 0.15), (4200, 900, 900)),
    ],
)
def test_split_largest_remainder_sizes(n, fractions, sizes):
    labels = np.zeros(n, np.int64)
    s = split_indices(labels, fractions=fractions, seed=2)
    assert (len(s.train), len(s.val), len(s.test)) == sizes
    order = hash_sorted(range(n), 2)
    assert s.train.tolist() == sorted(order[: sizes[0]])
    assert s.test.tolist() == sorted(order[sizes[0] + sizes[1]:])


@pytest.mark.parametrize(
    "fractions",
    [(0.5, 0.3, 0.1), (0.8, 0.2), (0.8, 0.1, 0.1, 0.0), (1.2, -0.1, -0.1), (1.0, 0.0, 0.0),
     (0.8, 0.1, float("nan")), "abc", 0.8, (True, 0.0, 0.0)],
)
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions must be three positive numbers"):
        split_indices(np.zeros(10, np.int64), fractions=fractions)


def test_split_accepts_fractions_summing_to_one_within_tolerance():
    s = split_indices(np.zeros(100, np.int64), fractions=(0.7, 0.2, 0.1 + 5e-10))
    assert (len(s.train), len(s.val), len(s.test)) == (70, 20, 10)


def test_split_rejects_bad_labels_and_seed():
    with pytest.raises(ValueError, match="1-D array of integer"):
        split_indices(np.zeros((5, 2), np.int64))
    with pytest.raises(ValueError, match="1-D array of integer"):
        split_indices(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="labels is empty"):
        split_indices(np.zeros(0, np.int64))
    with pytest.raises(TypeError, match="seed must be an integer"):
        split_indices(np.zeros(5, np.int64), seed=1.5)


def test_stratified_subset(big_labels):
    s = split_indices(big_labels)
    sub = stratified_subset(s.train, big_labels, per_class=20, seed=3)
    assert sub.dtype == np.int64 and len(sub) == 200 and np.all(np.diff(sub) > 0)
    assert np.isin(sub, s.train).all()
    assert np.bincount(big_labels[sub], minlength=10).tolist() == [20] * 10
    expected = []
    for cls in range(10):
        expected += hash_sorted(s.train[big_labels[s.train] == cls], 3)[:20]
    assert sub.tolist() == sorted(expected)
    np.testing.assert_array_equal(sub, stratified_subset(s.train, big_labels, 20, seed=3))
    assert not np.array_equal(sub, stratified_subset(s.train, big_labels, 20, seed=4))


def test_stratified_subset_errors():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    idx = np.arange(8)
    with pytest.raises(ValueError, match="class 1 has only 2 samples.*per_class=3"):
        stratified_subset(idx, labels, per_class=3)
    with pytest.raises(ValueError, match="class 2 has only 0 samples"):
        stratified_subset(np.arange(5), labels, per_class=1)
    with pytest.raises(ValueError, match="per_class must be a positive integer"):
        stratified_subset(idx, labels, per_class=0)
    with pytest.raises(ValueError, match=r"indices must lie in 0..7"):
        stratified_subset(np.array([0, 8]), labels, per_class=1)
    with pytest.raises(ValueError, match="repeats"):
        stratified_subset(np.array([0, 0, 3, 5]), labels, per_class=1)


# --------------------------------------------------------------------------------------
# to_float
# --------------------------------------------------------------------------------------


def test_to_float_scales_uint8():
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    y = to_float(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert y.min() == 0.0 and y.max() == 1.0
    np.testing.assert_allclose(y[0, :, :, 0].ravel(), np.arange(256) / 255.0, rtol=0, atol=1e-7)
    assert to_float(np.zeros((32, 32, 1), np.uint8)).shape == (32, 32, 1)


def test_to_float_refuses_other_input():
    with pytest.raises(TypeError, match="expects uint8.*use them as they are"):
        to_float(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(TypeError, match="expects uint8"):
        to_float(np.zeros((2, 32, 32, 3), np.int64))
    with pytest.raises(ValueError, match=r"\(H, W, C\) or \(N, H, W, C\)"):
        to_float(np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"C = 1 or 3"):
        to_float(np.zeros((2, 32, 32, 4), np.uint8))


# --------------------------------------------------------------------------------------
# Import hygiene
# --------------------------------------------------------------------------------------


def test_import_does_not_pull_in_tensorflow_or_keras():
    code = (
        "import cae_lib.data, sys; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------
# The real copy (CAE_DATA)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(cifar_zip):
    return load_cifar10(cifar_zip)


@pytest.mark.realdata
def test_real_copy_shapes_and_counts(real):
    assert real.images.shape == (60000, 32, 32, 3) and real.images.dtype == np.uint8
    assert real.labels.shape == (60000,) and real.labels.dtype == np.int64
    assert np.bincount(real.labels).tolist() == [6000] * 10
    assert np.bincount(real.labels[:50000]).tolist() == [5000] * 10  # train first
    assert real.source.endswith("(train 50000 + test 10000)")
    assert 0 < real.images.mean() < 255


@pytest.mark.realdata
def test_real_copy_split(real):
    s = split_indices(real.labels)
    assert (len(s.train), len(s.val), len(s.test)) == (48000, 6000, 6000)
    for part, n in ((s.train, 4800), (s.val, 600), (s.test, 600)):
        assert np.bincount(real.labels[part], minlength=10).tolist() == [n] * 10
    assert len(np.unique(np.concatenate(list(s)))) == 60000


@pytest.mark.realdata
def test_real_copy_first_image_is_first_train_airplane(real, cifar_zip):
    if cifar_zip.suffix != ".zip":
        pytest.skip("checks the image-folder zip layout")
    with zipfile.ZipFile(cifar_zip) as zf:
        names = sorted(n for n in zf.namelist() if "/train/airplane/" in n)
        blob = zf.read(names[0])
    bgr = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(real.images[0], bgr[:, :, ::-1])
    assert real.labels[0] == 0 and real.labels[-1] == 9
