"""cae_lib.models: the given network, the parametric builder, CAESpec, round trips."""

import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from cae_lib import latent
from cae_lib.models import (
    ACTIVATIONS,
    CAESpec,
    build_cae,
    colorization_spec,
    decoder_of,
    encoder_of,
    given_cae,
    param_count,
    spec_of,
    summary_dict,
)

keras = pytest.importorskip("keras")

NAME_PATTERN = re.compile(r"^(encoder_input|decoder_input|enc\d+_conv\d+|enc\d+_pool|dec\d+_up|dec\d+_conv\d+|output)$")


def _inner_layers(model):
    """Encoder then decoder layers, without the input layers."""
    return [
        layer
        for sub in (encoder_of(model), decoder_of(model))
        for layer in sub.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]


def _reference_given_net():
    """The given architecture written out layer by layer, independently of cae_lib."""
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            L.Conv2D(8, (3, 3), activation="relu", padding="same"),
            L.MaxPooling2D((2, 2)),
            L.Conv2D(12, (3, 3), activation="relu", padding="same"),
            L.MaxPooling2D((2, 2)),
            L.Conv2D(16, (3, 3), activation="relu", padding="same"),
            L.UpSampling2D((2, 2)),
            L.Conv2D(12, (3, 3), activation="relu", padding="same"),
            L.UpSampling2D((2, 2)),
            L.Conv2D(3, (3, 3), activation="sigmoid", padding="same"),
        ]
    )


# ---------------------------------------------------------------- the given network
def test_given_cae_shapes_and_params_by_hand():
    model = given_cae()
    layers = _inner_layers(model)
    assert [layer.name for layer in layers] == [
        "enc1_conv1", "enc1_pool", "enc2_conv1", "enc2_pool", "enc3_conv1",
        "dec1_up", "dec1_conv1", "dec2_up", "output",
    ]  # fmt: skip
    assert [tuple(layer.output.shape[1:]) for layer in layers] == [
        (32, 32, 8), (16, 16, 8), (16, 16, 12), (8, 8, 12), (8, 8, 16),
        (16, 16, 16), (16, 16, 12), (32, 32, 12), (32, 32, 3),
    ]  # fmt: skip
    # K*K*C_in*C_out + C_out
    by_hand = [3 * 3 * 3 * 8 + 8, 0, 3 * 3 * 8 * 12 + 12, 0, 3 * 3 * 12 * 16 + 16, 0, 3 * 3 * 16 * 12 + 12, 0, 3 * 3 * 12 * 3 + 3]
    assert by_hand == [224, 0, 876, 0, 1744, 0, 1740, 0, 327]
    assert [layer.count_params() for layer in layers] == by_hand
    assert model.count_params() == sum(by_hand) == 4911 == param_count(CAESpec())
    assert encoder_of(model).output_shape == (None, 8, 8, 16) == (None, *CAESpec().latent_shape)
    assert model.input_shape == model.output_shape == (None, 32, 32, 3)
    assert layers[-1].get_config()["activation"] == "sigmoid"


def test_given_cae_equals_reference_net():
    model, reference = given_cae(), _reference_given_net()
    ours, ref = _inner_layers(model), reference.layers
    assert [type(a).__name__ for a in ours] == [type(b).__name__ for b in ref]
    keys = ("filters", "kernel_size", "strides", "padding", "activation", "pool_size", "size", "interpolation", "use_bias")
    for a, b in zip(ours, ref):
        ca, cb = a.get_config(), b.get_config()
        assert {k: ca.get(k) for k in keys} == {k: cb.get(k) for k in keys}, a.name
    reference.set_weights(model.get_weights())
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(reference(x)), atol=1e-6)


def test_summary_dict_given():
    s = summary_dict(CAESpec())
    assert s == {"params": 4911, "latent_shape": (8, 8, 16), "latent_size": 1024, "compression": 1024 / 3072,
                 "skip_values": 0}


# ---------------------------------------------------------------- builder options
SPECS = [
    CAESpec(),
    CAESpec(pooling="avg"),
    CAESpec(pooling="none"),
    CAESpec(convs_per_stage=2),
    CAESpec(kernel_size=5),
    CAESpec(filters=(8, 16)),
    CAESpec(filters=(8, 16, 32, 64)),
    CAESpec(filters=(4, 8, 12, 16), pooling="avg", convs_per_stage=2, kernel_size=5),
    CAESpec(filters=(6, 10), pooling="none", convs_per_stage=2),
    CAESpec(filters=(16,), pooling="none"),
    CAESpec(activation="elu", input_size=16),
    colorization_spec(),
    colorization_spec(filters=(16, 32, 64), convs_per_stage=2),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.to_json())
