"""After `make book`: every page exists with its figures and tables, and glued numbers agree with the runs.

Usage: python .ci/check_book.py [book/_build]

1. Every chapter page exists, shows figures and tables, renders no figure as text and no traceback.
2. No page names a location on the machine that built it (the repository, the data or the cache):
   the book describes its data and cache, it does not locate them.
3. At least one glued number per chapter equals what the run cache holds for the run it came
   from (the run's metrics.json, read through its manifest): a number in the prose is the run's.
"""

import json
import math
import os
import re
import sys
from pathlib import Path

build = Path(sys.argv[1] if len(sys.argv) > 1 else "book/_build")
html = build / "html"
pages = sorted(p.stem for p in Path("book").glob("*.ipynb"))
problems = []
for name in pages:
    page = html / f"{name}.html"
    if not page.is_file():
        problems.append(f"{page} is missing")
        continue
    text = page.read_text()
    images = len(re.findall(r"<img\b", text))
    tables = len(re.findall(r"<table\b", text))
    if "&lt;Figure size" in text:
        problems.append(f"{page}: a figure was rendered as text (no inline backend)")
    if name[:2].isdigit() and (images < 2 or tables < 2):
        problems.append(f"{page}: only {images} images and {tables} tables")
    if "Traceback" in text:
        problems.append(f"{page}: contains a traceback")
    print(f"{name}: {images} images, {tables} tables")

# 2. no machine-specific locations in any page
places = {str(Path.cwd().resolve())}
for var in ("CAE_DATA", "CAE_CACHE"):
    value = os.environ.get(var, "").strip()
    if value:
        places |= {value, str(Path(value).resolve())}
for page in sorted(html.glob("*.html")):
    text = page.read_text()
    for place in sorted(places):
        if place in text:
            problems.append(f"{page}: names the build machine's location {place!r}; describe it instead")


def _code(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def executed_copy(notebook: str) -> dict | None:
    """The chapter as the build executed it: the execution cache's copy with the same code."""
    source = _code(json.loads(Path(f"book/{notebook}.ipynb").read_text()))
    for path in (build / ".jupyter_cache" / "executed").glob("*/base.ipynb"):
        nb = json.loads(path.read_text())
        if _code(nb) == source:
            return nb
    return None


def glued(nb: dict) -> dict:
    """The values a chapter glued (myst-nb keeps them in the outputs' "scrapbook" metadata)."""
    out = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if scrap:
                out[scrap["name"]] = output["data"][scrap["mime_prefix"] + "text/plain"]
    return out


# chapter -> (glued key, run name, metric in metrics.json "test")
AGREEMENT = {
    "01_given_architecture": ("mse", "given_mse", "mse"),
    "02_improving": ("c1024_psnr", "compressor_1024", "psnr_global_db"),
    "03_colorization": ("model_psnr", "colorize", "psnr_global_db"),
    "04_restoration": ("s1_rednet", "denoise_rednet_0.1", "psnr_global_db"),
    "05_compression_in_bits": ("codec_run_psnr", "rd_q3", "psnr_global_db"),
    "06_what_the_latent_knows": ("given_psnr", "given_mse", "psnr_global_db"),
}

from cae_lib import cache, experiments  # noqa: E402  (the checks above need no TensorFlow)
from cae_lib.data import load_data  # noqa: E402
from cae_lib.training import ARTIFACTS, locate  # noqa: E402

data = load_data()
for chapter, (key, run_name, metric) in AGREEMENT.items():
    nb = executed_copy(chapter)
    if nb is None:
        problems.append(f"no executed copy of {chapter} in {build / '.jupyter_cache'}")
        continue
    values = glued(nb)
    if key not in values:
        problems.append(f"{chapter} glues no {key!r}")
        continue
    config = experiments.experiment(run_name)
    _, key_hash, folder = locate(config, data)
    cache.verify(folder, ARTIFACTS, key=key_hash)
    stored = json.loads((folder / "metrics.json").read_text())["test"][metric]
    shown = float(values[key])
    if not math.isclose(shown, stored, rel_tol=1e-5, abs_tol=1e-9):
        problems.append(f"{chapter}: glued {key} = {shown} but run {run_name} stored {metric} = {stored}")
    else:
        print(f"{chapter}: glued {key} = {shown:.6g} agrees with run {run_name} ({folder.name})")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
