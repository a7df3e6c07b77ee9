"""CIFAR-10 as the experiments use it: loading, the deterministic stratified split, scaling.

All 60,000 CIFAR-10 images are pooled (CIFAR-10's own train set first, then its
test set) and re-split with :func:`split_indices`, so every experiment uses the
same 80/10/10 train/validation/test indices on every machine.

Where the data comes from (:func:`load_cifar10`, or :func:`load_data` to load
once per process):

- ``source=None``: the path in the environment variable ``CAE_DATA``
  (:data:`DATA_ENV`, read only by :func:`data_source`) if it is set, otherwise
  ``keras.datasets.cifar10.load_data()`` (downloads once, then uses Keras'
  cache). Keras is imported only in that case.
- a path: an image-folder directory or ``.zip``, an extracted
  ``cifar-10-batches-py`` folder or the ``cifar-10-python.tar.gz`` archive. The
  readers of these formats live in :mod:`cae_lib.sources`, which also says how
  they guard against oversized archives, pickles that run code and damaged
  images.

Importing this module does not import TensorFlow, Keras or OpenCV.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import operator
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from cae_lib import sources
from cae_lib.sources import CLASS_NAMES, IMAGE_EXTENSIONS, IMAGE_SHAPE, SOURCE_HELP
from cae_lib.validate import positive_int

__all__ = [
    "CLASS_NAMES",
    "IMAGE_SHAPE",
    "IMAGE_EXTENSIONS",
    "DATA_ENV",
    "CifarData",
    "data_source",
    "load_cifar10",
    "load_data",
    "describe_source",
    "Split",
    "split_indices",
    "split_digest",
    "split_counts",
    "stratified_subset",
    "to_float",
    "to_uint8",
    "unit_float",
]

DATA_ENV = "CAE_DATA"
"""The environment variable naming a local CIFAR-10 copy (read only by :func:`data_source`)."""


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
        source: a short description of where the data came from (with its path).
        kind: the format read, without the path: ``"image-folder zip"``,
            ``"image folder"``, ``"cifar-10-batches-py folder"``,
            ``"cifar-10-python.tar.gz"``, ``"keras.datasets.cifar10"``, or
            ``"in-memory arrays"`` for data built directly.

    Raises:
        ValueError: if the arrays have the wrong dtype or shape, their lengths
            differ, or a label is out of range.

    Example:
        >>> import numpy as np
        >>> images = np.zeros((2, 32, 32, 3), np.uint8)
        >>> d = CifarData(images, np.array([0, 9]), CLASS_NAMES, "zeros")
        >>> images, labels, class_names, source = d
        >>> images.shape, labels.dtype.name, len(d.fingerprint), d.kind
        ((2, 32, 32, 3), 'int64', 16, 'in-memory arrays')
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES
    source: str = ""
    kind: str = "in-memory arrays"

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
        object.__setattr__(self, "kind", str(self.kind))

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


def describe_source(data: CifarData) -> str:
    """Where ``data`` came from, the same on every machine: format, size, fingerprint.

    Never contains a path, so a book can print it instead of a local path.

    Example:
        >>> import numpy as np
        >>> d = CifarData(np.zeros((2, 32, 32, 3), np.uint8), np.array([0, 1]))
        >>> describe_source(d)
        'in-memory arrays, 2 images, fingerprint 4a9c9645…'
    """
    if not isinstance(data, CifarData):
        raise TypeError(f"describe_source expects a CifarData, got {type(data).__name__}")
    return f"{data.kind}, {len(data.labels):,} images, fingerprint {data.fingerprint[:8]}…"


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def data_source() -> str | None:
    """The value of ``CAE_DATA`` with surrounding spaces stripped, or None if unset or blank.

    The one place the package reads the variable.

    Example:
        >>> import os
        >>> saved = os.environ.get("CAE_DATA")
        >>> os.environ["CAE_DATA"] = " /data/cifar10-jpeg.zip "
        >>> data_source()
        '/data/cifar10-jpeg.zip'
        >>> _ = os.environ.pop("CAE_DATA") if saved is None else os.environ.update(CAE_DATA=saved)
    """
    return os.environ.get(DATA_ENV, "").strip() or None


def _source_text(source: str | os.PathLike) -> str:
    """``source`` as a path string with surrounding spaces stripped."""
    text = os.fspath(source)
    if not isinstance(text, str):
        raise TypeError(f"source must be a str or os.PathLike path, got {type(source).__name__}")
    text = text.strip()
    if not text:
        raise ValueError(
            f"source is empty; pass the path of a CIFAR-10 copy ({SOURCE_HELP}), "
            f"or None to use {DATA_ENV} or Keras' download"
        )
    return text


def _from_raw(raw: sources.RawCifar) -> CifarData:
    images = np.concatenate([raw.x_train, raw.x_test])
    labels = np.concatenate([np.asarray(raw.y_train), np.asarray(raw.y_test)]).astype(np.int64)
    source = f"{raw.description} (train {len(raw.x_train)} + test {len(raw.x_test)})"
    return CifarData(np.ascontiguousarray(images), labels, CLASS_NAMES, source, raw.kind)


#: Image zips at least this large are decoded once per machine and kept in the cache (:func:`_read_path`).
DECODED_MIN_BYTES = 8 << 20
#: Set to ``1`` to decode an image zip every time instead of keeping the decoded copy.
NO_DECODED_CACHE_ENV = "CAE_NO_DECODED_CACHE"
#: Part of the decoded copy's key: bump it when the image readers of :mod:`cae_lib.sources` change what they return.
DECODE_STAMP = "decode-1"


def _read_path(path: Path, via: str | None) -> sources.RawCifar:
    """:func:`cae_lib.sources.read_path`, with a large image zip decoded once and kept in the cache.

    Decoding the 60,000 JPEGs of the mirror takes several seconds, in every
    process that loads the data (each chapter, each test worker). The decoded
    arrays are kept as a :func:`cae_lib.cache.memo` entry in the cache's ``data``
    folder (never exported with the runs), keyed by the zip's SHA-256, OpenCV's
    version and :data:`DECODE_STAMP`; the manifest's checksum is verified on
    every load, a damaged copy is moved aside and decoded again, and a cache that
    cannot be written only costs the time. Smaller zips, folders and pickled
    batches are read every time.
    """
    if (os.environ.get(NO_DECODED_CACHE_ENV, "").strip() == "1" or not path.name.lower().endswith(".zip")
            or not path.is_file() or path.stat().st_size < DECODED_MIN_BYTES):
        return sources.read_path(path, via=via)
    import cv2

    from cae_lib import cache

    def decode():
        raw = sources.read_path(path, via=via)
        return {"x_train": raw.x_train, "y_train": np.asarray(raw.y_train), "x_test": raw.x_test,
                "y_test": np.asarray(raw.y_test)}

    key = {"sha256": cache.sha256(path), "opencv": cv2.__version__, "stamp": DECODE_STAMP}
    try:
        a = cache.memo("cifar-decoded", key, decode, group="data", what="decoded copy of the data")
    except cache.UntrustedError:
        raise
    except cache.CacheError:
        return sources.read_path(path, via=via)
    return sources.RawCifar(a["x_train"], a["y_train"], a["x_test"], a["y_test"], sources.IMAGE_ZIP,
                            f"{sources.IMAGE_ZIP} {path}")


def _load(text: str | None, via: str | None) -> CifarData:
    """Load from a stripped path string, or through Keras when ``text`` is None."""
    if text is not None:
        return _from_raw(_read_path(Path(text).expanduser(), via=via))
    try:
        raw = sources.read_keras()
    except Exception as exc:
        raise RuntimeError(
            "Could not get CIFAR-10 through keras.datasets.cifar10.load_data() "
            f"({type(exc).__name__}: {' '.join(str(exc).split())}). If this machine is offline, set "
            f"{DATA_ENV}=/path/to/a/local/copy (or pass source=...): {SOURCE_HELP}."
        ) from exc
    return _from_raw(raw)


def load_cifar10(source: str | os.PathLike | None = None) -> CifarData:
    """Load all 60,000 CIFAR-10 images, CIFAR-10's train set first, then its test set.

    Within each part the images follow class order (``CLASS_NAMES``), and within a
    class the file names in sorted order (image folders) or the batch order
    (``cifar-10-batches-py``: ``data_batch_1`` ... ``data_batch_5``, then ``test_batch``).

    Image folders: files whose name (or a folder on their path) starts with ``.``,
    the ``__MACOSX`` folder of macOS zips, and non-image files next to ``train/``
    and ``test/`` are ignored; anything else that does not fit the layout is an
    error, never skipped. Each image must be an 8-bit RGB 32x32 image
    (greyscale, alpha and 16-bit files are refused) and damaged JPEGs are
    refused where the damage shows (see :func:`cae_lib.sources.decode_image`).

    Pickled batches (``cifar-10-batches-py``, ``.tar.gz``) are read by a
    restricted unpickler that builds only dicts, lists, bytes, strings, ints and
    NumPy arrays, so a tampered file cannot run code; a crafted array can still
    be as large as its file, which is bounded (``sources.MAX_BATCH_BYTES``). The
    official archive has md5 ``c58f30108f718f92721af3b95e74349a``.

    Args:
        source: path of an image-folder directory or ``.zip``, a ``cifar-10-batches-py``
            folder (or a folder containing it) or a ``cifar-10-python.tar.gz`` archive;
            surrounding spaces are stripped. ``None`` uses ``CAE_DATA`` if set
            (:func:`data_source`), otherwise ``keras.datasets.cifar10.load_data()``.

    Returns:
        A :class:`CifarData` (uint8 RGB images ``(N, 32, 32, 3)``, int64 labels,
        ``CLASS_NAMES``, a description of the source and the format's ``kind``).

    Raises:
        FileNotFoundError: the path (or a required batch file) does not exist.
        ValueError: the source has the wrong layout, an unknown, missing or empty
            class folder, a file that is not a 32x32 8-bit RGB image, a damaged
            image or archive, an oversized member, or a pickle that names
            anything but NumPy arrays; or ``source`` is an empty string.
        RuntimeError: ``source`` and ``CAE_DATA`` are unset and Keras cannot
            download CIFAR-10 (e.g. offline); the message says how to use a local copy.

    Usage (needs a CIFAR-10 copy)::

        data = load_cifar10("../shared/data/cifar10-jpeg.zip")
        data.images.shape, data.labels[:3]
        ((60000, 32, 32, 3), array([0, 0, 0]))
        data.source
        'image-folder zip ../shared/data/cifar10-jpeg.zip (train 50000 + test 10000)'
    """
    if source is None:
        text = data_source()
        return _load(text, DATA_ENV if text else None)
    return _load(_source_text(source), None)


@functools.lru_cache(maxsize=2)
def _load_cached(text: str | None) -> CifarData:
    return _load(text, None)


def load_data(source: str | os.PathLike | None = None) -> CifarData:
    """:func:`load_cifar10`, memoised per source within a process.

    The cache key is the normalised path (spaces stripped, ``~`` expanded, made
    absolute), so ``" data.zip"`` and ``"./data.zip"`` share one entry; the two
    most recent sources are kept. ``source=None`` reads ``CAE_DATA`` on every
    call, so changing the variable changes what is loaded. A file changed on
    disk is not noticed: ``load_data.cache_clear()`` empties the cache.

    Usage (needs a CIFAR-10 copy)::

        data = load_data()
        load_data() is data
        True
    """
    if source is None:
        text, via = data_source(), DATA_ENV
    else:
        text, via = _source_text(source), None
    if text is None:
        return _load_cached(None)
    key = os.path.abspath(os.path.expanduser(text))
    if via and not os.path.exists(key):
        return _load(key, via)  # raises FileNotFoundError naming CAE_DATA (failures are never cached)
    return _load_cached(key)


load_data.cache_clear = _load_cached.cache_clear


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
    per_class = positive_int(per_class, "per_class")
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


def split_digest(split: Split) -> str:
    """SHA-256 hex digest of a split's index arrays, to key cached runs by the split.

    The digest covers ``b"cae_lib.Split/1"``, then for train, val and test in that
    order the number of indices as 8 little-endian bytes followed by the indices
    as little-endian int64, so moving an index from one part to the next changes it.

    Args:
        split: a :class:`Split` (or any three 1-D integer index arrays, train/val/test).

    Raises:
        ValueError: not three parts, or a part that is not a 1-D integer array.

    Example:
        >>> import numpy as np
        >>> s = Split(np.array([0, 1]), np.array([2]), np.array([3]))
        >>> len(split_digest(s)), split_digest(s) == split_digest(Split(np.array([0]), np.array([1, 2]), np.array([3])))
        (64, False)
    """
    parts = tuple(split)
    if len(parts) != 3:
        raise ValueError(f"split must have three parts (train, val, test), got {len(parts)}")
    digest = hashlib.sha256(b"cae_lib.Split/1")
    for name, part in zip(("train", "val", "test"), parts):
        arr = np.asarray(part)
        if arr.ndim != 1 or (arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_)):
            raise ValueError(f"split.{name} must be a 1-D integer index array, got {arr.dtype} {arr.shape}")
        digest.update(len(arr).to_bytes(8, "little"))
        digest.update(arr.astype("<i8").tobytes())
    return digest.hexdigest()


def split_counts(
    labels,
    parts: Mapping[str, Sequence[int]],
    class_names: Sequence[str],
    total_label: str = "total",
) -> list[dict]:
    """Images per class in each part of a split, as rows for :func:`cae_lib.plots.markdown_table`.

    Args:
        labels: 1-D integer class labels of the whole data set.
        parts: ``{column name: index array}``, e.g. ``{"train": split.train,
            "validation": split.val, "test": split.test}``; indices into ``labels``.
        class_names: the class names, in label order.
        total_label: name of the last row, which holds each part's size.

    Returns:
        One dict per class, ``{"class": name, <column>: count, ...}``, then the
        total row; counts are Python ints.

    Raises:
        ValueError: ``labels`` not 1-D integers, empty ``parts`` or
            ``class_names``, indices that are not 1-D integers or lie outside
            ``labels``, or labels outside ``[0, len(class_names))``.

    Example:
        >>> split_counts([0, 1, 1], {"all": [0, 1, 2]}, ("cat", "dog"))
        [{'class': 'cat', 'all': 1}, {'class': 'dog', 'all': 2}, {'class': 'total', 'all': 3}]
    """
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array; got dtype {y.dtype}, shape {y.shape}")
    names = list(class_names)
    if not names:
        raise ValueError("class_names is empty; pass one name per class, e.g. cae_lib.data.CLASS_NAMES")
    if y.size and (y.min() < 0 or y.max() >= len(names)):
        raise ValueError(f"labels must lie in [0, {len(names)}) to match class_names; got [{y.min()}, {y.max()}]")
    if not isinstance(parts, Mapping) or not parts:
        raise ValueError("parts must be a non-empty dict {column name: index array}")
    counts = {}
    for column, index in parts.items():
        idx = np.asarray(index)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(f"parts[{column!r}] must be a 1-D integer index array; got dtype {idx.dtype}, shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= y.size):
            raise ValueError(
                f"parts[{column!r}] has indices in [{idx.min()}, {idx.max()}], outside labels (length {y.size})"
            )
        counts[column] = np.bincount(y[idx.astype(np.int64)], minlength=len(names))
    rows = [{"class": name, **{col: int(c[k]) for col, c in counts.items()}} for k, name in enumerate(names)]
    rows.append({"class": total_label, **{col: int(c.sum()) for col, c in counts.items()}})
    return rows


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
    return unit_float(arr)


def unit_float(images) -> np.ndarray:
    """Images of any shape as float32 in [0, 1]: uint8 divided by 255, floats taken as already scaled.

    The one place a uint8 image becomes a float one (:func:`to_float` is the
    checked version for image batches).

    Example:
        >>> unit_float(np.array([0, 255], np.uint8)).tolist(), unit_float(np.array([0.5])).dtype
        ([0.0, 1.0], dtype('float32'))
    """
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255)
    return arr.astype(np.float32)


def to_uint8(images) -> np.ndarray:
    """Float images in [0, 1] to uint8 (``round(x * 255)``, clipped): the inverse of :func:`to_float`.

    Example:
        >>> to_uint8(to_float(np.array([[[0, 51, 255]]], np.uint8))).tolist()
        [[[0, 51, 255]]]
    """
    arr = np.asarray(images)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"to_uint8 expects float images in [0, 1], got {arr.dtype}")
    return np.rint(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
