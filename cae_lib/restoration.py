"""Restoration with a trained network: denoise images of any size, and score a denoiser like the baselines.

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

from cae_lib.data import unit_float

__all__ = ["denoise_image", "pad_to_multiple", "model_row", "noisy_copy", "denoiser_rows"]


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
    x = unit_float(x) if x.dtype == np.uint8 else validate.float_images(x, "image", ndim=(3,))
    padded, (h, w) = pad_to_multiple(x.astype(np.float32), spec_of(model).downsampling)
    out = any_size(model).predict(padded[None], verbose=0)[0, :h, :w]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


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
    subset = data.first_test(subset_images)
    n = len(subset.x_test)
    return {"method": name, "psnr_global_db": full["psnr_global_db"], "ssim": full["ssim"],
            "n_images": int(full["n_images"]),
            "psnr_subset_db": evaluation.prediction_metrics(subset, pred[:n])["psnr_global_db"]}


def noisy_copy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """An RGB image in [0, 1] with seeded Gaussian noise of ``sigma`` added, clipped to [0, 1].

    Example:
        >>> noisy_copy(np.full((2, 2, 3), 0.5, np.float32), 0.1).shape
        (2, 2, 3)
    """
    x = unit_float(image)
    noise = np.random.default_rng(seed).normal(0.0, sigma, x.shape).astype(np.float32)
    return np.clip(x + noise, 0.0, 1.0)


def denoiser_rows(configs: dict) -> list[dict]:
    """One table row per denoising run: label, noise level, filters, pooling, parameters, epochs.

    Args:
        configs: ``{sigma: {label: RunConfig}}`` (:func:`cae_lib.experiments.denoisers`).
    """
    from cae_lib.models import architecture_row

    return [{"model": label, "sigma": sigma, "epochs": config.max_epochs(), **architecture_row(config.model)}
            for sigma, group in configs.items() for label, config in group.items()]
