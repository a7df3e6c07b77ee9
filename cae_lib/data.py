"""CIFAR-10 loading, the deterministic stratified split, and scaling to [0, 1].

All 60,000 CIFAR-10 images are pooled (CIFAR-10's own train set first, then its
test set) and re-split with :func:`split_indices`, so every experiment uses the
same 80/10/10 train/validation/test indices on every machine.

Where the data comes from (:func:`load_cifar10`):

- ``source=None``: the path in the environment variable ``CAE_DATA`` if it is
  set, otherwise ``keras.datasets.cifar10.load_data()`` (downloads once, then
  uses Keras' cache). Keras is imported only in that case.
- an image-folder directory or ``.zip``: ``<root>/{train,test}/<class>/*.png|jpg|jpeg``
  (the root folder may have any name, or ``train/`` and ``test/`` may sit at the top);
- an extracted ``cifar-10-batches-py`` folder (``data_batch_1`` ... ``data_batch_5``,
  ``test_batch``);
- the ``cifar-10-python.tar.gz`` archive, read in memory (nothing is extracted).

Images are decoded with OpenCV, so a given file gives the same pixels everywhere.
Importing this module does not import TensorFlow or Keras.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import operator
import os
import pickle
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = [
    "CLASS_NAMES",
    "IMAGE_SHAPE",
    "IMAGE_EXTENSIONS",
    "CifarData",
    "load_cifar10",
    "Split",
    "split_indices",
    "stratified_subset",
    "to_float",
]

CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
"""The ten CIFAR-10 classes; label ``k`` is ``CLASS_NAMES[k]``."""

IMAGE_SHAPE: tuple[int, int, int] = (32, 32, 3)
"""Shape of one CIFAR-10 image (height, width, RGB)."""

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg")
"""File name endings (any case) read as images in an image-folder source."""

_SPLITS = ("train", "test")
_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_BATCHES = _TRAIN_BATCHES + ("test_batch",)
_SOURCE_HELP = (
    "an image-folder directory or .zip (<root>/{train,test}/<class>/*.png|jpg), "
    "a cifar-10-batches-py folder, or cifar-10-python.tar.gz"
)


# --------------------------------------------------------------------------------------
# The dataset container
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class CifarData:
    """The pooled CIFAR-10 images with their labels.

    Unpacks as ``images, labels, class_names, source = data``. The arrays are
    stored as read-only views (``fingerprint`` is computed once and cached, so
    the data must not change underneath it); copy them to modify.

    Attributes:
        images: ``uint8`` array ``(N, 32, 32, 3)``, RGB.
        labels: ``int64`` array ``(N,)`` with values in ``0 .. len(class_names)-1``.
        class_names: the class names, indexed by label.
        source: a short description of where the data came from.

    Raises:
        ValueError: if the arrays have the wrong dtype or shape, their lengths
            differ, or a label is out of range.

    Example:
        >>> import numpy as np
        >>> images = np.zeros((2, 32, 32, 3), np.uint8)
        >>> d = CifarData(images, np.array([0, 9]), CLASS_NAMES, "zeros")
        >>> images, labels, class_names, source = d
        >>> images.shape, labels.dtype.name, len(d.fingerprint)
        ((2, 32, 32, 3), 'int64', 16)
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES
    source: str = ""

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"CifarData.images must be a uint8 array of shape (N, 32, 32, 3), "
                f"got {images.dtype} {images.shape}"
            )
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"CifarData.labels must be a 1-D integer array, got {labels.dtype} {labels.shape}"
            )
        if len(labels) != len(images):
            raise ValueError(
                f"CifarData has {len(images)} images but {len(labels)} labels; they must match"
            )
        class_names = tuple(str(name) for name in self.class_names)
        if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise ValueError(
                f"CifarData.labels must lie in 0..{len(class_names) - 1} "
                f"(one per class name), got {labels.min()}..{labels.max()}"
            )
        images = images.view()
        images.flags.writeable = False
        labels = labels.astype(np.int64, copy=True)
        labels.flags.writeable = False
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", class_names)
        object.__setattr__(self, "source", str(self.source))

    def __iter__(self) -> Iterator:
        """Yield ``images, labels, class_names, source`` (for tuple unpacking)."""
        return iter((self.images, self.labels, self.class_names, self.source))

    def __repr__(self) -> str:
        return (
            f"CifarData(images=uint8{self.images.shape}, labels=int64({len(self.labels)},), "
            f"classes={len(self.class_names)}, source={self.source!r})"
        )

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short, stable hex digest of the images and labels (16 hex digits).

        It is ``blake2b(b"cae_lib.CifarData/1" + repr(images.shape) + image bytes
        + labels as little-endian int64, digest_size=8)``, so it depends only on
        the pixel values, their order and the labels, not on the machine or the
        source's format. Computed on first access (about a second for 60,000
        images) and cached.
        """
        digest = hashlib.blake2b(digest_size=8)
        digest.update(b"cae_lib.CifarData/1")
        digest.update(repr(tuple(self.images.shape)).encode("ascii"))
        digest.update(np.ascontiguousarray(self.images).data)
        digest.update(self.labels.astype("<i8").tobytes())
        return digest.hexdigest()


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def load_cifar10(source: str | os.PathLike | None = None) -> CifarData:
    """Load all 60,000 CIFAR-10 images, CIFAR-10's train set first, then its test set.

    Within each part the images follow class order (``CLASS_NAMES``), and within a
    class the file names in sorted order (image folders) or the batch order
    (``cifar-10-batches-py``: ``data_batch_1`` ... ``data_batch_5``, then ``test_batch``).

    Image folders: files whose name (or a folder on their path) starts with ``.``,
    the ``__MACOSX`` folder of macOS zips, and non-image files next to ``train/``
    and ``test/`` are ignored; anything else that does not fit the layout is an
    error, never skipped. Each image must decode to 32x32 pixels.

    Pickled batches (``cifar-10-batches-py``, ``.tar.gz``) are unpickled, and
    unpickling can run arbitrary code: only load files you trust (e.g. the
    official archive, md5 ``c58f30108f718f92721af3b95e74349a``).

    Args:
        source: path of an image-folder directory or ``.zip``, a ``cifar-10-batches-py``
            folder (or a folder containing it) or a ``cifar-10-python.tar.gz`` archive.
            ``None`` uses the environment variable ``CAE_DATA`` if set, otherwise
            ``keras.datasets.cifar10.load_data()``.

    Returns:
        A :class:`CifarData` (uint8 RGB images ``(N, 32, 32, 3)``, int64 labels,
        ``CLASS_NAMES`` and a description of the source).

    Raises:
        FileNotFoundError: the path (or a required batch file) does not exist.
        ValueError: the source has the wrong layout, an unknown, missing or empty
            class folder, a file that is not a 32x32 image, or is a corrupt archive.
        RuntimeError: ``source`` and ``CAE_DATA`` are unset and Keras cannot
            download CIFAR-10 (e.g. offline); the message says how to use a local copy.

    Example:
        >>> data = load_cifar10("../shared/data/cifar10-jpeg.zip")  # doctest: +SKIP
        >>> data.images.shape, data.labels[:3]  # doctest: +SKIP
        ((60000, 32, 32, 3), array([0, 0, 0]))
        >>> data.source  # doctest: +SKIP
        'image-folder zip ../shared/data/cifar10-jpeg.zip (train 50000 + test 10000)'
    """
    if source is None:
        env = os.environ.get("CAE_DATA", "").strip()
        if env:
            return _load_path(Path(env).expanduser(), via="CAE_DATA")
        try:
            (x_train, y_train), (x_test, y_test) = _keras_load()
        except Exception as exc:
            raise RuntimeError(
                "Could not get CIFAR-10 through keras.datasets.cifar10.load_data() "
                f"({type(exc).__name__}: {exc}). If this machine is offline, set "
                "CAE_DATA=/path/to/a/local/copy (or pass source=...): "
                f"{_SOURCE_HELP}."
            ) from exc
        return _pooled(
            _channels_last(np.asarray(x_train)),
            np.asarray(y_train).reshape(-1),
            _channels_last(np.asarray(x_test)),
            np.asarray(y_test).reshape(-1),
            "keras.datasets.cifar10",
        )
    return _load_path(Path(source).expanduser())


def _keras_load():
    """Return ``keras.datasets.cifar10.load_data()`` (imports Keras only here)."""
    import keras

    return keras.datasets.cifar10.load_data()


def _channels_last(x: np.ndarray) -> np.ndarray:
    if x.ndim == 4 and x.shape[1:] == (3, 32, 32):
        return x.transpose(0, 2, 3, 1)
    return x


def _pooled(x_train, y_train, x_test, y_test, what: str) -> CifarData:
    images = np.concatenate([x_train, x_test])
    labels = np.concatenate([np.asarray(y_train), np.asarray(y_test)]).astype(np.int64)
    source = f"{what} (train {len(x_train)} + test {len(x_test)})"
    return CifarData(np.ascontiguousarray(images), labels, CLASS_NAMES, source)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _load_path(path: Path, via: str | None = None) -> CifarData:
    origin = f" (from {via})" if via else ""
    if not path.exists():
        raise FileNotFoundError(
            f"CIFAR-10 source not found: {path}{origin}. Point source= or CAE_DATA at "
            f"{_SOURCE_HELP}."
        )
    if path.is_dir():
        if (path / "data_batch_1").exists() or (path / "test_batch").exists():
            return _load_batches_dir(path)
        if (path / "cifar-10-batches-py").is_dir():
            return _load_batches_dir(path / "cifar-10-batches-py")
        return _load_image_dir(path)
    name = path.name.lower()
    if name.endswith(".zip"):
        return _load_image_zip(path)
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return _load_batches_tar(path)
    raise ValueError(
        f"Unsupported CIFAR-10 source {path}{origin}: expected {_SOURCE_HELP} "
        "(a file must end in .zip, .tar.gz, .tgz or .tar)."
    )


# ----- image folders ------------------------------------------------------------------


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _image_layout(
    files: Sequence[str], dirs: Sequence[str], where: str
) -> dict[str, list[list[str]]]:
    """Check an image-folder layout; return ``{split: [sorted files of class k]}``.

    ``files`` and ``dirs`` are '/'-separated paths relative to the source.
    """

    def ignored(p: str) -> bool:
        parts = p.split("/")
        return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts)

    files = [p for p in files if not ignored(p)]
    dirs = [p for p in dirs if not ignored(p)]
    entries = [(p, False) for p in files] + [(p, True) for p in dirs]
    # directories implied by file paths (zips need not list them)
    implied = {str(PurePosixPath(p).parent) for p in files} - {"."}
    for d in sorted(implied):
        while d not in (".", ""):
            entries.append((d, True))
            d = str(PurePosixPath(d).parent)

    layout_help = (
        f"expected <root>/train/<class>/*.png|jpg and <root>/test/<class>/*.png|jpg "
        f"with the ten classes {', '.join(CLASS_NAMES)}"
    )
    tops = {p.split("/")[0] for p, _ in entries}
    if tops & set(_SPLITS):
        prefix = ""
    else:
        roots = sorted(
            {
                p.split("/")[0]
                for p, is_dir in entries
                if is_dir and p.count("/") == 1 and p.split("/")[1] in _SPLITS
            }
        )
        if len(roots) > 1:
            raise ValueError(
                f"{where}: several folders hold train/ or test/ ({', '.join(roots)}); "
                "keep exactly one dataset root."
            )
        if not roots:
            raise ValueError(
                f"{where}: wrong layout, no train/ or test/ folder found; {layout_help}."
            )
        prefix = roots[0] + "/"

    found: dict[str, dict[str, list[str]]] = {s: {} for s in _SPLITS}
    for p, is_dir in sorted(set(entries)):
        if not p.startswith(prefix):
            if "/" not in p and not is_dir and not _is_image_name(p):
                continue  # README, LICENSE, ... next to the dataset root
            if prefix and p == prefix[:-1]:
                continue
            raise ValueError(
                f"{where}: unexpected entry {p!r} outside the dataset root {prefix[:-1]!r}; "
                f"{layout_help}. Remove it."
            )
        parts = p[len(prefix):].split("/")
        if len(parts) == 1 and parts[0] not in _SPLITS:
            if not is_dir and not _is_image_name(parts[0]):
                continue  # README, LICENSE, ... next to train/ and test/
            raise ValueError(
                f"{where}: unexpected {'folder' if is_dir else 'image'} {p!r} next to train/ "
                f"and test/; {layout_help}. Remove it."
            )
        split = parts[0]
        if split not in _SPLITS:
            raise ValueError(
                f"{where}: unexpected entry {p!r}; only train/ and test/ may hold images; "
                f"{layout_help}."
            )
        if len(parts) == 1:
            continue
        if len(parts) == 2 and not is_dir:
            raise ValueError(
                f"{where}: file {p!r} lies directly in {split}/; images belong in "
                f"{split}/<class>/. Move or remove it."
            )
        cls = parts[1]
        if cls not in CLASS_NAMES:
            raise ValueError(
                f"{where}: unknown class folder {prefix + split + '/' + cls!r}; class folders "
                f"must be exactly the ten CIFAR-10 names {', '.join(CLASS_NAMES)}. "
                "Rename or remove it."
            )
        bucket = found[split].setdefault(cls, [])
        if len(parts) == 2:
            continue
        if len(parts) > 3 or is_dir:
            raise ValueError(
                f"{where}: nested folder in {p!r}; a class folder may hold only image "
                "files. Move its images up or remove it."
            )
        if not _is_image_name(parts[2]):
            raise ValueError(
                f"{where}: {p!r} is not an image file (class folders may hold only "
                f"{', '.join(IMAGE_EXTENSIONS)} files). Convert or remove it."
            )
        bucket.append(p)

    result: dict[str, list[list[str]]] = {}
    for split in _SPLITS:
        if not found[split] and not any(
            p == prefix + split for p, is_dir in entries if is_dir
        ):
            raise ValueError(f"{where}: wrong layout, no {prefix}{split}/ folder; {layout_help}.")
        missing = [c for c in CLASS_NAMES if c not in found[split]]
        if missing:
            raise ValueError(
                f"{where}: {prefix}{split}/ lacks the class folder(s) {', '.join(missing)}; "
                f"{layout_help}."
            )
        empty = [c for c in CLASS_NAMES if not found[split][c]]
        if empty:
            raise ValueError(
                f"{where}: class folder(s) {', '.join(prefix + split + '/' + c for c in empty)} "
                "are empty; every class needs its images. Restore them or use a complete copy."
            )
        result[split] = [sorted(found[split][c]) for c in CLASS_NAMES]
    return result


def _decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode one image file to uint8 RGB ``(32, 32, 3)`` with OpenCV."""
    import cv2

    buf = np.frombuffer(data, np.uint8)
    try:
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    except cv2.error:
        bgr = None
    if bgr is None:
        raise ValueError(
            f"{name}: cannot be decoded as an image (corrupt, or not really "
            f"{PurePosixPath(name).suffix or 'an image'}). Replace or remove the file."
        )
    if bgr.shape != IMAGE_SHAPE:
        raise ValueError(
            f"{name}: image is {bgr.shape[1]}x{bgr.shape[0]} pixels, CIFAR-10 images are "
            "32x32. Resize it to 32x32 or remove it."
        )
    return bgr[:, :, ::-1]


