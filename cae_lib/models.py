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

Options beyond the report's network (each off by default):

- ``pooling="stride"``: no pooling layers; the first convolution of every
  stage after the first has stride 2, and the decoder goes up with a stride-2
  transposed convolution ``dec{k}_up`` instead of ``UpSampling2D``.
- ``latent_activation="linear"``: a linear bottleneck (the latent convolution
  has no non-linearity, as in PCA).
- ``batch_norm``: batch normalisation (``..._bn``) after every hidden
  convolution except the latent one, before its activation.
- ``residual``: in a stage or decoder block with two or more convolutions, the
  first one's output is added to the last one's (``enc{i}_add``, ``dec{k}_add``).
- ``skips="concat"`` (U-Net) or ``"add"`` (RED-Net, Mao, Shen and Yang 2016):
  each decoder block also receives the output of the mirrored encoder stage,
  concatenated after its upsampling, or added after its first convolution.
  The encoder then returns ``[latent, skip_1, ...]`` and the decoder takes
  them: the decoder sees more than the latent (:attr:`CAESpec.skip_values`).
- ``residual_output``: the network predicts a correction, ``output = input +
  f(input)`` (needs a linear output and as many output as input channels).
- ``output_activation="softmax"`` with ``output_channels=K``: a distribution
  over K classes per pixel (colour classes, :mod:`cae_lib.colorization`).

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
from dataclasses import dataclass

from cae_lib import latent, validate

__all__ = [
    "ACTIVATIONS",
    "POOLINGS",
    "SKIPS",
    "CAESpec",
    "build_cae",
    "given_cae",
    "encoder_of",
    "decoder_of",
    "spec_of",
    "colorization_spec",
    "param_count",
    "summary_dict",
    "with_image_size",
    "any_size",
    "facts",
    "architecture_row",
    "architecture_rows",
]

POOLINGS = ("max", "avg", "none", "stride")
"""How stages shrink: max or average pooling, not at all, or stride-2 convolutions."""

SKIPS = ("none", "concat", "add")
"""Encoder-to-decoder connections: none, concatenated (U-Net) or added (RED-Net)."""

ACTIVATIONS = (
    "relu", "elu", "selu", "gelu", "silu", "leaky_relu", "softplus", "tanh", "sigmoid", "linear", "softmax",
)
"""Activation names accepted by :class:`CAESpec` (Keras names, stable under saving)."""


