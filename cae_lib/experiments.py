"""The book's named runs: what each chapter trains, by name.

The chapters and the command line (``cae train NAME``, ``cae train --all``)
take their configurations from here, so the book, the tests and a user at a
shell train exactly the same runs and share one cache. This module is a leaf
of the library: no module of ``cae_lib`` imports it; only the front ends (the
command line and the chapters) do.

Example:
    >>> experiment("given_mse", profile="smoke").loss
    'mse'
    >>> "colorize" in names()
    True
"""

from __future__ import annotations

from cae_lib.models import CAESpec, colorization_spec
from cae_lib.tasks import Colorize, ColourClasses, Denoise, RateDistortion
from cae_lib.training import RunConfig

__all__ = [
    "COMPRESSOR",
    "RED_NET",
    "CODEC_SPEC",
    "CODEC_LAMBDAS",
    "CODEC",
    "BITS_MODELS",
    "FAST",
    "BENCH_MODELS",
    "names",
    "describe",
    "experiment",
    "search_settings",
    "TEMPERATURES",
    "PCA_SIZES",
    "RESIZE_SIDES",
    "SHOWN_SIZES",
    "JUDGED_SIZES",
    "NOISE_LEVELS",
    "DENOISERS",
    "DENOISER_ROLES",
    "BM3D_IMAGES",
    "REPORT_VARIANTS",
    "configs",
    "denoisers",
]

#: The compressor of chapter 2, found by measurement: stride-2 convolutions
#: instead of pooling, two convolutions per stage with a residual addition,
#: and a linear (PCA-like) bottleneck.
COMPRESSOR = dict(pooling="stride", convs_per_stage=2, residual=True, latent_activation="linear")
#: RED-Net (Mao, Shen and Yang 2016): no pooling, symmetric skips added, the
#: network predicts the correction to its input.
RED_NET = CAESpec(
    filters=(32,) * 5, pooling="none", skips="add", output_activation="linear", residual_output=True
)
#: Training the larger models: batch 128, warm-up then cosine decay of a
#: 2e-3 learning rate (measured in bench/bench_training.py).
FAST = dict(batch_size=128, lr_schedule="cosine", warmup_epochs=1, learning_rate=2e-3)

_GIVEN = CAESpec()

#: The learned codec of chapter 5: chapter 2's compressor with a 32-channel latent (8x8x32), trained for
#: rate and distortion (Ballé et al. 2017) at each trade-off of :data:`CODEC_LAMBDAS`.
CODEC_SPEC = CAESpec(filters=(16, 32, 32), **COMPRESSOR)
#: Run name -> lambda of CompressAI's loss ``lambda * 255**2 * MSE + bpp``, from few bits to many.
CODEC_LAMBDAS = {"rd_q1": 0.0007, "rd_q2": 0.0018, "rd_q3": 0.0045, "rd_q4": 0.011, "rd_q5": 0.028}
#: The learned codec ``cae compress`` uses by default.
CODEC = "rd_q3"
#: Chapter 5: the chapter-2 models whose latents are quantized and entropy-coded "as they are".
BITS_MODELS = ("given_mse", "compressor_1024", "compressor_256")

