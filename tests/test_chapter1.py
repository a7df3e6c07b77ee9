"""Tests for cae_lib.chapter1 against hand counts, cae_lib.data's split and scipy.stats."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from cae_lib.chapter1 import paired_difference, split_counts
from cae_lib.data import CLASS_NAMES, split_indices


def test_import_does_not_pull_tensorflow():
    code = "import sys, cae_lib.chapter1; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- split_counts


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


# --------------------------------------------------------------------------- paired_difference


def test_paired_difference_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(25.0, 3.0, 200)
    b = a - rng.normal(0.3, 1.0, 200)
    d = paired_difference(a, b)
    assert d["n"] == 200
    assert d["mean"] == pytest.approx(np.mean(a) - np.mean(b), abs=1e-12)
    assert d["std_error"] == pytest.approx(stats.sem(a - b), rel=1e-12)
    # the paired t statistic is mean / standard error
    assert d["mean"] / d["std_error"] == pytest.approx(stats.ttest_rel(a, b).statistic, rel=1e-10)
    assert d["share_greater"] == pytest.approx(np.count_nonzero(a > b) / 200)


def test_paired_difference_shares_hand_counted():
    d = paired_difference([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 5.0, 3.0])
    assert d["share_greater"] == 0.5 and d["share_equal"] == 0.25
    assert d["mean"] == pytest.approx((1 + 0 - 2 + 1) / 4)


def test_paired_difference_single_item_has_nan_error():
    d = paired_difference([2.0], [1.0])
    assert d["mean"] == 1.0 and np.isnan(d["std_error"])


@pytest.mark.parametrize(
    "a, b, match",
    [
        ([1.0, 2.0], [1.0], "same length"),
        ([[1.0]], [[1.0]], "1-D"),
        ([], [], "empty"),
        ([np.inf], [1.0], "finite"),
    ],
)
def test_paired_difference_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired_difference(a, b)