@dataclass(frozen=True)
class CAESpec:
    """Everything that defines one autoencoder architecture.

    Args:
        filters: filters of each encoder stage (the stages shrink between them);
            the last stage's output is the latent representation.
        convs_per_stage: Conv2D layers per stage (encoder and decoder).
        kernel_size: odd square kernel size of every Conv2D.
        pooling: ``"max"``, ``"avg"``, ``"none"`` (no shrinking, no upsampling)
            or ``"stride"`` (stride-2 convolutions down, transposed ones up).
        activation: activation of the hidden Conv2D layers.
        output_activation: ``"sigmoid"`` for RGB in [0, 1], ``"tanh"`` for a, b
            in [-1, 1], ``"linear"``, or ``"softmax"`` for classes.
        input_channels: channels of the input image (3 for RGB, 1 for L).
        output_channels: channels of the output (3 for RGB, 2 for a, b, K classes).
        input_size: width (= height) of the square training input.
        latent_activation: activation of the latent convolution (``None``: ``activation``).
        batch_norm: batch normalisation after the hidden convolutions.
        residual: residual additions inside stages of two or more convolutions.
        skips: ``"none"``, ``"concat"`` or ``"add"`` (see the module docstring).
        residual_output: output = input + the network's (linear) output.
        output_scale: the output is ``output_scale`` times smaller than the
            input (1, 2, 4, ...: the decoder stops that many upsampling steps
            early; the last block keeps all its convolutions), e.g. colour
            classes predicted at half resolution.
        output_kernel: kernel size of the output convolution (``None``:
            ``kernel_size``; 1 for a per-pixel classifier head).

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
    latent_activation: str | None = None
    batch_norm: bool = False
    residual: bool = False
    skips: str = "none"
    residual_output: bool = False
    output_scale: int = 1
    output_kernel: int | None = None

    def __post_init__(self):
        filters = self.filters
        if isinstance(filters, (str, bytes)) or not hasattr(filters, "__iter__"):
            raise ValueError(f"CAESpec.filters must be a sequence of positive integers, got {filters!r}")
        filters = tuple(validate.positive_int(f, "CAESpec.filters") for f in filters)
        if not filters:
            raise ValueError("CAESpec.filters is empty; give at least one stage, e.g. (8, 12, 16)")
        object.__setattr__(self, "filters", filters)
        for name in ("convs_per_stage", "kernel_size", "input_channels", "output_channels", "input_size"):
            object.__setattr__(self, name, validate.positive_int(getattr(self, name), f"CAESpec.{name}"))
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"CAESpec.kernel_size must be odd (so 'same' padding is symmetric), got {self.kernel_size}"
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"CAESpec.pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.skips not in SKIPS:
            raise ValueError(f"CAESpec.skips must be one of {SKIPS}, got {self.skips!r}")
        for name in ("activation", "output_activation", "latent_activation"):
            value = getattr(self, name)
            if value is None and name == "latent_activation":
                continue
            if value not in ACTIVATIONS:
                raise ValueError(f"CAESpec.{name} must be one of {ACTIVATIONS}, got {value!r}")
        for name in ("batch_norm", "residual", "residual_output"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"CAESpec.{name} must be True or False, got {getattr(self, name)!r}")
        if self.skips != "none" and len(self.filters) < 2:
            raise ValueError("CAESpec.skips needs at least two stages (a skip joins a stage to the decoder)")
        if self.residual and self.convs_per_stage < 2:
            raise ValueError(
                "CAESpec.residual adds a stage's first convolution to its last: it needs convs_per_stage >= 2"
            )
        if self.skips == "add" and len(set(self.filters)) != 1:
            raise ValueError(
                f"CAESpec.skips='add' adds encoder features to decoder features of the same width: "
                f"give every stage the same filters (as RED-Net does), got {self.filters}"
            )
        if self.residual_output and (
            self.output_activation != "linear" or self.input_channels != self.output_channels
        ):
            raise ValueError(
                "CAESpec.residual_output adds the input to the output: it needs output_activation='linear' "
                f"and as many output as input channels (got {self.output_activation!r}, "
                f"{self.input_channels} in, {self.output_channels} out)"
            )
        if self.output_kernel is not None:
            kernel = validate.positive_int(self.output_kernel, "CAESpec.output_kernel")
            if kernel % 2 == 0:
                raise ValueError(f"CAESpec.output_kernel must be odd, got {kernel}")
        scale = validate.positive_int(self.output_scale, "CAESpec.output_scale")
        if scale & (scale - 1) or scale > self.downsampling:
            raise ValueError(
                f"CAESpec.output_scale must be a power of two no larger than the encoder's downsampling "
                f"({self.downsampling}), got {scale}"
            )
        if self.skips != "none" and scale > 1 and scale >= self.downsampling:
            raise ValueError(
                f"CAESpec.skips joins encoder stages to decoder blocks, but output_scale={scale} leaves no decoder block"
            )
        if scale > 1 and self.residual_output:
            raise ValueError("CAESpec.residual_output needs an output of the input's size (output_scale=1)")
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
            >>> CAESpec(filters=(8, 16), pooling="stride").encoder_layers()[1].stride
            2
        """
        layers: list[latent.Conv | latent.Pool] = []
        for stage, filters in enumerate(self.filters, start=1):
            for j in range(1, self.convs_per_stage + 1):
                stride = 2 if self.pooling == "stride" and stage > 1 and j == 1 else 1
                layers.append(
                    latent.Conv(filters, kernel=self.kernel_size, stride=stride, padding="same",
                                name=f"enc{stage}_conv{j}")
                )
            if self.pooling in ("max", "avg") and stage < len(self.filters):
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

    @property
    def skip_values(self) -> int:
        """Values that reach the decoder past the latent through skip connections (0 without skips).

        Example:
            >>> CAESpec(filters=(8, 16), skips="concat").skip_values   # 32x32x8 from stage 1
            8192
        """
        if self.skips == "none":
            return 0
        size, total = self.input_size, 0
        for stage, filters in enumerate(self.filters[:-1], start=1):
            if stage >= self.output_scale.bit_length():
                total += size * size * filters
            if self.pooling != "none":
                size //= 2
        return total

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