def _read_images(
    layout: dict[str, list[list[str]]], read: Callable[[str], bytes], where: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Decode every listed file; return per-split image and label arrays."""
    images, labels = [], []
    for split in _SPLITS:
        per_class = layout[split]
        n = sum(len(names) for names in per_class)
        out = np.empty((n,) + IMAGE_SHAPE, np.uint8)
        lab = np.empty(n, np.int64)
        i = 0
        for label, names in enumerate(per_class):
            for name in names:
                out[i] = _decode_image(read(name), f"{where}: {name}")
                lab[i] = label
                i += 1
        images.append(out)
        labels.append(lab)
    return images, labels


def _load_image_dir(root: Path) -> CifarData:
    files, dirs = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        dirs.extend((rel / d).as_posix() for d in dirnames)
        files.extend((rel / f).as_posix() for f in filenames)
    layout = _image_layout(files, dirs, str(root))
    (x_train, x_test), (y_train, y_test) = _read_images(
        layout, lambda name: (root / name).read_bytes(), str(root)
    )
    return _pooled(x_train, y_train, x_test, y_test, f"image folder {root}")


def _corrupt_zip(path: Path, exc: BaseException, member: str | None = None) -> ValueError:
    what = f"cannot read member {member!r}" if member else "not a readable zip file"
    return ValueError(
        f"{path}: corrupt or truncated zip ({what}: {type(exc).__name__}: {_one_line(exc)}). "
        "Re-create or re-download the archive."
    )


def _load_image_zip(path: Path) -> CifarData:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _corrupt_zip(path, exc) from exc
    with archive:
        infos = {}
        files, dirs = [], []
        for info in archive.infolist():
            name = info.filename
            if info.is_dir():
                dirs.append(name.rstrip("/"))
                continue
            if name in infos:
                raise ValueError(f"{path}: the zip holds {name!r} twice; re-create the archive.")
            if name.startswith("/") or ".." in name.split("/"):
                raise ValueError(f"{path}: unsafe member name {name!r}; re-create the archive.")
            infos[name] = info
            files.append(name)
        layout = _image_layout(files, dirs, str(path))

        def read(name: str) -> bytes:
            try:
                return archive.read(infos[name])
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError,
                    NotImplementedError, RuntimeError) as exc:
                raise _corrupt_zip(path, exc, name) from exc

        (x_train, x_test), (y_train, y_test) = _read_images(layout, read, str(path))
    return _pooled(x_train, y_train, x_test, y_test, f"image-folder zip {path}")


# ----- pickled batches ----------------------------------------------------------------


def _parse_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one CIFAR-10 batch (trusted input only); return RGB images and labels."""
    try:
        batch = pickle.loads(raw, encoding="bytes")
    except Exception as exc:
        raise ValueError(
            f"{where}: not a readable CIFAR-10 batch ({type(exc).__name__}: {_one_line(exc)}). "
            "Re-download cifar-10-python.tar.gz."
        ) from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{where}: expected a pickled dict, got {type(batch).__name__}.")

    def field(key: str):
        for k in (key.encode(), key):
            if k in batch:
                return batch[k]
        raise ValueError(f"{where}: the batch has no {key!r} entry; is this a CIFAR-10 batch?")

    data = np.asarray(field("data"))
    labels = np.asarray(field("labels"))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"{where}: 'data' must be uint8 (N, 3072) rows, got {data.dtype} {data.shape}."
        )
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{where}: 'labels' must be {len(data)} integers, got {labels.dtype} {labels.shape}."
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASS_NAMES)):
        raise ValueError(f"{where}: labels must lie in 0..9, got {labels.min()}..{labels.max()}.")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels.astype(np.int64)