def test_builder_shapes_params_names(spec):
    model = build_cae(spec)
    s = spec.input_size
    assert model.input_shape == (None, s, s, spec.input_channels)
    assert model.output_shape == (None, s, s, spec.output_channels)
    enc, dec = encoder_of(model), decoder_of(model)
    assert enc.output_shape == (None, *spec.latent_shape) == dec.input_shape
    assert int(np.prod(spec.latent_shape)) == spec.latent_size
    # latent_shape comes from cae_lib.latent, Keras agrees layer by layer
    steps = latent.latent_table(spec.encoder_layers(), s)
    enc_layers = [layer for layer in enc.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert [step.name for step in steps] == [layer.name for layer in enc_layers]
    assert [step.shape_out for step in steps] == [tuple(layer.output.shape[1:]) for layer in enc_layers]
    assert model.count_params() == param_count(spec) == summary_dict(spec)["params"]
    # names: unique, meaningful, matching the layer type
    names = [layer.name for sub in (enc, dec) for layer in sub.layers]
    assert len(names) == len(set(names))
    assert {layer.name for layer in model.layers} == {"image", "encoder", "decoder"}
    for layer in [*enc.layers, *dec.layers]:
        assert NAME_PATTERN.match(layer.name), layer.name
        if "_conv" in layer.name or layer.name == "output":
            assert isinstance(layer, keras.layers.Conv2D)
            assert layer.get_config()["kernel_size"] == (spec.kernel_size, spec.kernel_size)
        elif layer.name.endswith("_pool"):
            expected = keras.layers.MaxPooling2D if spec.pooling == "max" else keras.layers.AveragePooling2D
            assert isinstance(layer, expected)
        elif layer.name.endswith("_up"):
            assert isinstance(layer, keras.layers.UpSampling2D)
    n_convs = sum(isinstance(layer, keras.layers.Conv2D) for layer in enc.layers)
    n_pools = sum("_pool" in n for n in names)
    n_ups = sum(n.endswith("_up") for n in names)
    assert n_convs == len(spec.filters) * spec.convs_per_stage
    assert n_pools == n_ups == (0 if spec.pooling == "none" else len(spec.filters) - 1)
    out = dec.get_layer("output").get_config()
    assert (out["filters"], out["activation"]) == (spec.output_channels, spec.output_activation)
    assert spec_of(model) == spec


def test_decoder_mirrors_encoder():
    def plan(spec):
        dec = decoder_of(build_cae(spec))
        return [(layer.name, layer.get_config().get("filters")) for layer in dec.layers[1:]]

    assert plan(CAESpec(convs_per_stage=2)) == [
        ("dec1_up", None), ("dec1_conv1", 12), ("dec1_conv2", 12),
        ("dec2_up", None), ("dec2_conv1", 8), ("output", 3),
    ]  # fmt: skip
    assert plan(CAESpec(pooling="none")) == [("dec1_conv1", 12), ("output", 3)]
    assert plan(CAESpec(filters=(16,), pooling="none")) == [("output", 3)]
    enc = encoder_of(build_cae(CAESpec(pooling="none")))
    assert [layer.name for layer in enc.layers[1:]] == ["enc1_conv1", "enc2_conv1", "enc3_conv1"]
    assert enc.output_shape == (None, 32, 32, 16)


def test_colorization_model():
    spec = colorization_spec()
    assert (spec.input_channels, spec.output_channels, spec.output_activation) == (1, 2, "tanh")
    assert spec.filters == CAESpec().filters
    model = build_cae(spec)
    assert model.input_shape == (None, 32, 32, 1) and model.output_shape == (None, 32, 32, 2)
    y = np.asarray(model(np.random.default_rng(1).uniform(size=(2, 32, 32, 1)).astype("float32")))
    assert np.all(np.abs(y) <= 1) and y.min() < 0  # tanh range, not sigmoid's
    assert colorization_spec(output_activation="linear").output_activation == "linear"


def test_encoder_and_decoder_share_weights_with_model():
    model = given_cae()
    x = np.random.default_rng(2).uniform(size=(2, 32, 32, 3)).astype("float32")
    z = encoder_of(model)(x)
    np.testing.assert_allclose(np.asarray(decoder_of(model)(z)), np.asarray(model(x)), atol=1e-6)
    kernel = encoder_of(model).get_layer("enc1_conv1").kernel
    kernel.assign(np.zeros(kernel.shape, "float32"))
    assert float(np.abs(np.asarray(model.get_weights()[0])).sum()) == 0.0


def test_encoder_of_rejects_other_models():
    inputs = keras.Input((4, 4, 1))
    other = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="other")
    with pytest.raises(ValueError, match="no nested model named 'encoder'"):
        encoder_of(other)
    with pytest.raises(ValueError, match="decoder"):
        decoder_of(other)
    with pytest.raises(ValueError, match="CAESpec"):
        build_cae({"filters": (8,)})


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_builds_and_reads_back(activation):
    spec = CAESpec(filters=(4, 8), activation=activation, output_activation=activation, input_size=8)
    assert spec_of(build_cae(spec)) == spec


