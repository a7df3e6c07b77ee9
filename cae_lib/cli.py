"""Command line: ``cae`` (or ``python -m cae_lib``).

Examples::

    cae list
    cae data --source ../shared/data/cifar10-jpeg.zip
    CAE_DATA=../shared/data/cifar10-jpeg.zip cae train given_bce --profile smoke
    cae train --all                      # fill the cache for the whole book
    cae tune latent_search --kind hyperband --budget 1024
    cae colorize photo.jpg old/*.png -o colorized/    # with the book's colour-class run
    cae compress photo.png -o small/     # small/photo.cae, with the book's learned codec
    cae decompress small/*.cae -o back/  # back/photo.png, exactly what the encoder reconstructed
    cae runs export book-runs.zip        # every finished run, search and cached result
    cae runs import book-runs.zip        # checked against this data and code first
    cae runs import https://.../book-runs-full.zip --sha256 HASH   # downloaded, its hash checked, then the same
    cae runs status                      # which of the book's runs the cache holds

Every error is one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

__all__ = [
    "PROFILE_CHOICES",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "read_image",
    "write_new_file",
    "main",
]

PROFILE_CHOICES = ("full", "smoke")


def _cmd_list(args) -> int:
    from cae_lib import experiments

    for name in experiments.names():
        print(f"{name:16s} {experiments.describe(name)}")
    for name in experiments.SEARCHES:
        print(f"{name:16s} keras-tuner search ({experiments.search_settings(name)})")
    return 0


def _cmd_data(args) -> int:
    from cae_lib.data import describe_source, load_data, split_indices

    t0 = time.perf_counter()
    data = load_data(args.source)
    seconds = time.perf_counter() - t0
    split = split_indices(data.labels)
    print(f"source:      {describe_source(data)}")
    print(f"images:      {data.images.shape} {data.images.dtype}, loaded in {seconds:.1f} s")
    print(f"fingerprint: {data.fingerprint}")
    print(f"split:       train {len(split.train)}, validation {len(split.val)}, test {len(split.test)}")
    return 0


def _train_one(name: str, args, data) -> None:
    from cae_lib import experiments
    from cae_lib.training import run

    overrides = {k: v for k, v in (("epochs", args.epochs), ("learning_rate", args.learning_rate)) if v is not None}
    config = experiments.experiment(name, profile=args.profile, **overrides)
    t0 = time.perf_counter()
    result = run(config, data=data, cache_dir=args.cache, retrain=args.retrain or None, verbose=args.verbose)
    seconds = time.perf_counter() - t0
    status = "trained" if result.trained else "loaded from cache"
    print(f"run:        {config.name} ({config.profile} profile, {result.epochs_run} epochs)")
    print(f"cache:      {result.path}")
    print(f"status:     {status} in {seconds:.1f} s (training wall time {result.train_seconds:.1f} s)")
    if not args.all:
        print("test metrics:")
        print(json.dumps(result.test_metrics, indent=2, sort_keys=True))
    else:
        print(f"test PSNR:  {result.test_metrics.get('psnr_global_db', float('nan')):.2f} dB (global)")


def _cmd_train(args) -> int:
    from cae_lib import experiments
    from cae_lib.data import load_data

    if args.all == bool(args.names):
        raise ValueError("name the runs to train, or pass --all for every run of the book (see `cae list`)")
    names = experiments.names() if args.all else args.names
    for name in names:
        experiments.describe(name)  # an unknown name fails before anything trains
    data = load_data(args.source)
    for name in names:
        _train_one(name, args, data)
    if args.all:
        for name in experiments.SEARCHES:
            _tune(name, args, data)
    return 0


def _tune(name: str, args, data, **overrides) -> None:
    from cae_lib import experiments, tuning
    from cae_lib.training import run

    settings = experiments.search_settings(name) if name in experiments.SEARCHES else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    result = tuning.search(name, profile=args.profile, data=data, cache_dir=args.cache, **settings)
    print(f"search:     {result.name} ({result.kind}, {result.role}), {len(result.trials)} trials, folder {result.path}")
    for t in result.trials if overrides.get("verbose") else ():
        score = "-" if t["val_mse"] is None else f"{t['val_mse']:.5f}"
        print(f"  trial {t['trial_id']:>4} {t['status']:9s} latent {t['latent_size']:5d} "
              f"params {t['params']:7d} val_mse {score}")
    if result.best is not None and result.role != "worker":
        if args.all or getattr(args, "train_best", False):
            best = run(result.best, data=data, cache_dir=args.cache, verbose=args.verbose)
            print(f"best run:   {best.config.name}, test PSNR {best.test_metrics['psnr_global_db']:.2f} dB")
        else:
            print("best configuration:")
            print(json.dumps(result.best.to_dict(), indent=2, sort_keys=True))


def _cmd_tune(args) -> int:
    from cae_lib.data import load_data

    budget = None if args.no_budget else args.budget
    _tune(
        args.name, args, load_data(args.source), kind=args.kind, latent_budget=budget,
        max_trials=args.max_trials, max_epochs=args.max_epochs, overwrite=args.overwrite or None,
        seed=args.seed, verbose=args.verbose,
    )
    return 0


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: The most pixels an input image may have (``--max-pixels`` raises it): 50 megapixels, a large camera's photo.
#: It is checked from the file's header, before anything is decoded.
MAX_IMAGE_PIXELS = 50_000_000


def _header(path) -> tuple[int | None, str, int]:
    """``(pixels, size as text, frames)`` from an image file's header (Pillow reads no pixels); ``None`` pixels
    for a format Pillow does not know (OpenCV then decides)."""
    import re
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's decompression-bomb warning: the caller applies its own limit
            with Image.open(path) as im:
                (w, h), frames = im.size, int(getattr(im, "n_frames", 1))
                return w * h, f"{w}x{h}", frames
    except Image.DecompressionBombError as exc:  # far beyond Pillow's own limit: its message has the count
        found = re.findall(r"\d+", str(exc))
        return (int(found[0]), f"{int(found[0]):,}-pixel", 1) if found else (None, "", 1)
    except Exception:
        return None, "", 1


def read_image(path: str, max_pixels: int = MAX_IMAGE_PIXELS):
    """An image file as RGB (or grey) floats in [0, 1], as a viewer shows it; ``ValueError`` with one line for a bad file.

    Colour (BGR or BGRA: the alpha channel is dropped) is returned as RGB,
    greyscale as ``(H, W)``; 16-bit images are scaled by 65535. An EXIF
    orientation (a phone's portrait photograph) is applied, as every viewer
    applies it. A file of several frames (an animated GIF, a multi-page TIFF)
    is refused: which frame was meant is the user's choice, not ours.
    """
    from pathlib import Path

    import cv2
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise ValueError(f"{path}: no such file")
    if not p.is_file():
        raise ValueError(f"{path}: not a file")
    if p.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes)")
    pixels, size, frames = _header(p)
    if pixels is not None:  # refused before any pixel is decoded
        _check_image(path, pixels, size, frames, max_pixels)
    raw = np.fromfile(str(p), dtype=np.uint8)
    # IMREAD_UNCHANGED would ignore the EXIF orientation; any depth and any colour keep 16 bits and grey
    try:
        image = cv2.imdecode(raw, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    except cv2.error as exc:
        reason = (str(exc).strip().splitlines() or ["?"])[-1]
        raise ValueError(f"{path}: OpenCV cannot decode it ({reason})") from None
    if image is None or image.size == 0:
        raise ValueError(f"{path}: not an image OpenCV can read (PNG, JPEG, BMP, TIFF, WebP)")
    if pixels is None:  # a format Pillow does not know: the same checks on what OpenCV decoded
        h, w = image.shape[:2]
        _check_image(path, h * w, f"{w}x{h}", _frame_count(raw), max_pixels)
    scale = 65535.0 if image.dtype == np.uint16 else 255.0 if image.dtype == np.uint8 else None
    if scale is None:
        raise ValueError(f"{path}: unsupported pixel type {image.dtype}; save it as 8- or 16-bit")
    image = image.astype(np.float32) / scale
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if image.ndim == 3 and image.shape[-1] == 3:
        return image[..., ::-1].copy()
    if image.ndim == 3 and image.shape[-1] == 1:
        return image[..., 0]
    return image


def _check_image(path, pixels: int, size: str, frames: int, max_pixels: int) -> None:
    """Refuse an image of more than ``max_pixels`` pixels, or a file of several frames, in one line."""
    if pixels > max_pixels:
        raise ValueError(f"{path}: the image is {size} pixels, more than the limit of {max_pixels:,}; "
                         "pass --max-pixels to raise it")
    if frames > 1:
        raise ValueError(f"{path}: the file holds {frames} frames (an animation or a multi-page image); "
                         "save the one you mean as an image of its own")


def _frame_count(raw) -> int:
    """Frames (pages) OpenCV finds in an encoded image; 1 where it cannot count them."""
    import cv2

    try:
        ok, frames = cv2.imdecodemulti(raw, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    except cv2.error:
        return 1
    return len(frames) if ok and frames else 1


def _output_paths(inputs: list[str], out: str, force: bool, *, suffix: str, single: tuple[str, ...]) -> list:
    """One output per input, checked before anything is loaded: ``<out>/<stem><suffix>``, or ``out`` itself
    when there is one input and ``out`` ends in one of ``single``.

    Raises:
        ValueError: ``out`` is a file where a folder is needed, two inputs would share an output, an output
            is an input, or an output exists (a symlink included) without ``force``.
    """
    from pathlib import Path

    out_path = Path(out)
    single_file = len(inputs) == 1 and out_path.suffix.lower() in single and not out_path.is_dir()
    if not single_file and out_path.exists() and not out_path.is_dir():
        raise ValueError(f"{out}: an existing file, not a folder; give -o a folder (or, for one input, a "
                         f"{'/'.join(single)} name)")
    targets = [out_path] if single_file else [out_path / f"{Path(i).stem}{suffix}" for i in inputs]
    if len({t.resolve() for t in targets}) != len(targets):
        raise ValueError("two inputs share a name and would write the same output; give them separate -o folders")
    sources = {Path(i).resolve() for i in inputs}
    for target in targets:
        if target.resolve() in sources:
            raise ValueError(f"{target}: refusing to overwrite an input (choose another -o)")
        if os.path.lexists(target) and not force:
            raise ValueError(f"{target} exists; pass --force to overwrite it")
    return targets


def _cmd_runs(args) -> int:
    from cae_lib import archive

    if args.action == "status":
        return _runs_status(args)
    if args.file is None:
        raise ValueError(f"`cae runs {args.action}` needs the archive: cae runs {args.action} FILE")
    if args.action == "export":
        from pathlib import Path

        from cae_lib.cache import sha256

        found = archive.export(args.file, cache_dir=args.cache)
        size = os.path.getsize(args.file) / 2**20
        print(f"wrote {args.file}: {len(found)} entries ({size:.1f} MiB), sha256 {sha256(Path(args.file))}")
        return 0
    path = archive.fetch(args.file, args.sha256, args.cache) if archive.is_url(args.file) else args.file
    report = archive.import_archive(path, cache_dir=args.cache, source=args.source)
    print(f"imported {len(report['imported'])} entries, kept {len(report['kept'])} already finished here"
          + (f", moved {len(report['moved_aside'])} unfinished folders aside" if report["moved_aside"] else ""))
    return 0


def write_new_file(target, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``target`` through a temporary file in its folder, renamed into place.

    A reader never sees a half-written file under the final name; with
    ``force`` an existing name is replaced (a symlink by the new file, never
    the file it points to), without it an existing name is an error.

    Raises:
        ValueError: ``target`` exists (without ``force``), or the folder cannot be written (with the reason).
    """
    from pathlib import Path

    target = Path(target)
    if os.path.lexists(target) and not force:
        raise ValueError(f"{target} exists; pass --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise ValueError(f"{target}: could not be written ({exc.strerror or exc})") from None


def _png_bytes(rgb, target) -> bytes:
    """An RGB float image in [0, 1] as the bytes of a file in ``target``'s format (by its suffix), 8 bits."""
    import cv2
    import numpy as np

    pixels = np.round(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8)
    ok, encoded = cv2.imencode(target.suffix.lower() or ".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"{target}: OpenCV could not encode the image as {target.suffix}")
    return encoded.tobytes()


def _learned_codec(name: str, args):
    from cae_lib import experiments
    from cae_lib.codecs.learned import LearnedCodec
    from cae_lib.data import load_data
    from cae_lib.tasks.compress import RateDistortion
    from cae_lib.training import run

    if name not in experiments.names():
        raise ValueError(f"model {name!r} is not one of this cae_lib's runs; see `cae list`")
    config = experiments.experiment(name, profile=args.profile)
    if not isinstance(config.task, RateDistortion):
        raise ValueError(f"run {name!r} is not a learned codec (task {config.task.name!r}); try {experiments.CODEC!r}")
    result = run(config, data=load_data(args.source), cache_dir=args.cache, verbose=args.verbose)
    return LearnedCodec(result.model, name)


def _cmd_compress(args) -> int:
    import numpy as np

    targets = _output_paths(args.inputs, args.output, args.force, suffix=".cae", single=(".cae",))
    for path in args.inputs:  # every input is checked before a model is loaded or anything is written
        read_image(path, args.max_pixels)
    codec = _learned_codec(args.run, args)
    for path, target in zip(args.inputs, targets):  # one image in memory at a time
        image = read_image(path, args.max_pixels)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        pixels = np.round(image * 255).astype(np.uint8)[None]
        (data,) = codec.encode(pixels)
        write_new_file(target, data, force=args.force)
        h, w = pixels.shape[1:3]
        print(f"{path} -> {target} ({w}x{h}, {len(data)} bytes, {8 * len(data) / (h * w):.3f} bits per pixel)")
    return 0


def _cmd_decompress(args) -> int:
    from cae_lib.codecs import container

    targets = _output_paths(args.inputs, args.output, args.force, suffix=".png", single=(".png",))
    files = []
    for path in args.inputs:
        if not os.path.isfile(path):
            raise ValueError(f"{path}: no such file" if not os.path.lexists(path) else f"{path}: not a file")
        with open(path, "rb") as f:
            data = f.read()
        try:
            files.append((data, container.peek_name(data)))
        except container.FormatError as exc:
            raise ValueError(f"{path}: {exc}") from None
    codecs = {}
    for path, target, (data, name) in zip(args.inputs, targets, files):
        if name not in codecs:
            codecs[name] = _learned_codec(name, args)
        try:
            (rgb,) = codecs[name].decode([data])
        except container.FormatError as exc:
            raise ValueError(f"{path}: {exc}") from None
        write_new_file(target, _png_bytes(rgb, target), force=args.force)
        print(f"{path} -> {target} ({rgb.shape[1]}x{rgb.shape[0]}, model {name})")
    return 0


def _runs_status(args) -> int:
    """How many of the book's runs this cache holds finished for the profile; what to do about the rest."""
    from cae_lib import experiments
    from cae_lib.data import load_data
    from cae_lib.training import cached_summary

    configs = {name: experiments.experiment(name, profile=args.profile) for name in experiments.names()}
    rows = cached_summary(configs, data=load_data(args.source), cache_dir=args.cache)
    missing = [row["run"] for row in rows if row["epochs"] == "not in the cache"]
    profile = next(iter(configs.values())).profile
    print(f"{len(rows) - len(missing)} of the book's {len(rows)} runs are in the cache ({profile} profile)")
    if missing and profile == "full":
        print(f"building the book will first train {len(missing)} runs ({', '.join(missing)}): on two CPU cores "
              "that takes hours. To skip the training, import the published runs: "
              "`cae runs import FILE` (see the README, 'The published runs').")
    return 0


def _cmd_colorize(args) -> int:
    from cae_lib import experiments
    from cae_lib.data import load_data
    from cae_lib.tasks import Colorize, ColourClasses
    from cae_lib.tasks.colorize import at_temperature, colorize_image
    from cae_lib.training import run

    targets = _output_paths(args.inputs, args.output, args.force, suffix="_colorized.png", single=IMAGE_SUFFIXES)
    for path in args.inputs:  # every input is checked before anything is written, one image in memory at a time
        read_image(path, args.max_pixels)
    config = experiments.experiment(args.run, profile=args.profile)
    if not isinstance(config.task, Colorize):
        raise ValueError(f"run {args.run!r} is not a colorization run (task {config.task.name!r})")
    if args.temperature is not None and not isinstance(config.task, ColourClasses):
        raise ValueError(f"--temperature applies to colour-class runs; {args.run!r} is a regression run")
    result = run(config, data=load_data(args.source), cache_dir=args.cache, verbose=args.verbose)
    task = at_temperature(config.task, args.temperature)
    for path, target in zip(args.inputs, targets):
        rgb = colorize_image(result.model, read_image(path, args.max_pixels), task=task, work_size=args.work_size)
        write_new_file(target, _png_bytes(rgb, target), force=args.force)
        print(f"{path} -> {target} ({rgb.shape[1]}x{rgb.shape[0]})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cae", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--profile", choices=PROFILE_CHOICES, help="default: CAE_PROFILE, else full")
        p.add_argument("--source", help="a CIFAR-10 copy (default: CAE_DATA, else Keras' download)")
        p.add_argument("--cache", help="cache folder (default: CAE_CACHE, else ~/.cache/cae_lib/runs)")

    sub.add_parser("list", help="list the book's runs and searches").set_defaults(func=_cmd_list)

    p = sub.add_parser("data", help="load CIFAR-10 and print the split sizes")
    p.add_argument("--source", help="a CIFAR-10 copy (default: CAE_DATA, else Keras' download)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train (or load from the cache) runs and print their test metrics")
    p.add_argument("names", nargs="*", metavar="NAME", help="run names (see `cae list`)")
    p.add_argument("--all", action="store_true", help="every run and search of the book, skipping cached ones")
    common(p)
    p.add_argument("--epochs", type=int, help="override the runs' epochs")
    p.add_argument("--learning-rate", type=float, help="override the runs' learning rate")
    p.add_argument("--retrain", action="store_true", help="train even if a run is cached")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="0 silent, 1 a progress bar per epoch (default), 2 one line per epoch")
    p.set_defaults(func=_cmd_train)

    from cae_lib.models import CAESpec

    given = CAESpec().latent_size
    p = sub.add_parser("tune", help="keras-tuner search under a latent budget (resumes a stored search)")
    p.add_argument("name", help="search name (names its cache folder); `latent_search` is the book's")
    p.add_argument("--kind", help="hyperband (default), random or bayesian")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=int, default=given, help=f"largest latent size (default {given}, the given net's)")
    budget.add_argument("--no-budget", action="store_true", help="no latent-size limit")
    common(p)
    p.add_argument("--max-trials", type=int, help="trial budget (default: the profile's)")
    p.add_argument("--max-epochs", type=int, help="most epochs per trial (default: the profile's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="start the search again")
    p.add_argument("--train-best", action="store_true", help="then train the best architecture like any run")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=_cmd_tune, all=False)

    def files_in_files_out(name: str, help_: str, inputs: str, output: str, func, images_in: bool = True):
        """A command from input files to one output each: IN..., -o, --force, the common options, --verbose,
        and ``--max-pixels`` where the inputs are images."""
        p = sub.add_parser(name, help=help_)
        p.add_argument("inputs", nargs="+", metavar="IN", help=inputs)
        p.add_argument("-o", "--output", required=True, help=output)
        p.add_argument("--force", action="store_true", help="overwrite existing outputs (never an input)")
        if images_in:
            p.add_argument("--max-pixels", type=int, default=MAX_IMAGE_PIXELS,
                           help=f"largest input image, in pixels (default {MAX_IMAGE_PIXELS:,})")
        common(p)
        p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
        p.set_defaults(func=func)
        return p

    p = files_in_files_out("colorize", "colorize image files of any size with a trained colorization run",
                           "image files (colour ones are turned grey first)", "output folder (or file, for one input)",
                           _cmd_colorize)
    p.add_argument("--run", default="colorize_classes", help="colorization run (default colorize_classes)")
    p.add_argument("--temperature", type=float, help="annealed-mean temperature of a colour-class run")
    p.add_argument("--work-size", type=int, default=32, help="shorter side colour is predicted at (default 32)")

    from cae_lib import experiments

    p = files_in_files_out("compress", "compress image files of any size with a learned codec, one .cae file each",
                           "image files (PNG, JPEG, BMP, TIFF, WebP)", "output folder (or a .cae file, for one input)",
                           _cmd_compress)
    p.add_argument("--run", default=experiments.CODEC,
                   help=f"the learned codec (default {experiments.CODEC}; see `cae list` for the others)")
    files_in_files_out("decompress", "decode .cae files to PNG with the model each file names",
                       ".cae files written by `cae compress`", "output folder (or a .png file, for one input)",
                       _cmd_decompress, images_in=False)

    p = sub.add_parser("runs", help="export the run cache to one archive, import one (checked before it lands), "
                                    "or say which of the book's runs the cache holds")
    p.add_argument("action", choices=("export", "import", "status"))
    p.add_argument("file", metavar="FILE", nargs="?",
                   help="the archive (a zip; export never overwrites one); import also takes a URL with --sha256")
    p.add_argument("--sha256", help="import from a URL: the archive's SHA-256, as `cae runs export` printed it")
    p.add_argument("--source", help="import, status: the CIFAR-10 copy the runs belong to (default: CAE_DATA)")
    p.add_argument("--profile", choices=PROFILE_CHOICES, help="status: default CAE_PROFILE, else full")
    p.add_argument("--cache", help="cache folder (default: CAE_CACHE, else ~/.cache/cae_lib/runs)")
    p.set_defaults(func=_cmd_runs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    import signal
    import threading

    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    previous = None
    if threading.current_thread() is threading.main_thread():  # a SIGTERM stops a command like Ctrl-C does
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.func(args)
    except KeyError as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
    except (ValueError, OSError, RuntimeError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt as exc:
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        print(f"interrupted ({signal.Signals(signum).name}): a run resumes from its last completed epoch when "
              "started again; no output was left half-written", file=sys.stderr)
        return 128 + signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 2


def _terminated(signum, frame):
    raise KeyboardInterrupt(signum)


if __name__ == "__main__":
    sys.exit(main())
