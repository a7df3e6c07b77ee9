"""cae_lib.latent: the output-size formula against hand computations and real Keras models."""

import dataclasses

import numpy as np
import pytest

from cae_lib import latent
from cae_lib.latent import (
    GIVEN_ENCODER,
    Conv,
    LayerStep,
    Pool,
    conv_output_size,
    format_table,
    latent_shape,
    latent_size,
    latent_table,
    total_padding,
)

keras = pytest.importorskip("keras")

INPUT_SIZES = (5, 32, 33)


# ---------------------------------------------------------------- hand computations
@pytest.mark.parametrize(
    "size, kernel, stride, padding, expected",
    [
        (32, 3, 1, "valid", 30),  # (32 - 3 + 0)/1 + 1
        (32, 5, 2, "valid", 14),  # floor((32 - 5)/2) + 1 = 13 + 1
        (33, 3, 2, "same", 17),  # ceil(33/2)
        (32, 3, 1, "same", 32),  # P = 1: (32 - 3 + 2)/1 + 1
        (32, 2, 2, "valid", 16),  # 2x2 max pooling
        (16, 2, 2, "valid", 8),
        (7, 3, 3, "valid", 2),  # floor(4/3) + 1
        (32, 5, 1, 2, 32),  # explicit P = 2: (32 - 5 + 4) + 1
        (32, 3, 2, 1, 16),  # floor((32 - 3 + 2)/2) + 1 = 15 + 1
        (3, 3, 1, "valid", 1),  # kernel exactly fits once
        (1, 5, 4, "same", 1),
    ],
)
def test_conv_output_size_by_hand(size, kernel, stride, padding, expected):
    assert conv_output_size(size, kernel, stride, padding) == expected


@pytest.mark.parametrize(
    "size, kernel, stride, expected_total",
    [
        (32, 3, 1, 2),  # symmetric P = 1
        (32, 5, 1, 4),  # P = 2
        (32, 3, 2, 1),  # out 16: 15*2 + 3 - 32 = 1 -> P = 0.5
        (33, 3, 2, 2),  # out 17: 16*2 + 3 - 33 = 2
        (32, 1, 2, 0),  # 15*2 + 1 - 32 < 0 -> 0
        (32, 2, 2, 0),
        (33, 2, 2, 1),
    ],
)
def test_same_total_padding_by_hand(size, kernel, stride, expected_total):
    assert total_padding(size, kernel, stride, "same") == expected_total
    assert total_padding(size, kernel, stride, "valid") == 0
    assert total_padding(size, kernel, stride, 3) == 6


def test_same_padding_output_is_ceil_w_over_s():
    for size in range(1, 40):
        for kernel in (1, 2, 3, 4, 5, 7):
            for stride in (1, 2, 3, 4):
                assert conv_output_size(size, kernel, stride, "same") == -(-size // stride)


def test_given_encoder_latent_is_1024():
    steps = latent_table(GIVEN_ENCODER, input_size=32)
    assert [s.shape_out for s in steps] == [(32, 32, 8), (16, 16, 8), (16, 16, 12), (8, 8, 12), (8, 8, 16)]
    assert [s.padding_px for s in steps] == [1, 0, 1, 0, 1]
    assert latent_shape(GIVEN_ENCODER) == (8, 8, 16)
    assert latent_size(GIVEN_ENCODER) == 8 * 8 * 16 == 1024


def test_table_rows_carry_formula_inputs():
    steps = latent_table([Conv(4, kernel=5, stride=2, padding="valid"), Pool(3, stride=1), Conv(6, kernel=3, stride=2)], 32)
    assert steps[0] == LayerStep("conv1", "conv", 32, 5, 0.0, 2, 14, 4, "valid")
    assert steps[1] == LayerStep("pool1", "pool", 14, 3, 0.0, 1, 12, 4, "valid")
    # same, S=2 on 12: out 6, total padding 5*2 + 3 - 12 = 1 -> P = 0.5
    assert steps[2] == LayerStep("conv2", "conv", 12, 3, 0.5, 2, 6, 6, "same")
    # every row satisfies the formula it displays
    for s in steps:
        assert s.size_out == int(np.floor((s.size_in - s.kernel + 2 * s.padding_px) / s.stride)) + 1


def test_format_table_markdown():
    text = format_table(latent_table(GIVEN_ENCODER))
    lines = text.splitlines()
    assert lines[0].startswith("| layer | type |") and lines[1].startswith("|---")
    assert len(lines) == 2 + len(GIVEN_ENCODER)
    assert lines[-1] == "| enc3_conv1 | conv | same | 8 | 3 | 1 | 1 | 8 | 8×8×16 | 1024 |"
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "half-integer" not in text
    half = format_table(latent_table([Conv(4, stride=2)], 32))
    assert "| 0.5 |" in half and "bottom/right" in half


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: conv_output_size(0, 3), "size"),
        (lambda: conv_output_size(32, 0), "kernel"),
        (lambda: conv_output_size(32, 3, stride=0), "stride"),
        (lambda: conv_output_size(32, 3, padding="full"), "padding"),
        (lambda: conv_output_size(32, 3, padding=-1), "padding"),
        (lambda: conv_output_size(32.0, 3), "size"),
        (lambda: conv_output_size(True, 3), "size"),
        (lambda: conv_output_size(4, 5, padding="valid"), "does not fit"),
        (lambda: Conv(0), "filters"),
        (lambda: Conv(8, kernel=-3), "kernel"),
        (lambda: Conv(8, padding="causal"), "padding"),
        (lambda: Pool(2, stride=0), "stride"),
        (lambda: latent_table([]), "empty"),
        (lambda: latent_table([Pool(2), Conv(8)]), "first layer must be a Conv"),
        (lambda: latent_table([Conv(8), "pool"]), r"layers\[1\]"),
        (lambda: latent_table([Conv(8), Pool(2), Pool(2), Pool(2)], input_size=4), r"layer 3 \(pool3\)"),
        (lambda: latent_table([Conv(8)], input_size=0), "input_size"),
        (lambda: format_table([]), "empty"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_layers_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GIVEN_ENCODER[0].filters = 4


# ---------------------------------------------------------------- agreement with Keras
def _keras_layer(layer):
    """Translate a cae_lib.latent description into Keras layers (explicit P -> ZeroPadding2D)."""
    out = []
    padding = layer.padding
    if isinstance(padding, int):
        out.append(keras.layers.ZeroPadding2D(padding))
        padding = "valid"
    if isinstance(layer, Conv):
        out.append(keras.layers.Conv2D(layer.filters, layer.kernel, strides=layer.stride, padding=padding))
    else:
        out.append(keras.layers.MaxPooling2D(layer.size, strides=layer.stride, padding=padding))
    return out


def _keras_shapes(layers, size, channels=3):
    """Per-layer output shapes of a real Keras model, plus the shape of a real forward pass."""
    inputs = keras.Input((size, size, channels))
    x, outputs = inputs, []
    for layer in layers:
        for k_layer in _keras_layer(layer):
            x = k_layer(x)
        outputs.append(x)
    model = keras.Model(inputs, outputs)
    static = [tuple(o.shape[1:]) for o in outputs]
    computed = [tuple(np.asarray(y).shape[1:]) for y in model(np.zeros((1, size, size, channels), "float32"))]
    return static, computed


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_conv_matches_keras(kernel, stride, padding):
    for size in INPUT_SIZES:
        if padding == "valid" and kernel > size:
            continue
        inputs = keras.Input((size, size, 2))
        out = keras.layers.Conv2D(4, kernel, strides=stride, padding=padding)(inputs)
        model = keras.Model(inputs, out)
        expected = conv_output_size(size, kernel, stride, padding)
        assert model.output_shape == (None, expected, expected, 4), (size, kernel, stride, padding)
        assert model(np.zeros((1, size, size, 2), "float32")).shape == (1, expected, expected, 4)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [None, 1, 2])
