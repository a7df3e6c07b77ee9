"""The rate-distortion task: an autoencoder trained for bits and distortion together (Ballé et al. 2017).

The network is a :func:`cae_lib.models.build_cae` encoder and decoder with an
:class:`~cae_lib.entropy_models.EntropyBottleneck` between them: uniform noise
on the latent in training, a learned density per latent channel, and the loss

    MSE + bpp / (lambda * 255**2)

which is CompressAI's ``lambda * 255**2 * MSE + bpp`` divided by
``lambda * 255**2`` (the same minimiser; CompressAI's lambdas carry over).
A larger ``lmbda`` buys quality with bits. In inference the latent is
rounded, so the model's prediction is what the codec
:class:`cae_lib.codecs.learned.LearnedCodec` decodes from its file. Inputs
and targets are the images, as for :class:`~cae_lib.tasks.Reconstruct`.

Example:
    >>> task = RateDistortion(lmbda=0.0067)
    >>> task.to_dict(), round(task.rate_weight, 6)
    ({'name': 'rate_distortion', 'lmbda': 0.0067}, 0.002295)
"""

from __future__ import annotations

from dataclasses import dataclass

from cae_lib import validate
from cae_lib.tasks.base import register
from cae_lib.tasks.reconstruct import Reconstruct

__all__ = ["RateDistortion", "build_rd_model", "BOTTLENECK"]

#: The name of the entropy bottleneck layer in a rate-distortion model.
BOTTLENECK = "entropy_bottleneck"


def build_rd_model(spec, rate_weight: float, name: str = "rd_cae", *, flexible_size: bool = False):
    """An autoencoder of ``spec`` with an entropy bottleneck on its latent (not compiled).

    Args:
        spec: a :class:`cae_lib.models.CAESpec` without skip connections.
        rate_weight: the bottleneck's factor of bits per pixel in the loss.
        name: the model's name.
        flexible_size: accept images of any size divisible by the downsampling.

    Returns:
        ``image -> encoder -> entropy_bottleneck -> decoder``, the nested models
        named ``"encoder"`` and ``"decoder"`` as in :func:`~cae_lib.models.build_cae`.

    Example:
        >>> from cae_lib.models import CAESpec
        >>> model = build_rd_model(CAESpec(filters=(8, 4), pooling="stride"), 1e-3)
        >>> [layer.name for layer in model.layers]
        ['image', 'encoder', 'entropy_bottleneck', 'decoder']
    """
    import keras

    from cae_lib.entropy_models import EntropyBottleneck
    from cae_lib.models import build_cae, decoder_of, encoder_of

    if spec.skips != "none" or spec.residual_output:
        raise ValueError("a rate-distortion model needs a plain encoder and decoder: no skips, no residual output")
    cae = build_cae(spec, name=name, flexible_size=flexible_size)
    encoder, decoder = encoder_of(cae), decoder_of(cae)
    image = keras.Input(encoder.input_shape[1:], name="image")
    bottleneck = EntropyBottleneck(spec.latent_shape[2], spec.downsampling**2, rate_weight, name=BOTTLENECK)
    return keras.Model(image, decoder(bottleneck(encoder(image))), name=name)


@register("rate_distortion")
@dataclass(frozen=True)
class RateDistortion(Reconstruct):
    """Reconstruct the image through a quantized, entropy-coded latent, trading bits for distortion.

    Attributes:
        lmbda: the rate-distortion trade-off of CompressAI's loss
            ``lmbda * 255**2 * MSE + bpp`` (its MSE models use 0.0018 to 0.18).
    """

    lmbda: float
    description = "RGB in, the same RGB out through a quantized latent, for bits and distortion"

    def __post_init__(self):
        object.__setattr__(self, "lmbda", validate.positive_float(self.lmbda, "RateDistortion.lmbda (e.g. 0.0067)"))

    @property
    def rate_weight(self) -> float:
        """The factor of bits per pixel beside the MSE: ``1 / (lmbda * 255**2)``."""
        return 1.0 / (self.lmbda * 255.0**2)

    def check(self, config) -> None:
        super().check(config)
        if config.loss != "mse":
            raise ValueError(f"task rate_distortion trades MSE for bits: use loss='mse', got {config.loss!r}")
        if config.model.skips != "none" or config.model.residual_output or config.model.pooling == "none":
            raise ValueError(
                "task rate_distortion needs an encoder that shrinks the image and a decoder that sees only the "
                "latent: pooling other than 'none', skips='none', residual_output=False"
            )

    def build_model(self, config, name: str):
        return build_rd_model(config.model, self.rate_weight, name=name)

    def custom_objects(self) -> dict:
        from cae_lib.entropy_models import EntropyBottleneck

        return {"EntropyBottleneck": EntropyBottleneck}
