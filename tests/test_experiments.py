import pytest

from cae_lib import experiments
from cae_lib.models import CAESpec
from cae_lib.tasks import Denoise


def test_every_experiment_builds_a_valid_config():
    for name in experiments.names():
        config = experiments.experiment(name, profile="smoke")
        assert config.name == name and config.profile == "smoke"
        assert experiments.describe(name)


def test_chapters_partition_the_experiments():
    by_chapter = [experiments.names(ch) for ch in (1, 2, 3, 4, 5)]
    assert sum(map(len, by_chapter)) == len(experiments.names())
    assert by_chapter[0] == ["given_bce", "given_mse"]
    assert by_chapter[2] == ["colorize", "colorize_unet", "colorize_classes"]
    assert all(isinstance(experiments.experiment(n, profile="smoke").task, Denoise) for n in by_chapter[3])
    assert by_chapter[4] == list(experiments.CODEC_LAMBDAS) and experiments.CODEC in by_chapter[4]


def test_the_searches_settings_build_a_search():
    from cae_lib.tuning import CAEHyperModel

    settings = experiments.search_settings("latent_search")
    assert CAEHyperModel(latent_budget=settings["latent_budget"]).latent_budget == 1024
    with pytest.raises(KeyError, match="known: latent_search"):
        experiments.search_settings("nope")


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
        "compressor_1024": 8 * 8 * 16,
        "compressor_256": 4 * 4 * 16,
    }
    for name, size in expected.items():
        assert experiments.experiment(name, profile="smoke").model.latent_size == size, name


def test_overrides_and_unknown_names():
    assert experiments.experiment("given_mse", profile="smoke", epochs=3).epochs == 3
    with pytest.raises(KeyError, match="known: given_bce"):
        experiments.experiment("given")


def test_the_probe_covers_every_chapter_1_and_2_model_and_leaves_out_only_those_with_skips():
    from cae_lib.photos import photo_tiles
    from cae_lib.profiles import PROFILES

    assert set(experiments.PROBE_TRAIN_PER_CLASS) == set(PROFILES) == set(experiments.EMBEDDING_POINTS)
    assert set(experiments.PROBE_MODELS) | set(experiments.PROBE_LEFT_OUT) == {*experiments.names(1),
                                                                               *experiments.names(2)}
    for name in experiments.PROBE_MODELS:
        assert experiments.experiment(name, profile="smoke").model.skips == "none", name
    for name in experiments.PROBE_LEFT_OUT:
        assert experiments.experiment(name, profile="smoke").model.skips != "none", name
    assert len(photo_tiles()) >= experiments.NOVEL_PER_KIND