def with_image_size(spec: CAESpec, size: int) -> CAESpec:
    """The same architecture for another square input size (the weights are the same)."""
    return dataclasses.replace(spec, input_size=size)


# ---------------------------------------------------------------- the plan both the builder and the count follow


@dataclass(frozen=True)
class _Op:
    """One layer of the plan: ``kind`` in conv, pool, up, tconv, add, concat, skip_add."""

    name: str
    kind: str
    filters: int = 0
    stride: int = 1
    activation: str | None = None
    stage: int = 0  # encoder stage whose output a skip joins (decoder), 0 otherwise
    batch_norm: bool = False
    kernel: int | None = None  # None: the spec's kernel_size


def _encoder_plan(spec: CAESpec) -> list[_Op]:
    ops: list[_Op] = []
    n = len(spec.filters)
    for stage, filters in enumerate(spec.filters, start=1):
        for j in range(1, spec.convs_per_stage + 1):
            is_latent = stage == n and j == spec.convs_per_stage
            activation = (spec.latent_activation or spec.activation) if is_latent else spec.activation
            stride = 2 if spec.pooling == "stride" and stage > 1 and j == 1 else 1
            ops.append(_Op(f"enc{stage}_conv{j}", "conv", filters, stride, activation, 0,
                           spec.batch_norm and not is_latent))
        if spec.residual and spec.convs_per_stage >= 2:
            ops.append(_Op(f"enc{stage}_add", "add", stage=stage))
        if stage < n:
            ops.append(_Op(f"enc{stage}_skip", "mark", stage=stage))  # the stage's output, before shrinking
            if spec.pooling in ("max", "avg"):
                ops.append(_Op(f"enc{stage}_pool", "pool"))
    return ops


def _decoder_plan(spec: CAESpec) -> list[_Op]:
    ops: list[_Op] = []
    n = len(spec.filters)
    last_stage = spec.output_scale.bit_length()  # scale 1 -> stage 1, 2 -> stage 2, ...
    for k, stage in enumerate(range(n - 1, last_stage - 1, -1), start=1):
        filters = spec.filters[stage - 1]
        convs = [
            _Op(f"dec{k}_conv{j}", "conv", filters, 1, spec.activation, 0, spec.batch_norm)
            for j in range(1, spec.convs_per_stage + 1)
        ]
        block: list[_Op] = []
        if spec.pooling in ("max", "avg"):
            block.append(_Op(f"dec{k}_up", "up"))
        elif spec.pooling == "stride":
            block.append(_Op(f"dec{k}_up", "tconv", filters, 2, spec.activation, 0, spec.batch_norm))
            convs = convs[1:]  # the transposed convolution is the block's first convolution
        if stage == last_stage and convs and spec.output_scale == 1:
            convs = convs[:-1]  # the last block's last convolution becomes the output
        if spec.skips == "concat":
            block.append(_Op(f"dec{k}_skip", "concat", stage=stage))
        elif spec.skips == "add":
            if spec.pooling != "stride" and convs:
                block.append(convs.pop(0))
            block.append(_Op(f"dec{k}_skip", "skip_add", stage=stage))
        block.extend(convs)
        if spec.residual and sum(op.kind in ("conv", "tconv") for op in block) >= 2:
            block.append(_Op(f"dec{k}_add", "add", stage=k))
        ops.extend(block)
    ops.append(_Op("output", "conv", spec.output_channels, 1, spec.output_activation, kernel=spec.output_kernel))
    return ops


def param_count(spec: CAESpec) -> int:
    """Trainable and batch-norm parameters, counted by hand from the layer plan (no Keras).

    A K×K convolution from C_in to C_out channels has ``K²·C_in·C_out + C_out``
    parameters; batch normalisation 4 per channel (scale, offset and the two
    running statistics, which Keras' ``count_params`` includes).
    ``build_cae(spec).count_params()`` agrees.

    Example:
        >>> param_count(CAESpec())  # 224 + 876 + 1744 + 1740 + 327
        4911
    """
    total, channels = 0, spec.input_channels
    stage_channels: dict[int, int] = {}
    for op in _encoder_plan(spec):
        if op.kind == "conv":
            total += spec.kernel_size**2 * channels * op.filters + op.filters + (4 * op.filters if op.batch_norm else 0)
            channels = op.filters
        elif op.kind == "mark":
            stage_channels[op.stage] = channels
    for op in _decoder_plan(spec):
        if op.kind in ("conv", "tconv"):
            k2 = (op.kernel or spec.kernel_size) ** 2
            total += k2 * channels * op.filters + op.filters + (4 * op.filters if op.batch_norm else 0)
            channels = op.filters
        elif op.kind == "concat":
            channels += stage_channels[op.stage]
    return total


