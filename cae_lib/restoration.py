"""Restoration with a trained network: denoise images of any size, and read a verdict off the scores.

A denoising run (:mod:`cae_lib.tasks`, task ``denoise``) trains on 32×32
CIFAR-10 crops, but its networks are fully convolutional, so they apply to
images of any size: :func:`denoise_image` pads an image (by reflection) to a
multiple of the network's downsampling, runs it, and crops the result back.

Example:
    >>> import numpy as np
    >>> from cae_lib.models import given_cae
    >>> denoise_image(given_cae(), np.zeros((33, 50, 3), np.float32)).shape
    (33, 50, 3)
"""

from __future__ import annotations

import numpy as np

__all__ = ["denoise_image", "pad_to_multiple", "restoration_facts", "verdicts", "model_row", "noisy_copy"]


def pad_to_multiple(image: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """``image`` padded by reflection at the bottom and right to multiples of ``multiple``; and its size.

    Example:
        >>> padded, size = pad_to_multiple(np.zeros((5, 6, 3)), 4)
        >>> padded.shape, size
        ((8, 8, 3), (5, 6))
    """
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode=mode), (h, w)


def denoise_image(model, image) -> np.ndarray:
    """Denoise one RGB image of any size with a trained denoising network.

    Args:
        model: a :func:`cae_lib.models.build_cae` model trained on task ``denoise``
            (e.g. ``cae_lib.training.run(config).model``).
        image: ``(H, W, 3)`` uint8 or float in [0, 1].

    Returns:
        float32 ``(H, W, 3)`` in [0, 1].

    Raises:
        ValueError: not an RGB image.
    """
    from cae_lib import validate
    from cae_lib.models import any_size, spec_of

    x = np.asarray(image)
    if x.ndim != 3 or x.shape[-1] != 3 or min(x.shape[:2]) < 1:
        raise ValueError(f"image must be an RGB image of shape (H, W, 3); got shape {x.shape}")
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else validate.float_images(x, "image", ndim=(3,))
    padded, (h, w) = pad_to_multiple(x.astype(np.float32), spec_of(model).downsampling)
    out = any_size(model).predict(padded[None], verbose=0)[0, :h, :w]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def restoration_facts(scores: dict, subset_scores: dict, sigma: float) -> dict:
    """What chapter 4 states at one noise level, from the methods' test PSNRs.

    Args:
        scores: ``{"pooled", "unpooled", "rednet", "nlm"}`` → global test PSNR in dB
            (``"unpooled"`` may be missing at a noise level without that model).
        subset_scores: the same methods and ``"bm3d"`` on the BM3D subset (``bm3d``
            ``None`` when BM3D is not installed).
        sigma: the noise level.

    Returns:
        ``{"pooling_sentence", "skips_sentence", "pooled_vs_nlm", "rednet_vs_nlm", "bm3d_sentence"}``.

    Example:
        >>> f = restoration_facts({"pooled": 22.6, "unpooled": 27.2, "rednet": 27.9, "nlm": 25.4},
        ...                       {"pooled": 22.5, "unpooled": 27.0, "rednet": 27.8, "nlm": 25.3, "bm3d": 28.9}, 0.1)
        >>> f["pooled_vs_nlm"], f["bm3d_sentence"][:40]
        ('2.80 dB below', 'BM3D beats every learned model here: 28.')
    """
    from cae_lib.evaluation import relation

    facts = {
        "pooled_vs_nlm": relation(scores["pooled"] - scores["nlm"]),
        "rednet_vs_nlm": relation(scores["rednet"] - scores["nlm"]),
    }
    if "unpooled" in scores:
        gain = scores["unpooled"] - scores["pooled"]
        facts["pooling_sentence"] = (
            f"Removing the pooling from the same small network raises its PSNR by {gain:.2f} dB at σ = {sigma:g}: "
            "for restoration, pooling discards detail the output needs, as Mao et al. say"
            if gain > 0 else
            f"Removing the pooling does not help here ({relation(gain)} the pooled network at σ = {sigma:g})"
        )
        skip = scores["rednet"] - scores["unpooled"]
        facts["skips_sentence"] = (
            f"RED-Net's symmetric skips and residual output add {skip:.2f} dB over the unpooled network"
            if skip > 0 else f"RED-Net is {relation(skip)} the unpooled network: the skips did not help here"
        )
    learned = {k: v for k, v in subset_scores.items() if k in ("pooled", "unpooled", "rednet")}
    best = max(learned, key=learned.get)
    bm3d = subset_scores.get("bm3d")
    if bm3d is None:
        facts["bm3d_sentence"] = "BM3D was not measured in this build (the bm3d package is not installed)"
    elif bm3d > learned[best]:
        facts["bm3d_sentence"] = (f"BM3D beats every learned model here: {bm3d:.2f} dB against {learned[best]:.2f} dB "
                                  f"for the best, on the same test images")
    else:
        facts["bm3d_sentence"] = (f"The best learned model beats BM3D: {learned[best]:.2f} dB against {bm3d:.2f} dB "
                                  "on the same test images")
    return facts


