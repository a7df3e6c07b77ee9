"""Tests for cae_lib.data: where the data comes from, CifarData, the split and scaling.

The on-disk formats are tested in tests/test_sources.py; here a tiny
cifar-10-batches-py folder (random rows written to tmp_path) stands in for a
copy. The split is checked against an independent statement of the documented
hash order, split_digest against hashlib directly. Tests on the real copy use
the ``cifar_zip`` fixture and skip without CAE_DATA.
"""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cae_lib import sources
from cae_lib.data import (
    CLASS_NAMES,
    DATA_ENV,
    CifarData,
    Split,
    data_source,
    describe_source,
    load_cifar10,
    load_data,
    split_counts,
    split_digest,
    split_indices,
    stratified_subset,
    to_float,
)

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------
# A tiny local copy
# --------------------------------------------------------------------------------------


def write_tiny_copy(folder: Path, n: int = 2, seed: int = 0):
    """A cifar-10-batches-py folder of six batches of ``n`` rows; return (folder, images, labels).

    The expected images follow the documented layout: a row holds 1,024 red,
    then green, then blue values, each image row by row.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    images, labels = [], []
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        batch_labels = [int(v) for v in rng.integers(0, 10, size=n)]
        (folder / name).write_bytes(pickle.dumps({b"data": rows, b"labels": batch_labels}))
        images += [np.stack([row[c * 1024:(c + 1) * 1024].reshape(32, 32) for c in range(3)], -1) for row in rows]
        labels += batch_labels
    return folder, np.stack(images), np.array(labels)


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_copy(tmp_path / "cifar-10-batches-py")


@pytest.fixture(autouse=True)
def _fresh_cache():
    load_data.cache_clear()
    yield
    load_data.cache_clear()


def no_keras():
    raise AssertionError("Keras must not be asked when a source is given")


# --------------------------------------------------------------------------------------
# CAE_DATA, source= and the Keras fallback
# --------------------------------------------------------------------------------------


def test_load_cifar10_reads_a_local_copy(tiny):
    folder, images, labels = tiny
    d = load_cifar10(folder)
    np.testing.assert_array_equal(d.images, images)
    np.testing.assert_array_equal(d.labels, labels)
    assert d.kind == "cifar-10-batches-py folder"
    assert d.source == f"cifar-10-batches-py folder {folder} (train 10 + test 2)"


def test_cae_data_env_is_used(monkeypatch, tiny):
    folder, images, _ = tiny
    monkeypatch.setattr(sources, "_keras_load", no_keras)
    monkeypatch.setenv("CAE_DATA", str(folder))
    np.testing.assert_array_equal(load_cifar10().images, images)
    monkeypatch.setenv("CAE_DATA", str(folder / "nope"))
    with pytest.raises(FileNotFoundError, match="from CAE_DATA"):
        load_cifar10()


def test_spaces_around_cae_data_and_source_are_stripped(monkeypatch, tiny):
    folder, images, _ = tiny
    monkeypatch.setattr(sources, "_keras_load", no_keras)
    monkeypatch.setenv("CAE_DATA", f"  {folder} \n")
    assert data_source() == str(folder)
    for d in (load_cifar10(), load_data(), load_cifar10(f" {folder} "), load_data(f"\t{folder} ")):
        np.testing.assert_array_equal(d.images, images)
    assert load_cifar10(f" {folder} ").source.startswith(f"cifar-10-batches-py folder {folder} (")


def test_data_source_is_none_when_unset_or_blank(monkeypatch):
    monkeypatch.delenv("CAE_DATA", raising=False)
    assert DATA_ENV == "CAE_DATA" and data_source() is None
    monkeypatch.setenv("CAE_DATA", "   ")
    assert data_source() is None


def test_blank_or_non_path_source_is_refused():
    with pytest.raises(ValueError, match="source is empty"):
        load_cifar10("  ")
    with pytest.raises(ValueError, match="source is empty"):
        load_data("")
    with pytest.raises(TypeError, match="source must be a str or os.PathLike"):
        load_cifar10(b"/data/c.zip")


def test_offline_without_cae_data_explains_fix(monkeypatch):
    cause = OSError("URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")

    def offline():
        raise cause

    monkeypatch.delenv("CAE_DATA", raising=False)
    monkeypatch.setattr(sources, "_keras_load", offline)
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
    monkeypatch.setattr(sources, "_keras_load", lambda: ((x_train, y_train), (x_test, y_test)))
    d = load_cifar10()
    np.testing.assert_array_equal(d.images, np.concatenate([x_train, x_test]))
    assert d.labels.tolist() == [0, 1, 2, 3, 4, 5, 9, 8, 7, 6]
    assert d.source == "keras.datasets.cifar10 (train 6 + test 4)"
    assert d.kind == "keras.datasets.cifar10"


# --------------------------------------------------------------------------------------
# load_data: once per source and process
# --------------------------------------------------------------------------------------


def test_load_data_is_memoised_per_normalised_source(monkeypatch, tiny):
    folder, _, _ = tiny
    monkeypatch.setattr(sources, "_keras_load", no_keras)
    monkeypatch.chdir(folder.parent)
    first = load_data(folder)
    assert load_data(str(folder)) is first
    assert load_data(f" {folder.name} ") is first  # relative, with spaces: the same absolute path
    monkeypatch.setenv("CAE_DATA", f"{folder} ")
    assert load_data() is first
    load_data.cache_clear()
    assert load_data(folder) is not first


def test_load_data_follows_cae_data_and_keeps_two_sources(monkeypatch, tmp_path):
    a, images_a, _ = write_tiny_copy(tmp_path / "a" / "cifar-10-batches-py", seed=1)
    b, images_b, _ = write_tiny_copy(tmp_path / "b" / "cifar-10-batches-py", seed=2)
    calls = []
    real = sources.read_path
    monkeypatch.setattr(sources, "read_path", lambda path, via=None: calls.append(path) or real(path, via))
    monkeypatch.setenv("CAE_DATA", str(a))
    np.testing.assert_array_equal(load_data().images, images_a)
    monkeypatch.setenv("CAE_DATA", str(b))
    np.testing.assert_array_equal(load_data().images, images_b)
    load_data(a), load_data(b)
    assert calls == [a, b]  # each read once
    monkeypatch.setenv("CAE_DATA", str(tmp_path / "missing.zip"))
    with pytest.raises(FileNotFoundError, match="missing.zip.*from CAE_DATA"):
        load_data()


def test_load_data_without_cae_data_asks_keras_once(monkeypatch):
    x = np.zeros((2, 32, 32, 3), np.uint8)
    calls = []
    monkeypatch.delenv("CAE_DATA", raising=False)
    monkeypatch.setattr(sources, "_keras_load", lambda: calls.append(1) or ((x, [0, 1]), (x, [2, 3])))
    assert load_data() is load_data()
    assert calls == [1]


# --------------------------------------------------------------------------------------
# describe_source
# --------------------------------------------------------------------------------------


def test_describe_source_names_format_size_and_fingerprint_but_no_path(tiny):
    folder, _, _ = tiny
    d = load_cifar10(folder)
    text = describe_source(d)
    assert text == f"cifar-10-batches-py folder, 12 images, fingerprint {d.fingerprint[:8]}…"
    assert str(folder) not in text and "/" not in text
    arrays = CifarData(np.zeros((1200, 32, 32, 3), np.uint8), np.zeros(1200, np.int64))
    assert describe_source(arrays).startswith("in-memory arrays, 1,200 images, fingerprint ")
    with pytest.raises(TypeError, match="expects a CifarData"):
        describe_source(d.images)


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
# split_digest
# --------------------------------------------------------------------------------------


def test_split_digest_matches_hashlib():
    s = Split(np.array([0, 3, 5]), np.array([1]), np.array([2, 4], np.int32))
    expected = hashlib.sha256(b"cae_lib.Split/1")
    for part in ([0, 3, 5], [1], [2, 4]):
        expected.update(len(part).to_bytes(8, "little"))
        expected.update(b"".join(int(i).to_bytes(8, "little", signed=True) for i in part))
    assert split_digest(s) == expected.hexdigest()
    assert split_digest(tuple(s)) == split_digest(s)  # any three index arrays


def test_split_digest_sees_boundaries_order_and_content(big_labels):
    s = split_indices(big_labels)
    digest = split_digest(s)
    assert len(digest) == 64 and digest == split_digest(split_indices(big_labels))
    assert digest != split_digest(split_indices(big_labels, seed=1))
    # the same concatenated indices, cut elsewhere
    a = Split(np.array([0, 1]), np.array([2]), np.array([3]))
    b = Split(np.array([0]), np.array([1, 2]), np.array([3]))
    assert split_digest(a) != split_digest(b)
    assert split_digest(a) != split_digest(Split(a.val, a.train, a.test))  # parts in another order


@pytest.mark.parametrize(
    "split, match",
    [
        ((np.arange(2), np.arange(2)), "three parts"),
        ((np.arange(2), np.zeros((1, 2), np.int64), np.arange(2)), r"split.val must be a 1-D integer"),
        ((np.arange(2), np.arange(2), np.array([0.5])), r"split.test must be a 1-D integer"),
        ((np.array([True]), np.arange(2), np.arange(2)), r"split.train must be a 1-D integer"),
    ],
)
def test_split_digest_refuses_other_input(split, match):
    with pytest.raises(ValueError, match=match):
        split_digest(split)


# --------------------------------------------------------------------------------------
# split_counts (moved from cae_lib.chapter1 with its tests)
# --------------------------------------------------------------------------------------


def test_split_counts_hand_counted():
    labels = np.array([0, 1, 2, 0, 1, 0])
    rows = split_counts(labels, {"train": [0, 1, 3, 5], "test": np.array([2, 4])}, ("a", "b", "c"))
    assert rows == [
        {"class": "a", "train": 3, "test": 0},
        {"class": "b", "train": 1, "test": 1},
        {"class": "c", "train": 0, "test": 1},
        {"class": "total", "train": 4, "test": 2},
    ]
    assert all(type(v) is int for r in rows for k, v in r.items() if k != "class")


def test_split_counts_of_a_stratified_split_are_the_published_fractions():
    # 60,000 labels, 6,000 per class, as pooled CIFAR-10: 80/10/10 gives 4,800/600/600 per class.
    labels = np.repeat(np.arange(10), 6000)
    split = split_indices(labels)
    rows = split_counts(labels, {"train": split.train, "val": split.val, "test": split.test}, CLASS_NAMES)
    assert [r["class"] for r in rows] == list(CLASS_NAMES) + ["total"]
    for r in rows[:-1]:
        assert (r["train"], r["val"], r["test"]) == (4800, 600, 600)
    assert rows[-1] == {"class": "total", "train": 48000, "val": 6000, "test": 6000}


def test_split_counts_custom_total_label_and_empty_part():
    rows = split_counts([0, 1], {"none": np.array([], dtype=np.int64)}, ("x", "y"), total_label="all")
    assert rows[-1] == {"class": "all", "none": 0}


@pytest.mark.parametrize(
    "labels, parts, names, match",
    [
        ([0.0, 1.0], {"p": [0]}, ("a", "b"), "integer"),
        ([0, 1], {}, ("a", "b"), "non-empty"),
        ([0, 1], {"p": [0]}, (), "class_names"),
        ([0, 2], {"p": [0]}, ("a", "b"), r"\[0, 2\)"),
        ([0, 1], {"p": [0, 2]}, ("a", "b"), "outside labels"),
        ([0, 1], {"p": [0.5]}, ("a", "b"), "integer index"),
    ],
)
def test_split_counts_bad_input(labels, parts, names, match):
    with pytest.raises(ValueError, match=match):
        split_counts(labels, parts, names)


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


def test_import_does_not_pull_in_tensorflow_keras_or_opencv():
    code = (
        "import cae_lib.data, cae_lib.sources, sys; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'cv2')); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_data_is_the_only_reader_of_cae_data_among_its_modules():
    assert 'os.environ.get(DATA_ENV, "")' in (REPO / "cae_lib" / "data.py").read_text()
    assert "environ" not in (REPO / "cae_lib" / "sources.py").read_text()


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
def test_real_copy_description_has_no_path(real, cifar_zip):
    text = describe_source(real)
    assert text == f"{real.kind}, 60,000 images, fingerprint {real.fingerprint[:8]}…"
    assert str(cifar_zip) not in text and cifar_zip.name not in text


@pytest.mark.realdata
def test_real_copy_first_image_is_first_train_airplane(real, cifar_zip):
    if cifar_zip.suffix != ".zip":
        pytest.skip("checks the image-folder zip layout")
    import zipfile

    import cv2

    with zipfile.ZipFile(cifar_zip) as zf:
        names = sorted(n for n in zf.namelist() if "/train/airplane/" in n)
        blob = zf.read(names[0])
    bgr = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(real.images[0], bgr[:, :, ::-1])
    assert real.labels[0] == 0 and real.labels[-1] == 9


# pinned split digests: the split every cached run was trained on. A change of
# the split's algorithm changes these, and with them every run's cache key.
PINNED_SYNTHETIC = "a2f702397e63bef6755c4caab8c7ca7ced6572e2395d2b8ca33e6278d108cf62"
PINNED_MIRROR = "59775d1b9737f3cdedd480bd43cd2a8d5c3c606fca6de21049d2c54b3d665afd"


def _digest_in_a_subprocess(code: str) -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_split_digest_is_pinned_for_cifar_sized_labels():
    code = (
        "import numpy as np; from cae_lib.data import split_digest, split_indices; "
        "print(split_digest(split_indices(np.repeat(np.arange(10), 6000))))"
    )
    assert _digest_in_a_subprocess(code) == PINNED_SYNTHETIC


@pytest.mark.realdata
def test_split_digest_is_pinned_for_the_shared_mirror(cifar_zip):
    code = (
        "from cae_lib.data import load_cifar10, split_digest, split_indices; "
        f"d = load_cifar10({str(cifar_zip)!r}); "
        "print(d.fingerprint, split_digest(split_indices(d.labels)))"
    )
    fingerprint, digest = _digest_in_a_subprocess(code).split()
    if fingerprint != "5809f182731cd614":
        pytest.skip(f"CAE_DATA is another copy of CIFAR-10 (fingerprint {fingerprint}), not the shared mirror")
    assert digest == PINNED_MIRROR


# --------------------------------------------------------------------------- the decoded copy of a large zip


def test_a_large_zip_is_decoded_once_and_its_copy_checked(tiny_zip, tmp_path, monkeypatch):
    from cae_lib import data as D

    monkeypatch.setenv("CAE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(D.NO_DECODED_CACHE_ENV, raising=False)
    monkeypatch.setattr(D, "DECODED_MIN_BYTES", 0)  # the tiny zip counts as large
    decoded = []
    real = D.sources.read_path
    monkeypatch.setattr(D.sources, "read_path", lambda *a, **k: decoded.append(1) or real(*a, **k))
    first = D.load_cifar10(tiny_zip)
    again = D.load_cifar10(tiny_zip)
    assert len(decoded) == 1  # the second load read the kept copy
    assert np.array_equal(first.images, again.images) and np.array_equal(first.labels, again.labels)
    assert (first.source, first.kind) == (again.source, again.kind)
    (copy,) = (tmp_path / "cache" / "data").glob("cifar-decoded-*/arrays.npz")
    damaged = bytearray(copy.read_bytes())
    damaged[-100] ^= 0xFF  # one flipped byte in the pixels
    copy.write_bytes(bytes(damaged))
    with pytest.warns(RuntimeWarning, match="decoded copy of the data .* moved"):
        healed = D.load_cifar10(tiny_zip)
    assert len(decoded) == 2 and np.array_equal(healed.images, first.images)  # decoded again, never the damage
    monkeypatch.setenv(D.NO_DECODED_CACHE_ENV, "1")
    D.load_cifar10(tiny_zip)
    assert len(decoded) == 3


def test_a_small_zip_or_an_unwritable_cache_is_decoded_every_time(tiny_zip, tmp_path, monkeypatch):
    from cae_lib import data as D

    monkeypatch.delenv(D.NO_DECODED_CACHE_ENV, raising=False)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("CAE_CACHE", str(tmp_path / "file" / "cache"))  # a file stands where the cache should be
    monkeypatch.setattr(D, "DECODED_MIN_BYTES", 0)
    assert D.load_cifar10(tiny_zip).images.shape == (1000, 32, 32, 3)
    monkeypatch.setenv("CAE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(D, "DECODED_MIN_BYTES", tiny_zip.stat().st_size + 1)
    D.load_cifar10(tiny_zip)
    assert not (tmp_path / "cache").exists()