# ---------------------------------------------------------------- round trips
def test_save_load_keras_round_trip(tmp_path):
    spec = CAESpec(filters=(4, 8), pooling="avg", convs_per_stage=2)
    model = build_cae(spec, name="roundtrip")
    x = np.ones((2, 32, 32, 3), "float32")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.name == "roundtrip"
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    np.testing.assert_allclose(np.asarray(encoder_of(loaded)(x)), np.asarray(encoder_of(model)(x)), atol=1e-6)
    assert spec_of(loaded) == spec


def test_get_config_from_config_round_trip():
    model = given_cae()
    clone = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in _inner_layers(clone)] == [layer.name for layer in _inner_layers(model)]
    clone.set_weights(model.get_weights())
    x = np.ones((1, 32, 32, 3), "float32")
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), atol=1e-6)
    assert spec_of(clone) == CAESpec()


def test_spec_dict_json_round_trip():
    for spec in SPECS:
        d = json.loads(json.dumps(spec.to_dict()))
        assert isinstance(d["filters"], list)
        back = CAESpec.from_dict(d)
        assert back == spec and isinstance(back.filters, tuple) and hash(back) == hash(spec)
        assert CAESpec.from_dict(json.loads(spec.to_json())) == spec
    assert CAESpec.from_dict({}) == CAESpec()
    assert CAESpec.from_dict({"filters": [4, 8]}).filters == (4, 8)
    with pytest.raises(ValueError, match="unknown CAESpec keys.*'kernel'"):
        CAESpec.from_dict({"kernel": 3})
    with pytest.raises(ValueError, match="pooling"):
        CAESpec.from_dict({"pooling": "min"})
    with pytest.raises(ValueError, match="dict"):
        CAESpec.from_dict([("filters", (8,))])


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CAESpec().filters = (4,)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"filters": ()}, "filters"),
        ({"filters": (8, 0)}, "filters"),
        ({"filters": (8, 2.5)}, "filters"),
        ({"filters": "8,16"}, "filters"),
        ({"filters": 8}, "filters"),
        ({"convs_per_stage": 0}, "convs_per_stage"),
        ({"kernel_size": 4}, "kernel_size"),
        ({"kernel_size": -3}, "kernel_size"),
        ({"pooling": "min"}, "pooling"),
        ({"activation": "relu6x"}, r"CAESpec\.activation"),
        ({"output_activation": "softmax2"}, "output_activation"),
        ({"input_channels": 0}, "input_channels"),
        ({"output_channels": True}, "output_channels"),
        ({"input_size": 30}, "input_size"),  # 30 % 4 != 0 with three stages
        ({"filters": (8, 8, 8, 8, 8, 8, 8)}, "input_size"),  # 32 % 64 != 0
    ],
)
def test_spec_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        CAESpec(**kwargs)


def test_spec_accepts_odd_sizes_without_pooling_and_lists():
    assert CAESpec(input_size=30, pooling="none").latent_shape == (30, 30, 16)
    assert CAESpec(filters=[4, np.int64(8)]).filters == (4, 8)
    assert CAESpec(filters=(8, 16), input_size=30).latent_shape == (15, 15, 16)


