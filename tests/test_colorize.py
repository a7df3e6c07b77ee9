"""The colorization tasks: regression and colour classes, their scoring, and photographs of any size."""

from types import SimpleNamespace

import numpy as np
import pytest

from cae_lib import color
from cae_lib import colorization as cz
from cae_lib.tasks import Colorize, ColourClasses
from cae_lib.tasks.colorize import at_temperature, colorize_image, colorize_photos, lightness, work_shape
from cae_lib.tasks.colour_loss import RebalancedCrossEntropy


def _class_spec():
    from cae_lib.models import colorization_spec

    return colorization_spec(filters=(4, 8, 8), skips="concat", output_scale=2, output_kernel=1,
                             output_channels=len(cz.ab_bins()), output_activation="softmax")


@pytest.mark.parametrize("shape", [(1, 1, 3), (333, 500, 3), (40, 30)])
@pytest.mark.parametrize("head", ["regression", "classes"])
def test_colorize_image_of_any_size_keeps_its_lightness(shape, head):
    import keras

    from cae_lib.models import build_cae, colorization_spec

    spec = colorization_spec(filters=(4, 8)) if head == "regression" else _class_spec()
    task = Colorize() if head == "regression" else ColourClasses()
    keras.utils.set_random_seed(0)  # the untrained weights, so the colour added, are the same whatever ran before
    model = build_cae(spec)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    out = colorize_image(model, image, task=task)
    assert out.shape == (*shape[:2], 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # the output's lightness is the input's (up to sRGB gamut clipping of the added colour)
    l_in = lightness(image)[..., 0] * 100
    l_out = color.rgb_to_lab(out)[..., 0]
    assert np.median(np.abs(l_in - l_out)) < 3.0


def test_work_shape_keeps_the_aspect_and_the_multiple():
    assert work_shape(1, 1, 32, 4) == (32, 32)  # a tiny image is enlarged to the scale the net knows
    assert work_shape(333, 500, 32, 8) == (32, 48)
    assert work_shape(64, 64, 32, 4) == (32, 32)


@pytest.mark.parametrize("head", ["regression", "classes"])
def test_one_training_step_of_each_head_on_ones(head):
    import keras

    from cae_lib.models import build_cae, colorization_spec

    bins = cz.ab_bins()
    x = np.ones((2, 32, 32, 1), np.float32)
    y = np.full((2, 32, 32, 2), 0.1, np.float32)
    if head == "regression":
        model, loss = build_cae(colorization_spec(filters=(4, 8))), "mse"
    else:
        prior = cz.class_prior(y, bins)
        model, loss = build_cae(_class_spec()), RebalancedCrossEntropy(bins.centres, cz.rebalance_weights(prior, bins))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    history = model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    pred = cz.predict_ab(model, x, bins) if head == "classes" else model.predict(x, verbose=0)
    assert pred.shape == (2, 32, 32, 2)


def test_half_resolution_loss_compares_with_the_targets_cell_averages():
    import keras

    bins = cz.ab_bins()
    loss = RebalancedCrossEntropy(bins.centres, np.ones(len(bins)))
    y = np.random.default_rng(2).uniform(-0.3, 0.3, size=(1, 4, 4, 2)).astype(np.float32)
    p = np.random.default_rng(3).dirichlet(np.ones(len(bins)), size=(1, 2, 2)).astype(np.float32)
    pooled = y.reshape(1, 2, 2, 2, 2, 2).mean(axis=(2, 4))
    a = float(keras.ops.convert_to_numpy(loss(y, p)))
    b = float(keras.ops.convert_to_numpy(loss(pooled, p)))
    assert a == pytest.approx(b, rel=1e-5)


def test_colorize_photos_gives_every_model_every_photograph():
    from cae_lib.models import build_cae, colorization_spec

    run = SimpleNamespace(model=build_cae(colorization_spec(filters=(4, 8))), config=SimpleNamespace(task=Colorize()))
    photos = {"a": np.zeros((30, 40, 3), np.uint8), "b": np.full((16, 16), 200, np.uint8)}
    out = colorize_photos({"m": run}, photos)
    assert list(out) == ["m"] and {k: v.shape for k, v in out["m"].items()} == {"a": (30, 40, 3), "b": (16, 16, 3)}


def test_at_temperature_changes_colour_classes_only():
    assert at_temperature(ColourClasses(), 0.2) == ColourClasses(temperature=0.2)
    assert at_temperature(Colorize(), 0.2) == Colorize()
    assert at_temperature(ColourClasses(temperature=0.1), None).temperature == 0.1


def test_colour_classes_refuse_runs_they_cannot_train():
    from cae_lib.models import colorization_spec
    from cae_lib.training import RunConfig

    spec = colorization_spec(filters=(4, 8), output_channels=len(cz.ab_bins()), output_activation="softmax")
    with pytest.raises(ValueError, match="rebalanced_crossentropy"):
        RunConfig(name="c", model=spec, task=ColourClasses(), loss="mse", metrics=(), profile="smoke")
    with pytest.raises(ValueError, match="no Keras metrics"):
        RunConfig(name="c", model=spec, task=ColourClasses(), loss="rebalanced_crossentropy", profile="smoke")
    with pytest.raises(ValueError, match="ColourClasses"):
        RunConfig(name="c", model=colorization_spec(), task=Colorize(), loss="rebalanced_crossentropy",
                  profile="smoke")
    with pytest.raises(ValueError, match="temperature"):
        ColourClasses(temperature=-1)
    with pytest.raises(ValueError, match="rebalance_lambda"):
        ColourClasses(rebalance_lambda=2)
