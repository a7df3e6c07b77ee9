"""The benchmarks' own arithmetic (the benchmarks themselves are timed, never run here)."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import bench_search


def test_a_setting_reads_per_class_and_epochs():
    assert bench_search.parse_setting("500x6") == (500, 6)
    assert bench_search.parse_setting("250X12") == (250, 12)


@pytest.mark.parametrize("text", ["500", "500x", "ax6", "0x6", "500x-1", "5x6x7"])
def test_a_malformed_setting_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="PER_CLASSxEPOCHS|positive"):
        bench_search.parse_setting(text)


def test_cheaper_settings_halve_images_epochs_and_both():
    assert bench_search.cheaper_settings(1000, 6) == [(500, 6), (1000, 3), (500, 3)]
    assert bench_search.cheaper_settings(1, 1) == [(1, 1), (1, 1), (1, 1)]  # never below one


def _trial(tid, mse, hp, status="COMPLETED"):
    return {"trial_id": tid, "val_mse": mse, "hyperparameters": hp, "status": status}


def test_candidates_keep_the_best_trial_of_each_architecture_best_first():
    trials = [
        _trial("a", 0.02, {"pooling": "max", "tuner/epochs": 4}),
        _trial("b", 0.01, {"pooling": "max", "tuner/epochs": 12}),  # the same architecture, trained longer
        _trial("c", 0.015, {"pooling": "avg"}),
        _trial("d", 0.001, {"pooling": "none"}, status="FAILED"),
        _trial("e", None, {"pooling": "stride"}),
    ]
    assert [t["trial_id"] for t in bench_search.candidates(trials, top=5)] == ["b", "c"]
    assert [t["trial_id"] for t in bench_search.candidates(trials, top=1)] == ["b"]


def test_agreement_of_a_reversed_ranking():
    ref = [0.1, 0.2, 0.3, 0.4, 0.5]
    same = bench_search.agreement(ref, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert same == {"spearman": pytest.approx(1.0), "same_best": True, "top3_kept": 3}
    rev = bench_search.agreement(ref, ref[::-1])
    assert rev["spearman"] == pytest.approx(-1.0)
    assert not rev["same_best"]
    assert rev["top3_kept"] == 1  # only the middle one is in both top threes


def test_agreement_matches_a_hand_computed_spearman():
    # ranks 1 2 3 4 against 2 1 4 3: d² = 1+1+1+1 = 4, rho = 1 - 6·4 / (4·15) = 0.6
    result = bench_search.agreement([1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0])
    assert result["spearman"] == pytest.approx(0.6)
    assert result["top3_kept"] == 2