def _pooled_batches(raw: dict[str, bytes], where: str, what: str) -> CifarData:
    parts = [_parse_batch(raw[name], f"{where}: {name}") for name in _BATCHES]
    x_train = np.concatenate([x for x, _ in parts[:5]])
    y_train = np.concatenate([y for _, y in parts[:5]])
    x_test, y_test = parts[5]
    return _pooled(x_train, y_train, x_test, y_test, what)


def _load_batches_dir(folder: Path) -> CifarData:
    raw = {}
    for name in _BATCHES:
        f = folder / name
        if not f.is_file():
            raise FileNotFoundError(
                f"{f} is missing; a cifar-10-batches-py folder needs "
                f"{', '.join(_BATCHES)}. Re-extract cifar-10-python.tar.gz."
            )
        raw[name] = f.read_bytes()
    return _pooled_batches(raw, str(folder), f"cifar-10-batches-py folder {folder}")


def _load_batches_tar(path: Path) -> CifarData:
    """Read the batches straight from the archive's members (nothing is written)."""
    raw: dict[str, bytes] = {}
    try:
        mode = "r:" if path.name.lower().endswith(".tar") else "r:gz"
        with tarfile.open(path, mode) as archive:
            for member in archive:
                name = member.name
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if name.startswith("/") or ".." in parts:
                    raise ValueError(
                        f"{path}: unsafe member name {name!r} (absolute or with '..'); "
                        "refusing the archive. Use the official cifar-10-python.tar.gz."
                    )
                if not parts or parts[-1] not in _BATCHES or len(parts) > 2:
                    continue
                if not member.isfile():
                    raise ValueError(f"{path}: member {name!r} is not a regular file.")
                if parts[-1] in raw:
                    raise ValueError(f"{path}: the archive holds {parts[-1]} twice.")
                raw[parts[-1]] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated archive ({type(exc).__name__}: {_one_line(exc)}). "
            "Re-download cifar-10-python.tar.gz (md5 c58f30108f718f92721af3b95e74349a)."
        ) from exc
    missing = [n for n in _BATCHES if n not in raw]
    if missing:
        raise ValueError(
            f"{path}: the archive lacks {', '.join(missing)}; expected "
            "cifar-10-batches-py/{data_batch_1..5,test_batch} as in cifar-10-python.tar.gz."
        )
    return _pooled_batches(raw, str(path), f"cifar-10-python archive {path}")