@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("pool_cls", ["MaxPooling2D", "AveragePooling2D"])
def test_pool_matches_keras(pool_cls, size, stride, padding):
    layer = Pool(size, stride=stride, padding=padding)
    for width in INPUT_SIZES:
        inputs = keras.Input((width, width, 3))
        out = getattr(keras.layers, pool_cls)(size, strides=stride, padding=padding)(inputs)
        model = keras.Model(inputs, out)
        expected = conv_output_size(width, layer.size, layer.effective_stride, padding)
        assert model.output_shape == (None, expected, expected, 3), (width, size, stride, padding)
        assert model(np.zeros((1, width, width, 3), "float32")).shape == (1, expected, expected, 3)


@pytest.mark.parametrize(
    "layers, size",
    [
        (GIVEN_ENCODER, 32),
        ((Conv(8, 5, padding="valid"), Pool(2), Conv(16, 3, 2), Pool(3, 1, "same"), Conv(4, 1)), 32),
        ((Conv(6, 3, 2, padding=1), Pool(2, padding="same"), Conv(10, 5, 1, padding=2), Conv(3, 3, 3, "valid")), 33),
        ((Conv(4, 7, 2), Pool(3, 2), Conv(8, 3, 1, "valid"), Pool(2)), 64),
    ],
)
def test_latent_table_matches_keras_stack(layers, size):
    steps = latent_table(layers, size)
    static, computed = _keras_shapes(layers, size)
    assert [s.shape_out for s in steps] == static == computed
    assert latent_size(layers, size) == int(np.prod(static[-1]))


@pytest.mark.parametrize("size, kernel, stride", [(32, 3, 2), (33, 3, 2), (32, 5, 1), (33, 5, 2), (32, 4, 1)])
def test_same_padding_pixels_are_what_tensorflow_pads(size, kernel, stride):
    """'same' == ZeroPadding2D(total//2 top/left, rest bottom/right) + 'valid', numerically."""
    total = total_padding(size, kernel, stride, "same")
    before, after = total // 2, total - total // 2
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, size, size, 2)).astype("float32")
    same = keras.layers.Conv2D(3, kernel, strides=stride, padding="same")
    y_same = np.asarray(same(x))
    valid = keras.layers.Conv2D(3, kernel, strides=stride, padding="valid")
    valid.build((None, size + total, size + total, 2))
    valid.set_weights(same.get_weights())
    padded = keras.layers.ZeroPadding2D(((before, after), (before, after)))(x)
    y_valid = np.asarray(valid(padded))
    assert y_same.shape == y_valid.shape
    np.testing.assert_allclose(y_same, y_valid, atol=1e-5)


def test_module_all_is_importable():
    for name in latent.__all__:
        assert hasattr(latent, name)
