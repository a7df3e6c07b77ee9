"""The measurements behind the library's chosen defaults, re-run: colour bins, NLM windows, PCA solvers.

    python bench/bench_defaults.py            # the mirror or CAE_DATA, full-size samples (a few minutes)
    python bench/bench_defaults.py --quick    # small samples: a plumbing check

- **Colour-bin step** (:data:`cae_lib.colorization.DEFAULT_STEP`): 5,000 training
  images (500 per class) keep their L* while their a*b* is replaced by the
  nearest bin centre; the RGB PSNR of the result against the original, per
  step, with the number of bins and of bins in use.
- **Non-local means windows** (:func:`cae_lib.baselines.nl_means`): PSNR on the
  first 300 test images (noise clipped to [0, 1]) for each template x search
  window, at each window's best h of a small grid, at sigma 0.1 and 0.2.
- **PCA solvers** (:func:`cae_lib.codecs.fit_pca`): the time to fit 1,024
  components on the whole training part with each solver, and the test PSNR
  of each at 256 and 1,024 components, the randomized one also as the
  truncation of a 1,024-component fit.

Writes ``bench/results/defaults.json`` and ``defaults.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from bench_training import write_results  # noqa: E402

from cae_lib import baselines, color, colorization, metrics  # noqa: E402
from cae_lib.codecs import fit_pca  # noqa: E402
from cae_lib.data import load_data, split_indices, stratified_subset, to_float  # noqa: E402
from cae_lib.tables import markdown_table  # noqa: E402
from cae_lib.tasks import Denoise, Reconstruct, task_data  # noqa: E402

STEPS = (6, 8, 10, 12, 16)
WINDOWS = ((7, 21), (3, 21), (3, 11), (3, 7))
HS = {0.1: (10, 15, 20), 0.2: (20, 30, 40)}


def colour_bins(data, per_class: int) -> list[dict]:
    split = split_indices(data.labels)
    rgb = data.images[stratified_subset(split.train, data.labels, per_class)]
    lab = color.rgb_to_lab(rgb)
    truth = to_float(rgb)
    rows = []
    for step in STEPS:
        bins = colorization.ab_bins(float(step))
        index = colorization.nearest_bin(lab[..., 1:], bins)
        quantised = np.concatenate([lab[..., :1], bins.centres[index]], axis=-1)
        rebuilt = np.clip(color.lab_to_rgb(quantised), 0, 1)
        rows.append({"step": step, "bins": len(bins), "bins in use": int(np.unique(index).size),
                     "PSNR (dB)": metrics.psnr_global(truth, rebuilt),
                     "mean |Δab|": float(np.mean(np.linalg.norm(lab[..., 1:] - bins.centres[index], axis=-1)))})
    return rows


def nl_means_windows(data, n: int) -> list[dict]:
    rows = []
    for sigma, hs in HS.items():
        d = task_data(Denoise(sigma), data=data)
        noisy, clean = d.x_test[:n], d.y_test[:n]
        for template, search in WINDOWS:
            scores = {h: metrics.psnr_global(clean, baselines.nl_means(noisy, h, template, search)) for h in hs}
            best = max(scores, key=scores.get)
            rows.append({"sigma": sigma, "template x search": f"{template} x {search}", "best h": best,
                         "PSNR (dB)": scores[best]})
    return rows


def pca_solvers(data, k: int) -> list[dict]:
    d = task_data(Reconstruct(), data=data)
    rows = []
    for solver in ("covariance_eigh", "randomized"):
        t0 = time.perf_counter()
        basis = fit_pca(d.x_train, k, solver=solver)
        seconds = time.perf_counter() - t0
        for size in sorted({min(256, k), k}):
            rec = basis.truncate(size).reconstruct(d.x_test)
            rows.append({"solver": solver, "fit (s)": seconds, "components": size,
                         "test PSNR (dB)": metrics.psnr_global(d.x_test, rec)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small samples: a plumbing check")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    data = load_data()
    sizes = dict(per_class=20, n=30, k=64) if args.quick else dict(per_class=500, n=300, k=1024)
    result = {"date": time.strftime("%Y-%m-%d"), "data": data.source, "quick": args.quick, "sizes": sizes,
              "colour_bins": colour_bins(data, sizes["per_class"]), "nl_means": nl_means_windows(data, sizes["n"]),
              "pca": pca_solvers(data, sizes["k"])}
    text = "\n\n".join([
        f"# The measurements behind the defaults ({result['date']}{', quick' if args.quick else ''})",
        f"## Colour-bin step ({sizes['per_class'] * 10} training images)",
        markdown_table(result["colour_bins"], floatfmt={"PSNR (dB)": ".1f", "mean |Δab|": ".1f"}),
        f"## Non-local means windows (first {sizes['n']} test images)",
        markdown_table(result["nl_means"], floatfmt={"PSNR (dB)": ".2f", "sigma": "g"}),
        f"## PCA solvers ({sizes['k']} components, the whole training part)",
        markdown_table(result["pca"], floatfmt={"fit (s)": ".1f", "test PSNR (dB)": ".3f"}),
    ])
    write_results(args.out, "defaults", result, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