# --------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Split:
    """Train / validation / test index arrays (int64, sorted ascending, disjoint).

    Unpacks as ``train, val, test = split``.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.train, self.val, self.test))


def _order_key(seed: int, index: int) -> bytes:
    """The sort key of sample ``index``: ``blake2b(f"{seed}:{index}", digest_size=8)``."""
    return hashlib.blake2b(f"{seed}:{index}".encode("ascii"), digest_size=8).digest()


def _hash_order(indices: np.ndarray, seed: int) -> list[int]:
    """``indices`` sorted by ``(_order_key(seed, i), i)``: a shuffle that needs no RNG."""
    return sorted((int(i) for i in indices), key=lambda i: (_order_key(seed, i), i))


def _check_labels(labels) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.bool_):
        raise ValueError(
            f"labels must be a 1-D array of integer class labels, got {arr.dtype} {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError("labels is empty; pass one integer label per sample")
    return arr


def _check_seed(seed) -> int:
    try:
        return operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be an integer, got {seed!r}") from None


def _check_fractions(fractions) -> tuple[Fraction, Fraction, Fraction]:
    bad = ValueError(
        "fractions must be three positive numbers (train, val, test) that sum to 1, "
        f"e.g. (0.8, 0.1, 0.1); got {fractions!r}"
    )
    try:
        values = tuple(fractions)
    except TypeError:
        raise bad from None
    if len(values) != 3 or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    ):
        raise bad
    floats = [float(v) for v in values]
    if not all(math.isfinite(v) and v > 0 for v in floats) or abs(math.fsum(floats) - 1) > 1e-9:
        raise ValueError(f"{bad} (sum {math.fsum(floats)!r})")
    return tuple(Fraction(v).limit_denominator(10**9) for v in floats)


def _part_sizes(n: int, fractions: Sequence[Fraction]) -> list[int]:
    """Split ``n`` by ``fractions`` with largest-remainder rounding (sums to ``n``).

    Ties in the remainder go to the earlier part (train, then val, then test).
    """
    quotas = [n * f for f in fractions]
    sizes = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda k: (-(quotas[k] - sizes[k]), k))
    for j in range(n - sum(sizes)):
        sizes[by_remainder[j % len(sizes)]] += 1
    return sizes


def split_indices(labels, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Deterministic stratified split of ``range(len(labels))`` into train/val/test.

    Each class is ordered by the hash ``blake2b(f"{seed}:{index}", digest_size=8)``
    of its sample indices (ties by index), then cut into parts of
    ``len(class) * fraction`` samples, rounded by largest remainder so the parts
    add up exactly (ties go to train, then val). The fractions are read as the
    nearest rationals with denominator at most 10**9, so 0.8/0.1/0.1 cut 6,000
    samples into exactly 4,800/600/600. No random number generator is involved,
    so the indices are the same on every machine, Python and NumPy version.

    Args:
        labels: 1-D integer class labels, one per sample.
        fractions: the (train, val, test) shares: three positive numbers summing
            to 1 (within 1e-9).
        seed: integer; another seed gives another split.

    Returns:
        A :class:`Split` of disjoint int64 index arrays, each sorted ascending,
        that together cover every sample.

    Raises:
        ValueError: bad ``fractions`` or ``labels`` (not 1-D integers, or empty).
        TypeError: ``seed`` is not an integer.

    Example:
        >>> import numpy as np
        >>> s = split_indices(np.repeat(np.arange(2), 10), fractions=(0.6, 0.2, 0.2))
        >>> len(s.train), len(s.val), len(s.test)
        (12, 4, 4)
    """
    labels = _check_labels(labels)
    parts_fractions = _check_fractions(fractions)
    seed = _check_seed(seed)
    parts: list[list[int]] = [[], [], []]
    for cls in np.unique(labels):
        order = _hash_order(np.flatnonzero(labels == cls), seed)
        start = 0
        for k, size in enumerate(_part_sizes(len(order), parts_fractions)):
            parts[k].extend(order[start:start + size])
            start += size
    return Split(*(np.sort(np.asarray(p, dtype=np.int64)) for p in parts))


