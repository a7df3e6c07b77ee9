"""The given convolutional autoencoder and a parametric builder for its variants.

A :class:`CAESpec` (a frozen dataclass, JSON round-trippable) describes an
autoencoder; :func:`build_cae` turns it into a functional ``keras.Model`` made
of two nested models, ``"encoder"`` and ``"decoder"`` (:func:`encoder_of`,
:func:`decoder_of`). ``build_cae(CAESpec())`` is exactly the given network
(:func:`given_cae`)::

    enc1_conv1  Conv2D(8, 3x3, relu, same)      32x32x8
    enc1_pool   MaxPooling2D(2)                 16x16x8
    enc2_conv1  Conv2D(12, 3x3, relu, same)     16x16x12
    enc2_pool   MaxPooling2D(2)                 8x8x12
    enc3_conv1  Conv2D(16, 3x3, relu, same)     8x8x16   <- latent (1024 values)
    dec1_up     UpSampling2D(2)                 16x16x16
    dec1_conv1  Conv2D(12, 3x3, relu, same)     16x16x12
    dec2_up     UpSampling2D(2)                 32x32x12
    output      Conv2D(3, 3x3, sigmoid, same)   32x32x3

Layer names: encoder stage ``i`` (1-based) has ``enc{i}_conv{j}`` for
``j = 1..convs_per_stage`` followed, except after the last stage, by
``enc{i}_pool``. The decoder goes back up stage by stage: block ``k`` is
``dec{k}_up`` (absent with ``pooling="none"``) and ``dec{k}_conv{j}`` with the
filters of the mirrored encoder stage; the last block's last convolution is
replaced by ``output`` (``output_channels`` filters, ``output_activation``).
Inputs are ``image`` (autoencoder), ``encoder_input`` and ``decoder_input``.

Importing this module does not import Keras; only the functions that build
models do.

Example:
    >>> spec = CAESpec()
    >>> spec.latent_shape, spec.latent_size
    ((8, 8, 16), 1024)
    >>> param_count(spec)
    4911
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass

from cae_lib import latent

__all__ = [
    "ACTIVATIONS",
    "POOLINGS",
    "CAESpec",
    "build_cae",
    "given_cae",
    "encoder_of",
    "decoder_of",
    "spec_of",
    "colorization_spec",
    "param_count",
    "summary_dict",
]

POOLINGS = ("max", "avg", "none")
"""Pooling choices: max pooling, average pooling, or none (then no upsampling either)."""

ACTIVATIONS = ("relu", "elu", "selu", "gelu", "silu", "leaky_relu", "softplus", "tanh", "sigmoid", "linear")
"""Activation names accepted by :class:`CAESpec` (Keras names, stable under saving)."""


def _positive_int(value, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"CAESpec.{field_name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class CAESpec:
    """Everything that defines one autoencoder architecture.

    Args:
        filters: filters of each encoder stage (pooling between stages); the
            last stage's output is the latent representation.
        convs_per_stage: Conv2D layers per stage (encoder and decoder).
        kernel_size: odd square kernel size of every Conv2D.
        pooling: ``"max"``, ``"avg"`` or ``"none"`` (no pooling, no upsampling).
        activation: activation of the hidden Conv2D layers.
        output_activation: ``"sigmoid"`` for RGB in [0, 1], ``"tanh"`` for a, b in [-1, 1].
        input_channels: channels of the input image (3 for RGB, 1 for L).
        output_channels: channels of the output (3 for RGB, 2 for a, b).
        input_size: width (= height) of the square input.

    Raises:
        ValueError: naming the offending field (e.g. an even kernel, an unknown
            pooling, or an ``input_size`` not divisible by ``2**(len(filters)-1)``).

    Example:
        >>> CAESpec(filters=(16, 32), pooling="avg").latent_shape
        (16, 16, 32)
        >>> CAESpec.from_dict(CAESpec().to_dict()) == CAESpec()
        True
    """

    filters: tuple[int, ...] = (8, 12, 16)
    convs_per_stage: int = 1
    kernel_size: int = 3
    pooling: str = "max"
    activation: str = "relu"
    output_activation: str = "sigmoid"
    input_channels: int = 3
    output_channels: int = 3
    input_size: int = 32

    def __post_init__(self):
        filters = self.filters
        if isinstance(filters, (str, bytes)) or not hasattr(filters, "__iter__"):
            raise ValueError(f"CAESpec.filters must be a sequence of positive integers, got {filters!r}")
        filters = tuple(filters)
        if not filters:
            raise ValueError("CAESpec.filters is empty; give at least one stage, e.g. (8, 12, 16)")
        filters = tuple(_positive_int(f, "filters") for f in filters)
        object.__setattr__(self, "filters", filters)
        for name in ("convs_per_stage", "kernel_size", "input_channels", "output_channels", "input_size"):
            object.__setattr__(self, name, _positive_int(getattr(self, name), name))
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"CAESpec.kernel_size must be odd (so 'same' padding is symmetric), got {self.kernel_size}"
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"CAESpec.pooling must be one of {POOLINGS}, got {self.pooling!r}")
        for name in ("activation", "output_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise ValueError(f"CAESpec.{name} must be one of {ACTIVATIONS}, got {getattr(self, name)!r}")
        factor = self.downsampling
        if self.input_size % factor:
            raise ValueError(
                f"CAESpec.input_size={self.input_size} must be divisible by 2**(len(filters)-1) = {factor} "
                f"so that upsampling restores it; use fewer stages or pooling='none'"
            )

    # ---- derived quantities (pure Python, from cae_lib.latent) ----
    @property
    def downsampling(self) -> int:
        """Factor by which the encoder shrinks width and height (1 without pooling)."""
        return 1 if self.pooling == "none" else 2 ** (len(self.filters) - 1)

    def encoder_layers(self) -> list[latent.Conv | latent.Pool]:
        """The encoder as :mod:`cae_lib.latent` layer descriptions, named as in the model.

        Example:
            >>> [layer.name for layer in CAESpec(filters=(8, 16)).encoder_layers()]
            ['enc1_conv1', 'enc1_pool', 'enc2_conv1']
        """
        layers: list[latent.Conv | latent.Pool] = []
        for stage, filters in enumerate(self.filters, start=1):
            for j in range(1, self.convs_per_stage + 1):
                layers.append(latent.Conv(filters, kernel=self.kernel_size, padding="same", name=f"enc{stage}_conv{j}"))
            if self.pooling != "none" and stage < len(self.filters):
                layers.append(latent.Pool(2, padding="valid", name=f"enc{stage}_pool"))
        return layers

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of the encoder output."""
        return latent.latent_shape(self.encoder_layers(), self.input_size)

    @property
    def latent_size(self) -> int:
        """Number of values in the latent representation."""
        return latent.latent_size(self.encoder_layers(), self.input_size)

    # ---- serialisation ----
    def to_dict(self) -> dict:
        """Plain, JSON-serialisable dict (``filters`` as a list).

        Example:
            >>> CAESpec().to_dict()["filters"]
            [8, 12, 16]
        """
        d = dataclasses.asdict(self)
        d["filters"] = list(self.filters)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> CAESpec:
        """Inverse of :meth:`to_dict`; missing keys take their defaults.

        Raises:
            ValueError: unknown keys, or invalid values (see the class).

        Example:
            >>> import json
            >>> CAESpec.from_dict(json.loads(json.dumps(CAESpec(filters=(4, 8)).to_dict()))).filters
            (4, 8)
        """
        if not isinstance(d, dict):
            raise ValueError(f"CAESpec.from_dict expects a dict, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown CAESpec keys {unknown}; known keys are {sorted(known)}")
        return cls(**d)

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), sort_keys=True)``."""
        return json.dumps(self.to_dict(), sort_keys=True)


def colorization_spec(**overrides) -> CAESpec:
    """Spec of the colorization network: L in (1 channel), a, b out (2 channels, tanh).

    Args:
        **overrides: any other :class:`CAESpec` fields (these three may be overridden too).

    Example:
        >>> s = colorization_spec(filters=(16, 32))
        >>> s.input_channels, s.output_channels, s.output_activation, s.filters
        (1, 2, 'tanh', (16, 32))
    """
    values = {"input_channels": 1, "output_channels": 2, "output_activation": "tanh"}
    values.update(overrides)
    return CAESpec(**values)


def _decoder_plan(spec: CAESpec) -> list[tuple[str, str, int]]:
    """``(name, kind, filters)`` for every decoder layer; kind is "up" or "conv"."""
    plan: list[tuple[str, str, int]] = []
    mirrored = list(reversed(spec.filters[:-1]))  # stages n-1 .. 1 (1-based)
    for k, filters in enumerate(mirrored, start=1):
        if spec.pooling != "none":
            plan.append((f"dec{k}_up", "up", 0))
        for j in range(1, spec.convs_per_stage + 1):
            plan.append((f"dec{k}_conv{j}", "conv", filters))
    if plan and plan[-1][1] == "conv":
        plan.pop()  # the last block's last conv becomes the output conv
    plan.append(("output", "conv", spec.output_channels))
    return plan


def param_count(spec: CAESpec) -> int:
    """Trainable parameters, ``K²·C_in·C_out + C_out`` summed over the Conv2D layers.

    Computed by hand (no Keras); ``build_cae(spec).count_params()`` agrees.

    Example:
        >>> param_count(CAESpec())  # 224 + 876 + 1744 + 1740 + 327
        4911
    """
    k2 = spec.kernel_size**2
    total, channels = 0, spec.input_channels
    for layer in spec.encoder_layers():
        if isinstance(layer, latent.Conv):
            total += k2 * channels * layer.filters + layer.filters
            channels = layer.filters
    for _, kind, filters in _decoder_plan(spec):
        if kind == "conv":
            total += k2 * channels * filters + filters
            channels = filters
    return total


def summary_dict(spec: CAESpec) -> dict:
    """Numbers for the book's comparison tables.

    Returns:
        ``{"params", "latent_shape", "latent_size", "compression"}`` where
        ``compression = latent_size / (input_size² · input_channels)``.

    Example:
        >>> summary_dict(CAESpec())
        {'params': 4911, 'latent_shape': (8, 8, 16), 'latent_size': 1024, 'compression': 0.3333333333333333}
    """
    size = spec.latent_size
    return {
        "params": param_count(spec),
        "latent_shape": spec.latent_shape,
        "latent_size": size,
        "compression": size / (spec.input_size**2 * spec.input_channels),
    }


def build_cae(spec: CAESpec | None = None, name: str = "cae"):
    """Build the autoencoder described by ``spec`` (not compiled).

    Args:
        spec: the architecture; ``None`` means ``CAESpec()`` (the given network).
        name: name of the outer model.

    Returns:
        A functional ``keras.Model`` ``image -> encoder -> decoder -> output``
        whose nested models are named ``"encoder"`` and ``"decoder"``.

    Raises:
        ValueError: ``spec`` is not a CAESpec.

    Example:
        >>> model = build_cae(CAESpec(filters=(8, 16), pooling="avg"))
        >>> model.output_shape, encoder_of(model).output_shape
        ((None, 32, 32, 3), (None, 16, 16, 16))
    """
    import keras
    from keras import layers

    spec = CAESpec() if spec is None else spec
    if not isinstance(spec, CAESpec):
        raise ValueError(f"spec must be a CAESpec, got {type(spec).__name__}")
    pool_cls = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}.get(spec.pooling)

    def conv(filters, layer_name, activation):
        return layers.Conv2D(filters, spec.kernel_size, padding="same", activation=activation, name=layer_name)

    size = spec.input_size
    enc_in = keras.Input((size, size, spec.input_channels), name="encoder_input")
    x = enc_in
    for layer in spec.encoder_layers():
        if isinstance(layer, latent.Conv):
            x = conv(layer.filters, layer.name, spec.activation)(x)
        else:
            x = pool_cls(pool_size=layer.size, padding=layer.padding, name=layer.name)(x)
    encoder = keras.Model(enc_in, x, name="encoder")

    dec_in = keras.Input(spec.latent_shape, name="decoder_input")
    y = dec_in
    for layer_name, kind, filters in _decoder_plan(spec):
        if kind == "up":
            y = layers.UpSampling2D(2, name=layer_name)(y)
        elif layer_name == "output":
            y = conv(filters, layer_name, spec.output_activation)(y)
        else:
            y = conv(filters, layer_name, spec.activation)(y)
    decoder = keras.Model(dec_in, y, name="decoder")

    image = keras.Input((size, size, spec.input_channels), name="image")
    return keras.Model(image, decoder(encoder(image)), name=name)


def given_cae(name: str = "cae"):
    """The given autoencoder, ``build_cae(CAESpec())`` (4911 parameters, latent 8x8x16).

    Example:
        >>> given_cae().count_params()
        4911
    """
    return build_cae(CAESpec(), name=name)


def _sub_model(model, name: str):
    try:
        return model.get_layer(name)
    except (ValueError, AttributeError):
        raise ValueError(
            f"model {getattr(model, 'name', model)!r} has no nested model named {name!r}; "
            "build it with cae_lib.models.build_cae"
        ) from None


def encoder_of(model):
    """The nested ``"encoder"`` model of a :func:`build_cae` model (shares its weights).

    Raises:
        ValueError: the model has no layer named ``"encoder"``.
    """
    return _sub_model(model, "encoder")


def decoder_of(model):
    """The nested ``"decoder"`` model of a :func:`build_cae` model (shares its weights).

    Raises:
        ValueError: the model has no layer named ``"decoder"``.
    """
    return _sub_model(model, "decoder")


def spec_of(model) -> CAESpec:
    """Read the :class:`CAESpec` back from a model built by :func:`build_cae`.

    Works on reloaded models too, since it only looks at layer names and configs.
    A one-stage model has no pooling layer, so its pooling reads back as ``"none"``.

    Raises:
        ValueError: the model was not built by :func:`build_cae`.

    Example:
        >>> spec = CAESpec(filters=(8, 16), convs_per_stage=2, pooling="avg")
        >>> spec_of(build_cae(spec)) == spec
        True
    """
    encoder, decoder = encoder_of(model), decoder_of(model)
    stages: dict[int, int] = {}
    convs_per_stage, kernel, activation, pooling = 0, None, None, "none"
    for layer in encoder.layers:
        config = layer.get_config()
        if layer.name.startswith("enc") and "_conv" in layer.name:
            stage, j = (int(p) for p in layer.name[3:].split("_conv"))
            stages[stage] = config["filters"]
            convs_per_stage = max(convs_per_stage, j)
            kernel = config["kernel_size"][0]
            activation = config["activation"]
        elif layer.name.endswith("_pool"):
            pooling = "max" if "Max" in type(layer).__name__ else "avg"
    if not stages:
        raise ValueError(f"model {model.name!r} has no enc<i>_conv<j> layers; was it built by build_cae?")
    output = decoder.get_layer("output").get_config()
    input_shape = encoder.input_shape
    return CAESpec(
        filters=tuple(stages[i] for i in sorted(stages)),
        convs_per_stage=convs_per_stage,
        kernel_size=kernel,
        pooling=pooling,
        activation=activation,
        output_activation=output["activation"],
        input_channels=input_shape[-1],
        output_channels=output["filters"],
        input_size=input_shape[1],
    )
