"""Run keys: what changes them, what must not, and the defaults every existing key relies on.

If a test here fails because you changed a default on purpose: that default
changes what the keys of existing runs mean (a run cached before the change
would load for a configuration it was not trained with). Bump
``cae_lib.training.CACHE_STAMP`` in the same change, then update the pinned
value below.
"""

import dataclasses

import pytest

from cae_lib import keys
from cae_lib.models import CAESpec
from cae_lib.profiles import PROFILES
from cae_lib.tasks import Colorize, ColourClasses, Denoise, Reconstruct
from cae_lib.training import CACHE_STAMP, RunConfig

BUMP = "a default changed: bump cae_lib.training.CACHE_STAMP in the same change, then update this pinned value"

PINNED_RUN_DEFAULTS = {
    "task": {"name": "reconstruct"}, "loss": "binary_crossentropy", "optimizer": "adam", "learning_rate": 0.001,
    "lr_schedule": "constant", "warmup_epochs": 0, "batch_size": 64, "epochs": 20, "early_stopping_patience": 4,
    "seed": 0, "split_seed": 0, "metrics": ["mse", "accuracy"],
}
PINNED_SPEC_DEFAULTS = {
    "filters": [8, 12, 16], "convs_per_stage": 1, "kernel_size": 3, "pooling": "max", "activation": "relu",
    "output_activation": "sigmoid", "input_channels": 3, "output_channels": 3, "input_size": 32,
    "latent_activation": None, "batch_norm": False, "residual": False, "skips": "none", "residual_output": False,
    "output_scale": 1, "output_kernel": None,
}
PINNED_TASK_DEFAULTS = {"colour_classes": {"rebalance_lambda": 0.5, "temperature": 0.38}, "denoise": {}}
PINNED_PROFILES = {
    "full": {"name": "full", "train_per_class": None, "val_per_class": None, "test_per_class": None,
             "max_epochs": None},
    "smoke": {"name": "smoke", "train_per_class": 40, "val_per_class": 10, "test_per_class": 10, "max_epochs": 2},
}


def test_the_defaults_existing_keys_rely_on_are_pinned():
    assert keys.defaults(RunConfig) == PINNED_RUN_DEFAULTS, BUMP
    assert keys.defaults(CAESpec) == PINNED_SPEC_DEFAULTS, BUMP
    assert {"colour_classes": keys.defaults(ColourClasses), "denoise": keys.defaults(Denoise)} == \
        PINNED_TASK_DEFAULTS, BUMP
    assert {name: p.run_settings() for name, p in PROFILES.items()} == PINNED_PROFILES, BUMP
    assert CACHE_STAMP.endswith("/runs-3"), "CACHE_STAMP changed: update this test together with the pinned values"


def _key(config):
    return config.key("fingerprint", "split")


def test_a_new_field_with_a_default_keeps_every_key():
    @dataclasses.dataclass(frozen=True)
    class Later(RunConfig):
        precision: str = "float32"  # a setting added after runs were cached, its default today's behaviour

    for config in (RunConfig(name="a", profile="smoke"),
                   RunConfig(name="d", task=Denoise(0.1), loss="mse", epochs=5, profile="full")):
        later = Later(**{f.name: getattr(config, f.name) for f in dataclasses.fields(RunConfig)})
        assert later.key("fingerprint", "split") == _key(config)
        assert dataclasses.replace(later, precision="mixed_bfloat16").key("fingerprint", "split") != _key(config)


@pytest.mark.parametrize("change", [
    dict(learning_rate=2e-3), dict(batch_size=128), dict(warmup_epochs=1), dict(epochs=19), dict(seed=1),
    dict(split_seed=1), dict(optimizer="adamw"), dict(lr_schedule="cosine"), dict(early_stopping_patience=None),
    dict(early_stopping_patience=5), dict(loss="mse"), dict(metrics=("mse",)), dict(profile="full"),
    dict(name="other"), dict(model=CAESpec(filters=(8, 12, 24))), dict(model=CAESpec(batch_norm=True)),
    dict(task=Denoise(0.1), loss="mse"),
])
def test_every_training_setting_changes_the_key(change):
    base = RunConfig(name="base", profile="smoke")
    assert _key(dataclasses.replace(base, **change)) != _key(base)


def test_task_parameters_change_the_key():
    def config(task):
        return RunConfig(name="t", task=task, loss="mse", profile="smoke")

    assert _key(config(Denoise(0.1))) != _key(config(Denoise(0.2)))
    assert _key(config(Denoise(0.1))) != _key(config(Reconstruct()))
    spec = CAESpec(input_channels=1, output_channels=262, output_activation="softmax")
    classes = [RunConfig(name="c", model=spec, task=t, loss="rebalanced_crossentropy", metrics=(), profile="smoke")
               for t in (ColourClasses(), ColourClasses(rebalance_lambda=0.8), ColourClasses(temperature=0.2))]
    assert len({_key(c) for c in classes}) == 3
    assert keys.settings(Colorize()) == {"name": "colorize"}


def test_the_data_the_split_and_the_stamp_change_the_key(monkeypatch):
    config = RunConfig(name="a", profile="smoke")
    assert config.key("f1", "s") != config.key("f2", "s")
    assert config.key("f", "s1") != config.key("f", "s2")
    before = config.key("f", "s")
    monkeypatch.setattr("cae_lib.training.CACHE_STAMP", "cae_lib-0.0.0/runs-999")
    assert config.key("f", "s") != before


def test_settings_keep_computed_defaults_and_nested_changes():
    config = RunConfig(name="a", profile="smoke", model=CAESpec(pooling="avg"))
    assert keys.settings(config) == {"name": "a", "profile": "smoke", "model": {"pooling": "avg"}}
    with pytest.raises(TypeError, match="dataclass instance"):
        keys.settings(RunConfig)