def summary_dict(spec: CAESpec) -> dict:
    """Numbers for the book's comparison tables.

    Returns:
        ``{"params", "latent_shape", "latent_size", "compression", "skip_values"}``
        where ``compression = latent_size / (input_size² · input_channels)``.

    Example:
        >>> summary_dict(CAESpec())["compression"]
        0.3333333333333333
    """
    size = spec.latent_size
    return {
        "params": param_count(spec),
        "latent_shape": spec.latent_shape,
        "latent_size": size,
        "compression": size / (spec.input_size**2 * spec.input_channels),
        "skip_values": spec.skip_values,
    }


def build_cae(spec: CAESpec | None = None, name: str = "cae", *, flexible_size: bool = False):
    """Build the autoencoder described by ``spec`` (not compiled).

    Args:
        spec: the architecture; ``None`` means ``CAESpec()`` (the given network).
        name: name of the outer model.
        flexible_size: accept images of any height and width divisible by
            :attr:`CAESpec.downsampling` (the layers and weights are the same;
            use it to apply a trained network to larger images).

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
    size = None if flexible_size else spec.input_size

    def conv(op: _Op, x, transpose=False):
        cls = layers.Conv2DTranspose if transpose else layers.Conv2D
        kernel = op.kernel or spec.kernel_size
        if not op.batch_norm:
            return cls(op.filters, kernel, strides=op.stride, padding="same", activation=op.activation,
                       name=op.name)(x)
        x = cls(op.filters, kernel, strides=op.stride, padding="same", name=op.name)(x)
        x = layers.BatchNormalization(name=f"{op.name}_bn")(x)
        return layers.Activation(op.activation, name=f"{op.name}_act")(x)

    enc_in = keras.Input((size, size, spec.input_channels), name="encoder_input")
    x, stage_start, skips = enc_in, None, {}
    for op in _encoder_plan(spec):
        if op.kind == "conv":
            x = conv(op, x)
            if op.name.endswith("_conv1"):
                stage_start = x
        elif op.kind == "add":
            x = layers.Add(name=op.name)([stage_start, x])
        elif op.kind == "mark":
            skips[op.stage] = x
        else:
            x = pool_cls(pool_size=2, padding="valid", name=op.name)(x)
    last_stage = spec.output_scale.bit_length()
    skip_stages = sorted((s for s in skips if s >= last_stage), reverse=True) if spec.skips != "none" else []
    encoder = keras.Model(enc_in, [x, *(skips[s] for s in skip_stages)] if skip_stages else x, name="encoder")

    dec_in = keras.Input((*(spec.latent_shape[:2] if size else (None, None)), spec.latent_shape[2]),
                         name="decoder_input")
    skip_inputs = {
        s: keras.Input((size and spec.input_size // (1 if spec.pooling == "none" else 2 ** (s - 1)),
                        size and spec.input_size // (1 if spec.pooling == "none" else 2 ** (s - 1)),
                        spec.filters[s - 1]), name=f"skip{s}_input")
        for s in skip_stages
    }
    y, block_start = dec_in, None
    for op in _decoder_plan(spec):
        if op.kind == "up":
            y = layers.UpSampling2D(2, name=op.name)(y)
        elif op.kind == "tconv":
            y = conv(op, y, transpose=True)
            block_start = y
        elif op.kind == "conv":
            y = conv(op, y)
            if op.name.endswith("_conv1") or block_start is None:
                block_start = y
        elif op.kind == "concat":
            y = layers.Concatenate(name=op.name)([y, skip_inputs[op.stage]])
        elif op.kind == "skip_add":
            y = layers.Add(name=op.name)([y, skip_inputs[op.stage]])
        elif op.kind == "add":
            y = layers.Add(name=op.name)([block_start, y])
        if op.kind in ("up",) or op.name.endswith("_skip") and op.kind == "concat":
            block_start = None
    decoder = keras.Model([dec_in, *(skip_inputs[s] for s in skip_stages)] if skip_stages else dec_in, y,
                          name="decoder")

    image = keras.Input((size, size, spec.input_channels), name="image")
    out = decoder(encoder(image))
    if spec.residual_output:
        out = layers.Add(name="residual_output")([image, out])
    return keras.Model(image, out, name=name)


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

    With skip connections it returns ``[latent, skip_n-1, ..., skip_1]``.

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
    convs_per_stage, kernel, activation, pooling, latent_activation = 0, None, None, "none", None
    batch_norm = residual = False
    for layer in encoder.layers:
        config = layer.get_config()
        if layer.name.startswith("enc") and "_conv" in layer.name and not layer.name.endswith(("_bn", "_act")):
            stage, j = (int(p) for p in layer.name[3:].split("_conv"))
            stages[stage] = config["filters"]
            convs_per_stage = max(convs_per_stage, j)
            kernel = config["kernel_size"][0]
            if config["strides"][0] == 2:
                pooling = "stride"
            if stage == 1 and j == 1:
                activation = config["activation"]
            latent_activation = config["activation"]
        elif layer.name.endswith("_pool"):
            pooling = "max" if "Max" in type(layer).__name__ else "avg"
        elif layer.name.endswith("_bn"):
            batch_norm = True
        elif layer.name.endswith("_add"):
            residual = True
        if layer.name.endswith("_act") and layer.name.startswith("enc1_conv1"):
            activation = config["activation"]
    if not stages:
        raise ValueError(f"model {model.name!r} has no enc<i>_conv<j> layers; was it built by build_cae?")
    skips = "none"
    for layer in decoder.layers:
        if layer.name.endswith("_skip"):
            skips = "concat" if "Concatenate" in type(layer).__name__ else "add"
    output = decoder.get_layer("output").get_config()
    output_kernel = output["kernel_size"][0]
    input_shape = encoder.input_shape
    residual_output = any(layer.name == "residual_output" for layer in model.layers)
    out_size = decoder.output_shape[1]
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
        latent_activation=None if latent_activation == activation else latent_activation,
        batch_norm=batch_norm,
        residual=residual,
        skips=skips,
        residual_output=residual_output,
        output_scale=1 if out_size is None else input_shape[1] // out_size,
        output_kernel=None if output_kernel == kernel else output_kernel,
    )


def any_size(model):
    """A copy of a :func:`build_cae` model that takes images of any size (same weights).

    Height and width must be multiples of the spec's :attr:`CAESpec.downsampling`.

    Example:
        >>> import numpy as np
        >>> big = any_size(given_cae())
        >>> big.predict(np.zeros((1, 40, 64, 3), np.float32), verbose=0).shape
        (1, 40, 64, 3)
    """
    flexible = build_cae(spec_of(model), name=model.name, flexible_size=True)
    flexible.set_weights(model.get_weights())
    return flexible


def facts(spec: CAESpec) -> dict:
    """The numbers a chapter states about an architecture, latent shape as text.

    Example:
        >>> f = facts(CAESpec())
        >>> f["params"], f["latent_shape"], f["latent_size"], f["input_size"], round(f["latent_share"], 3)
        (4911, '8×8×16', 1024, 3072, 0.333)
    """
    summary = summary_dict(spec)
    return {
        "params": summary["params"],
        "latent_shape": latent.shape_text(summary["latent_shape"]),
        "latent_size": summary["latent_size"],
        "input_size": spec.input_size**2 * spec.input_channels,
        "latent_share": summary["compression"],
    }


def architecture_row(spec: CAESpec) -> dict:
    """One row of a table of architectures: filters, depth, shrinking, latent and size.

    Example:
        >>> architecture_row(CAESpec())["latent_shape"]
        '8×8×16'
    """
    summary = summary_dict(spec)
    return {
        "filters": ", ".join(str(f) for f in spec.filters),
        "convs_per_stage": spec.convs_per_stage,
        "pooling": spec.pooling,
        "latent_shape": latent.shape_text(summary["latent_shape"]),
        "latent_size": summary["latent_size"],
        "compression": summary["compression"],
        "params": summary["params"],
    }


def architecture_rows(specs: dict) -> list[dict]:
    """:func:`architecture_row` of each ``{name: spec}``, with the name first."""
    return [{"model": name, **architecture_row(spec)} for name, spec in specs.items()]
