import pytest

from cae_lib import experiments
from cae_lib.models import CAESpec


def test_every_experiment_builds_a_valid_config():
    for name in experiments.names():
        config = experiments.experiment(name, profile="smoke")
        assert config.name == name and config.profile == "smoke"
        assert experiments.describe(name)


def test_chapters_partition_the_experiments():
    by_chapter = [experiments.names(ch) for ch in (1, 2, 3)]
    assert sum(map(len, by_chapter)) == len(experiments.names())
    assert by_chapter[0] == ["given_bce", "given_mse"]
    assert by_chapter[2] == ["colorize"]


def test_given_runs_use_the_given_architecture_and_differ_only_in_loss():
    bce = experiments.experiment("given_bce", profile="full")
    mse = experiments.experiment("given_mse", profile="full")
    assert bce.model == mse.model == CAESpec()
    assert bce.with_overrides(name="x", loss="mse") == mse.with_overrides(name="x")


def test_latent_sizes_the_chapter_relies_on():
    # hand computation: 32 / 2**pools squared times the last stage's filters
    expected = {
        "given_mse": 8 * 8 * 16,
        "avg_pool": 8 * 8 * 16,
        "no_pool": 32 * 32 * 16,
        "no_pool_1024": 32 * 32 * 1,
        "wide": 8 * 8 * 16,
        "deep": 8 * 8 * 16,
        "small_latent": 4 * 4 * 16,
    }
    for name, size in expected.items():
        assert experiments.experiment(name, profile="smoke").model.latent_size == size, name


def test_overrides_and_unknown_names():
    assert experiments.experiment("given_mse", profile="smoke", epochs=3).epochs == 3
    with pytest.raises(KeyError, match="known: given_bce"):
        experiments.experiment("given")