def stratified_subset(indices, labels, per_class: int, seed: int = 0) -> np.ndarray:
    """A small subset of ``indices`` with exactly ``per_class`` samples of every class.

    Used for quick (smoke) runs. The classes are those in ``labels`` (all of them,
    not only those among ``indices``). Within a class, the members of ``indices``
    are ordered by the same hash as in :func:`split_indices`
    (``blake2b(f"{seed}:{index}")``) and the first ``per_class`` are kept, so the
    result is deterministic everywhere and every class keeps the same share.

    Args:
        indices: 1-D integer indices into ``labels`` (e.g. ``split.train``), no repeats.
        labels: 1-D integer class labels of the whole dataset.
        per_class: how many samples of each class to keep (positive).
        seed: integer seed of the hash order.

    Returns:
        int64 array of ``per_class * n_classes`` indices, a subset of ``indices``,
        sorted ascending.

    Raises:
        ValueError: ``per_class`` is not positive, ``indices`` are out of range or
            repeated, or a class has fewer than ``per_class`` samples among ``indices``.

    Example:
        >>> import numpy as np
        >>> labels = np.repeat(np.arange(3), 10)
        >>> sub = stratified_subset(np.arange(30), labels, per_class=2)
        >>> np.bincount(labels[sub]).tolist()
        [2, 2, 2]
    """
    labels = _check_labels(labels)
    seed = _check_seed(seed)
    if isinstance(per_class, bool) or not isinstance(per_class, numbers.Integral) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(f"indices must be a 1-D integer array, got {idx.dtype} {idx.shape}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= len(labels)):
        raise ValueError(
            f"indices must lie in 0..{len(labels) - 1} (positions in labels), "
            f"got {idx.min()}..{idx.max()}"
        )
    if len(np.unique(idx)) != len(idx):
        raise ValueError("indices contain repeats; pass each sample index once")
    chosen: list[int] = []
    sub_labels = labels[idx]
    for cls in np.unique(labels):
        members = idx[sub_labels == cls]
        if len(members) < per_class:
            raise ValueError(
                f"class {cls} has only {len(members)} samples among the indices, fewer than "
                f"per_class={per_class}; lower per_class or pass more indices"
            )
        chosen.extend(_hash_order(members, seed)[:per_class])
    return np.sort(np.asarray(chosen, dtype=np.int64))


# --------------------------------------------------------------------------------------
# Scaling
# --------------------------------------------------------------------------------------


def to_float(images) -> np.ndarray:
    """Scale uint8 images to float32 in [0, 1] (``images / 255``).

    Args:
        images: uint8 array ``(H, W, C)`` or ``(N, H, W, C)`` with ``C`` 1 or 3.

    Returns:
        float32 array of the same shape, ``0 -> 0.0`` and ``255 -> 1.0``.

    Raises:
        TypeError: ``images`` is not uint8 (floats are refused, as they may
            already be scaled: use them as they are, or convert to uint8 first).
        ValueError: the shape is not ``(H, W, C)`` / ``(N, H, W, C)`` with C in {1, 3}.

    Example:
        >>> import numpy as np
        >>> to_float(np.array([[[0, 51, 255]]], np.uint8)).tolist()
        [[[0.0, 0.20000000298023224, 1.0]]]
    """
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise TypeError(
            f"to_float expects uint8 images (0..255), got {arr.dtype}. Float images are "
            "taken to be scaled already: use them as they are, or convert to uint8 first."
        )
    if arr.ndim not in (3, 4) or arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"to_float expects images shaped (H, W, C) or (N, H, W, C) with C = 1 or 3, "
            f"got {arr.shape}; add a channel axis with images[..., None] for grayscale."
        )
    return arr.astype(np.float32) / np.float32(255)


# TEMPORARY (replaced by the data-sources branch): the memoised loader and the split digest.
@functools.lru_cache(maxsize=2)
def _load_cached(source):
    return load_cifar10(source)


def load_data(source=None):
    if source is None:
        source = (os.environ.get("CAE_DATA") or "").strip() or None
    return _load_cached(None if source is None else str(source).strip())


def split_digest(split) -> str:
    digest = hashlib.sha256()
    for part in (split.train, split.val, split.test):
        arr = np.asarray(part, dtype="<i8")
        digest.update(len(arr).to_bytes(8, "little"))
        digest.update(arr.tobytes())
    return digest.hexdigest()