def model_row(name: str, model, data, subset_images: int) -> dict:
    """A denoising model's test scores, as :func:`cae_lib.baselines.denoising_scores` gives the classical ones.

    Args:
        name: the method's label.
        model: a trained denoising model.
        data: :func:`cae_lib.tasks.task_data` of ``"denoise"``.
        subset_images: the first test images BM3D was scored on (``psnr_subset_db``).
    """
    from cae_lib import evaluation

    pred = evaluation.predict(model, data.x_test)
    full = evaluation.prediction_metrics(data, pred)
    n = min(subset_images, len(data.x_test))
    subset = type(data)(**{**data.__dict__, "x_test": data.x_test[:n], "y_test": data.y_test[:n],
                           "test_index": data.test_index[:n]})
    return {"method": name, "psnr_global_db": full["psnr_global_db"], "ssim": full["ssim"],
            "n_images": int(full["n_images"]),
            "psnr_subset_db": evaluation.prediction_metrics(subset, pred[:n])["psnr_global_db"]}


def noisy_copy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """An RGB image in [0, 1] with seeded Gaussian noise of ``sigma`` added, clipped to [0, 1].

    Example:
        >>> noisy_copy(np.full((2, 2, 3), 0.5, np.float32), 0.1).shape
        (2, 2, 3)
    """
    x = np.asarray(image)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    noise = np.random.default_rng(seed).normal(0.0, sigma, x.shape).astype(np.float32)
    return np.clip(x + noise, 0.0, 1.0)


#: The kinds of method :func:`verdicts` compares, by the prefix of their table label.
CLASSICAL = {"nlm": "non-local means", "bm3d": "BM3D"}


def verdicts(rows: list[dict], labels: dict, noise_levels) -> dict:
    """:func:`restoration_facts` at every noise level, from the chapter's table of methods.

    Args:
        rows: ``{"sigma", "method", "psnr_global_db", "psnr_subset_db"}`` for every method
            (:func:`cae_lib.baselines.denoising_scores` and :func:`model_row`).
        labels: ``{"pooled" | "unpooled" | "rednet": the model's label in the table}``.
        noise_levels: the sigmas to judge.

    Returns:
        The facts of each level with keys prefixed ``s<10·sigma>_`` (``s1_`` for 0.1),
        plus ``s1_rednet``, ``s1_pooled``, ``s1_nlm`` (global PSNRs), and so on.
    """
    facts = {}
    for sigma in noise_levels:
        at = {r["method"]: r for r in rows if r["sigma"] == sigma}
        classical = {key: next((r for m, r in at.items() if m.startswith(prefix)), None)
                     for key, prefix in CLASSICAL.items()}
        full = {key: at[label]["psnr_global_db"] for key, label in labels.items() if label in at}
        subset = {key: at[label]["psnr_subset_db"] for key, label in labels.items() if label in at}
        bm3d = classical["bm3d"]
        subset["bm3d"] = None if bm3d is None else bm3d["psnr_subset_db"]
        subset["nlm"] = classical["nlm"]["psnr_subset_db"]
        found = restoration_facts({**full, "nlm": classical["nlm"]["psnr_global_db"]}, subset, sigma)
        found.update({"rednet": full["rednet"], "pooled": full["pooled"], "nlm": classical["nlm"]["psnr_global_db"],
                      "nlm_h": classical["nlm"]["h"]})
        facts.update({f"s{round(sigma * 10)}_{k}": v for k, v in found.items()})
    return facts


def denoiser_rows(configs: dict) -> list[dict]:
    """One table row per denoising run: label, noise level, filters, pooling, parameters, epochs.

    Args:
        configs: ``{sigma: {label: RunConfig}}`` (:func:`cae_lib.experiments.denoisers`).
    """
    from cae_lib.models import architecture_row

    return [{"model": label, "sigma": sigma, "epochs": config.max_epochs(), **architecture_row(config.model)}
            for sigma, group in configs.items() for label, config in group.items()]