#: name -> (chapter, one-line description, RunConfig keyword arguments)
_EXPERIMENTS: dict[str, tuple[int, str, dict]] = {
    "given_bce": (1, "given architecture, binary cross-entropy", dict(model=_GIVEN, loss="binary_crossentropy")),
    "given_mse": (1, "given architecture, mean squared error", dict(model=_GIVEN, loss="mse")),
    "avg_pool": (2, "average pooling instead of max", dict(model=CAESpec(pooling="avg"), loss="mse")),
    "no_pool": (2, "no pooling, no upsampling (latent 32x32x16)", dict(model=CAESpec(pooling="none"), loss="mse")),
    "no_pool_1024": (
        2,
        "no pooling, latent squeezed to 32x32x1 = 1024 values",
        dict(model=CAESpec(filters=(8, 12, 1), pooling="none"), loss="mse"),
    ),
    "wide": (2, "twice the filters, same 8x8x16 latent", dict(model=CAESpec(filters=(16, 24, 16)), loss="mse")),
    "deep": (2, "two convolutions per stage, same latent", dict(model=CAESpec(convs_per_stage=2), loss="mse")),
    "small_latent": (
        2,
        "a third pooling stage: latent 4x4x16 = 256 values",
        dict(model=CAESpec(filters=(8, 12, 16, 16)), loss="mse"),
    ),
    "compressor_1024": (
        2,
        "strided, residual, linear bottleneck: latent 8x8x16 = 1024 values",
        dict(model=CAESpec(filters=(16, 32, 16), **COMPRESSOR), loss="mse", metrics=("mse",), **FAST),
    ),
    "compressor_256": (
        2,
        "the same with a fourth stage, twice as wide: latent 4x4x16 = 256 values",
        dict(model=CAESpec(filters=(32, 64, 128, 16), **COMPRESSOR), loss="mse", metrics=("mse",), **FAST),
    ),
    "compressor_skips": (
        2,
        "the 1024-value compressor with U-Net skips (the decoder sees more than the latent)",
        dict(model=CAESpec(filters=(16, 32, 16), skips="concat", **COMPRESSOR), loss="mse", metrics=("mse",),
             **FAST),
    ),
    "colorize": (
        3,
        "colorization: L in, a,b out (regression)",
        dict(model=colorization_spec(filters=(16, 32, 64)), task=Colorize(), loss="mse", metrics=("mae",)),
    ),
    "colorize_unet": (
        3,
        "colorization U-Net: skips carry the lightness detail (regression)",
        dict(model=colorization_spec(filters=(16, 32, 64), skips="concat"), task=Colorize(), loss="mse",
             metrics=("mae",), **FAST),
    ),
    "colorize_classes": (
        3,
        "colorization U-Net over 262 a*b* classes, rebalanced, at half resolution",
        dict(
            model=colorization_spec(filters=(16, 32, 64), skips="concat", output_scale=2, output_kernel=1,
                                    output_channels=262, output_activation="softmax"),
            task=ColourClasses(rebalance_lambda=0.8), loss="rebalanced_crossentropy", metrics=(), epochs=10,
            early_stopping_patience=None, **FAST,
        ),
    ),
    "denoise_given_0.1": (
        4, "the given pooled CAE denoising sigma = 0.1",
        dict(model=_GIVEN, task=Denoise(0.1), loss="mse", metrics=("mse",)),
    ),
    "denoise_unpooled_0.1": (
        4, "the given CAE without pooling, sigma = 0.1",
        dict(model=CAESpec(pooling="none"), task=Denoise(0.1), loss="mse", metrics=("mse",),
             epochs=8, **FAST),
    ),
    "denoise_rednet_0.1": (
        4, "RED-Net (no pooling, symmetric skips), sigma = 0.1",
        dict(model=RED_NET, task=Denoise(0.1), loss="mse", metrics=("mse",), epochs=5,
             early_stopping_patience=None, **FAST),
    ),
    "denoise_given_0.2": (
        4, "the given pooled CAE denoising sigma = 0.2",
        dict(model=_GIVEN, task=Denoise(0.2), loss="mse", metrics=("mse",)),
    ),
    "denoise_rednet_0.2": (
        4, "RED-Net (no pooling, symmetric skips), sigma = 0.2",
        dict(model=RED_NET, task=Denoise(0.2), loss="mse", metrics=("mse",), epochs=5,
             early_stopping_patience=None, **FAST),
    ),
    **{
        name: (5, f"learned codec, factorized prior, lambda = {lmbda}",
               dict(model=CODEC_SPEC, task=RateDistortion(lmbda), loss="mse", metrics=("mse",), epochs=12, **FAST))
        for name, lmbda in CODEC_LAMBDAS.items()
    },
}

#: Models whose training images/s the benchmark reports besides the given CAE's.
BENCH_MODELS = ("compressor_1024", "colorize_unet", "colorize_classes", "denoise_rednet_0.1")


def names(chapter: int | None = None) -> list[str]:
    """Experiment names, all or those of one chapter, in book order."""
    return [n for n, (ch, _, _) in _EXPERIMENTS.items() if chapter is None or ch == chapter]


def describe(name: str) -> str:
    """One-line description of an experiment."""
    return _lookup(name)[1]


def experiment(name: str, profile: str | None = None, **overrides) -> RunConfig:
    """The configuration of a named run.

    Args:
        name: one of :func:`names`.
        profile: ``"full"`` or ``"smoke"`` (default: ``CAE_PROFILE``).
        **overrides: any other RunConfig field (e.g. ``epochs=3``).

    Returns:
        The :class:`~cae_lib.training.RunConfig`.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
    """
    _, _, kwargs = _lookup(name)
    settings = dict(name=name, **kwargs)
    if profile is not None:
        settings["profile"] = profile
    settings.update(overrides)
    return RunConfig(**settings)