# ---------------------------------------------------------------- training, imports
def test_one_training_step_on_ones():
    keras.utils.set_random_seed(0)
    model = given_cae()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    x = np.ones((4, 32, 32, 3), "float32") * 0.5
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, x, epochs=2, batch_size=4, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_import_does_not_load_keras():
    code = (
        "import sys\n"
        "import cae_lib.models, cae_lib.latent\n"
        "from cae_lib.models import CAESpec, summary_dict\n"
        "assert summary_dict(CAESpec())['params'] == 4911\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------- options beyond the report's network

_OPTION_SPECS = [
    CAESpec(filters=(16, 32, 16), pooling="stride", convs_per_stage=2, residual=True, latent_activation="linear"),
    CAESpec(filters=(8, 12, 16), pooling="avg", batch_norm=True, convs_per_stage=2),
    CAESpec(filters=(8, 12, 16), skips="concat"),
    CAESpec(filters=(8, 12, 16), pooling="stride", skips="concat", batch_norm=True),
    CAESpec(filters=(16,) * 4, pooling="none", skips="add", output_activation="linear", residual_output=True),
    CAESpec(filters=(8, 8, 8), pooling="stride", skips="add", convs_per_stage=2, residual=True),
    colorization_spec(filters=(8, 12, 16), skips="concat", output_scale=2, output_kernel=1, output_channels=30,
                      output_activation="softmax"),
]


@pytest.mark.parametrize("spec", _OPTION_SPECS, ids=lambda s: f"{s.pooling}-{s.skips}-{s.output_scale}")
def test_options_build_count_and_read_back(spec):
    model = build_cae(spec)
    assert model.count_params() == param_count(spec)
    size = spec.input_size // spec.output_scale
    assert model.output_shape == (None, size, size, spec.output_channels)
    assert spec_of(model) == spec
    latent_shape = encoder_of(model).output_shape[0] if spec.skips != "none" else encoder_of(model).output_shape
    assert latent_shape[1:] == spec.latent_shape


def test_strided_compressor_parameters_by_hand():
    # K=3: enc1 3->16, 16->16; enc2 16->32 (stride 2), 32->32; enc3 32->16 (stride 2), 16->16 (linear latent);
    # dec1 transposed 16->32 (stride 2), 32->32; dec2 transposed 32->16 (stride 2); output 16->3.
    convs = [(3, 16), (16, 16), (16, 32), (32, 32), (32, 16), (16, 16), (16, 32), (32, 32), (32, 16), (16, 3)]
    by_hand = sum(9 * cin * cout + cout for cin, cout in convs)
    assert param_count(_OPTION_SPECS[0]) == by_hand
    layers = {layer.name: layer for layer in encoder_of(build_cae(_OPTION_SPECS[0])).layers}
    assert layers["enc2_conv1"].strides == (2, 2) and layers["enc1_conv1"].strides == (1, 1)
    assert layers["enc3_conv2"].get_config()["activation"] == "linear"
    assert "enc2_add" in layers


def test_skip_connections_feed_the_decoder_more_than_the_latent():
    spec = CAESpec(filters=(8, 12, 16), skips="concat")
    assert spec.latent_size == 1024 and spec.skip_values == 32 * 32 * 8 + 16 * 16 * 12
    encoder = encoder_of(build_cae(spec))
    assert [tuple(s[1:]) for s in encoder.output_shape] == [(8, 8, 16), (16, 16, 12), (32, 32, 8)]


def test_residual_output_adds_the_input():
    spec = CAESpec(filters=(4, 4), pooling="none", skips="add", output_activation="linear", residual_output=True)
    model = build_cae(spec)
    for weights in model.trainable_weights:
        weights.assign(np.zeros(weights.shape, dtype="float32"))
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x, atol=1e-6)  # a zero network passes its input


@pytest.mark.parametrize("height, width", [(32, 32), (40, 56), (64, 24)])
def test_any_size_copy_has_the_same_weights_and_keeps_odd_sizes_of_the_multiple(height, width):
    from cae_lib.models import any_size

    spec = CAESpec(filters=(8, 12, 16), pooling="stride", skips="concat")
    model = build_cae(spec)
    big = any_size(model)
    x = np.random.default_rng(1).random((1, height, width, 3)).astype("float32")
    assert big.predict(x, verbose=0).shape == (1, height, width, 3)
    if (height, width) == (32, 32):
        np.testing.assert_allclose(big.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(residual=True), "convs_per_stage >= 2"),
        (dict(skips="add"), "same filters"),
        (dict(skips="sideways"), "skips"),
        (dict(residual_output=True), "linear"),
        (dict(output_scale=3), "power of two"),
        (dict(output_scale=8), "power of two"),
        (dict(output_kernel=2), "odd"),
        (dict(skips="concat", output_scale=4), "no decoder block"),
        (dict(batch_norm=1), "True or False"),
    ],
)
def test_option_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CAESpec(**kwargs)
