"""cae_lib.tasks.compress: the RateDistortion task's parameters, its checks, one compiled training step, and
that adding it left the keys of existing runs alone."""

import dataclasses

import numpy as np
import pytest

from cae_lib import keys
from cae_lib.entropy_models import LIKELIHOOD_BOUND
from cae_lib.experiments import experiment
from cae_lib.models import CAESpec
from cae_lib.tasks import Colorize, Denoise, Reconstruct, task_from_dict
from cae_lib.tasks.compress import BOTTLENECK, RateDistortion
from cae_lib.training import RunConfig, compile_model

RD_SPEC = CAESpec(filters=(8, 4), pooling="stride")


def _config(**changes):
    settings = dict(name="rd", model=RD_SPEC, task=RateDistortion(0.01), loss="mse", metrics=("mse",),
                    profile="smoke")
    settings.update(changes)
    return RunConfig(**settings)


def test_to_dict_round_trips_through_the_registry():
    task = RateDistortion(lmbda=0.0067)
    assert task.to_dict() == {"name": "rate_distortion", "lmbda": 0.0067}
    assert task_from_dict(task.to_dict()) == task
    assert task_from_dict({"name": "rate_distortion", "lmbda": 0.2}).lmbda == 0.2
    with pytest.raises(ValueError, match="needs its parameters"):
        task_from_dict("rate_distortion")  # lmbda has no default
    assert task.label() == "rate_distortion (lmbda=0.0067)"


@pytest.mark.parametrize("lmbda", [0.0018, 0.0067, 0.18, 1.0])
def test_rate_weight_is_one_over_lambda_255_squared(lmbda):
    assert RateDistortion(lmbda).rate_weight == pytest.approx(1.0 / (lmbda * 65025.0), rel=1e-12)


def test_invalid_lambdas_are_refused():
    for lmbda in (0, -0.01, float("nan"), float("inf"), "0.01", True):
        with pytest.raises(ValueError, match="RateDistortion.lmbda"):
            RateDistortion(lmbda)


def test_check_refuses_what_the_task_cannot_train():
    assert _config().task == RateDistortion(0.01)
    for loss in ("binary_crossentropy", "mae"):
        with pytest.raises(ValueError, match="use loss='mse'"):
            _config(loss=loss)
    for model in (CAESpec(filters=(8, 4), pooling="stride", skips="concat"),
                  CAESpec(filters=(8, 8), pooling="stride", skips="add"),
                  CAESpec(filters=(8, 4), pooling="none"),
                  CAESpec(filters=(8, 4), pooling="stride", residual_output=True, output_activation="linear")):
        with pytest.raises(ValueError, match="pooling other than 'none', skips='none', residual_output=False"):
            _config(model=model)
    with pytest.raises(ValueError, match="input and 3 output channels"):
        _config(model=CAESpec(filters=(8, 4), pooling="stride", input_channels=1))


def test_a_compiled_run_has_the_rate_in_its_loss():
    import keras

    config = _config()
    model = compile_model(config, 10)
    bottleneck = model.get_layer(BOTTLENECK)
    assert bottleneck.rate_weight == pytest.approx(config.task.rate_weight, rel=1e-12)
    assert bottleneck.pixels_per_value == 4 and bottleneck.channels == 4  # downsampling 2, a 16x16x4 latent
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype(np.float32)
    history = model.fit(x, x, batch_size=8, epochs=1, verbose=0).history
    loss, mse = history["loss"][0], history["mse"][0]
    assert loss > mse > 0  # the training loss is MSE plus the weighted rate
    # loss - mse is rate_weight times the bits per pixel: 4 values per 4 pixels, each at most -log2(the bound)
    bits_per_pixel = (loss - mse) / config.task.rate_weight
    assert 0 < bits_per_pixel <= -np.log2(LIKELIHOOD_BOUND) * 1.001
    assert isinstance(model, keras.Model)


def test_existing_run_keys_did_not_change():
    # Task.build_model is a method, not a field: the default tasks still add nothing but their name to a key
    assert dataclasses.fields(Reconstruct()) == () and dataclasses.fields(Colorize()) == ()
    assert [f.name for f in dataclasses.fields(Denoise(0.1))] == ["sigma"]
    assert [f.name for f in dataclasses.fields(RateDistortion(0.01))] == ["lmbda"]
    config = RunConfig(name="given_bce", profile="full")
    # written out by hand: the name, the model (a default_factory field, so always kept, reduced to its
    # non-default fields: none) and the profile; the default task, loss and the rest drop out
    assert keys.settings(config) == {"name": "given_bce", "model": {}, "profile": "full"}
    assert keys.settings(experiment("given_bce", profile="full")) == keys.settings(config)
    assert keys.settings(_config()) == {
        "name": "rd", "model": {"filters": [8, 4], "pooling": "stride"},
        "task": {"name": "rate_distortion", "lmbda": 0.01}, "loss": "mse", "metrics": ["mse"], "profile": "smoke"}