def _lookup(name: str):
    try:
        return _EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(_EXPERIMENTS)}") from None


#: The keras-tuner search of chapter 2: keyword arguments of :func:`cae_lib.tuning.search`.
SEARCHES: dict[str, dict] = {
    "latent_search": dict(kind="hyperband", latent_budget=1024),
}


def search_settings(name: str) -> dict:
    """The :func:`cae_lib.tuning.search` arguments of a named search.

    Example:
        >>> search_settings("latent_search")["latent_budget"]
        1024
    """
    try:
        return dict(SEARCHES[name])
    except KeyError:
        raise KeyError(f"unknown search {name!r}; known: {', '.join(SEARCHES)}") from None


#: The colour classes' default annealed-mean temperature is chosen on the
#: validation part among these (one run of the model decodes them all).
TEMPERATURES = (1.0, 0.6, 0.38, 0.2, 0.1)


#: Chapter 2's classical codecs: PCA components and thumbnail sides (3·k² values) to score.
PCA_SIZES = (16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072)
RESIZE_SIDES = (4, 8, 12, 16, 18, 24)
#: The sizes (values kept) at which chapter 2's table shows the codecs side by side.
SHOWN_SIZES = (192, 256, 512, 768, 972, 1024)
#: The latent sizes chapter 2 judges learned models against PCA at.
JUDGED_SIZES = (256, 512, 768, 1024)

#: Chapter 4: noise levels, the runs of each (label -> run name), and the test images BM3D is scored on.
NOISE_LEVELS = (0.1, 0.2)
DENOISERS = {
    0.1: {"pooled CAE (given)": "denoise_given_0.1", "unpooled CAE": "denoise_unpooled_0.1",
          "RED-Net": "denoise_rednet_0.1"},
    0.2: {"pooled CAE (given)": "denoise_given_0.2", "RED-Net": "denoise_rednet_0.2"},
}
#: The role of each denoiser label in chapter 4's verdicts (:func:`cae_lib.findings.verdicts`).
DENOISER_ROLES = {"pooled": "pooled CAE (given)", "unpooled": "unpooled CAE", "rednet": "RED-Net"}
BM3D_IMAGES = {"full": 200, "smoke": 10}  # BM3D costs about a second per image, however small

#: Chapter 2's baseline and the report's variants, in the order its tables show them.
REPORT_VARIANTS = ("given_mse", "avg_pool", "no_pool", "no_pool_1024", "wide", "deep", "small_latent")


def configs(names_: tuple[str, ...] | list[str], profile: str | None = None) -> dict:
    """``{name: experiment(name)}`` for several runs, in the order given.

    Example:
        >>> list(configs(["given_bce", "given_mse"], profile="smoke"))
        ['given_bce', 'given_mse']
    """
    return {name: experiment(name, profile=profile) for name in names_}


def denoisers(profile: str | None = None) -> dict:
    """Chapter 4's runs: ``{sigma: {label: config}}``."""
    return {sigma: {label: experiment(name, profile=profile) for label, name in runs.items()}
            for sigma, runs in DENOISERS.items()}


#: Chapter 6: the models whose codes are probed (the tuned model joins them from the search), and why
#: one chapter-2 model is left out.
PROBE_MODELS = ("given_bce", *REPORT_VARIANTS, "compressor_1024", "compressor_256")
PROBE_LEFT_OUT = {"compressor_skips": "its skip connections carry detail around the latent, so its code is "
                                      "not all the decoder sees"}
#: Training images of each class the probes train on (None: the whole training part), by profile.
PROBE_TRAIN_PER_CLASS = {"full": 1000, "smoke": None}
#: The probe's inverse regularisation strength (see the chapter for how it was chosen).
PROBE_C = 0.001
#: Neighbours of the k-NN classifier and of the retrieval figure; the retrieval figure's queries.
NEIGHBOURS = 5
RETRIEVAL_QUERIES = 3
#: Novel images of each kind (at most the photographs' 206 tiles), and the models judged on them.
NOVEL_PER_KIND = 200
#: Test codes in the t-SNE map, by profile (t-SNE's cost grows faster than the number of points).
EMBEDDING_POINTS = {"full": 2000, "smoke": 100}
