"""Readers for every on-disk CIFAR-10 format, and Keras' downloader.

Each reader returns a :class:`RawCifar`: CIFAR-10's own train and test parts as
plain arrays, the name of the format (``kind``) and a description of the place
read. :func:`cae_lib.data.load_cifar10` turns it into a ``CifarData``; this
module knows nothing of that class (data flows one way: ``data`` imports
``sources``, never the reverse).

Formats (:func:`read_path` picks one from the path):

- an image-folder directory or ``.zip``: ``<root>/{train,test}/<class>/*.png|jpg|jpeg``
  (the root folder may have any name, or ``train/`` and ``test/`` may sit at the top);
- an extracted ``cifar-10-batches-py`` folder (``data_batch_1`` ... ``data_batch_5``,
  ``test_batch``);
- the ``cifar-10-python.tar.gz`` archive, read in memory (nothing is extracted);
- ``keras.datasets.cifar10`` (:func:`read_keras`; Keras is imported only there).

Safety, for copies that come from elsewhere:

- Sizes are bounded: every zip or tar member and every file is checked against a
  limit before it is read (``MAX_IMAGE_BYTES``, ``MAX_BATCH_BYTES``) and read in
  chunks that stop once over the limit, and an archive may hold at most
  ``MAX_MEMBERS`` entries. A zip or tar bomb is refused with a ``ValueError``
  before it fills the memory.
- Pickled batches go through :class:`BatchUnpickler`, which builds only dicts,
  lists, bytes, strings, ints and NumPy arrays and refuses every other global
  (``os.system``, ``open``, ...), so loading a batch runs no code of the file's
  choosing. What remains: a crafted array can be as large as the member that
  holds it, which the size limit bounds.
- Images must be 8-bit RGB, 32x32 (greyscale, alpha and 16-bit files are
  refused, never converted), and JPEG files are checked for damage; see
  :func:`decode_image` for what can and cannot be detected.

Images are decoded with OpenCV, so a given file gives the same pixels everywhere.
Importing this module does not import TensorFlow, Keras or OpenCV.

Why one module of about 600 code lines: the four formats share one set of
bounded readers (the member and file limits, chunked reads, the unpickler's
allow-list) and one result type; split by format, every reader would import
the limits and checks of the others, and a limit changed in one place would
have to be found in four.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import re
import stat
import sys
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

import numpy as np

__all__ = [
    "CLASS_NAMES",
    "IMAGE_SHAPE",
    "IMAGE_EXTENSIONS",
    "SOURCE_HELP",
    "MAX_IMAGE_BYTES",
    "MAX_BATCH_BYTES",
    "MAX_MEMBERS",
    "IMAGE_FOLDER",
    "IMAGE_ZIP",
    "BATCHES_FOLDER",
    "BATCHES_ARCHIVE",
    "KERAS",
    "RawCifar",
    "read_path",
    "read_image_folder",
    "read_image_zip",
    "read_batches_folder",
    "read_batches_archive",
    "read_keras",
    "decode_image",
    "parse_batch",
    "BatchUnpickler",
    "read_bounded",
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

SOURCE_HELP = (
    "an image-folder directory or .zip (<root>/{train,test}/<class>/*.png|jpg), "
    "a cifar-10-batches-py folder, or cifar-10-python.tar.gz"
)
"""What a CIFAR-10 source may be, for error messages."""

MAX_IMAGE_BYTES = 1 << 20  # a 32x32 RGB image is 3 KB as raw PNG and about 1 KB as JPEG; 1 MiB leaves room for metadata
"""Largest image file read from an image folder or zip (bytes)."""

# A CIFAR-10 batch pickles 10,000 rows of 3 * 32 * 32 = 3,072 bytes plus one label each:
# 10,000 * 3,073 = 30,730,000 bytes, plus the 10,000 file names and the pickle framing
# (the official data_batch_1 is 31,035,704 bytes). 40 MB leaves 30 % for other writers.
MAX_BATCH_BYTES = 40_000_000
"""Largest pickled batch file or tar member read (bytes)."""

MAX_MEMBERS = 200_000  # 60,000 images plus their folders is far below; a zip of many tiny entries is refused
"""Most entries an archive may hold (zip or tar)."""

IMAGE_FOLDER = "image folder"
IMAGE_ZIP = "image-folder zip"
BATCHES_FOLDER = "cifar-10-batches-py folder"
BATCHES_ARCHIVE = "cifar-10-python.tar.gz"
KERAS = "keras.datasets.cifar10"

_SPLITS = ("train", "test")
_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_BATCHES = _TRAIN_BATCHES + ("test_batch",)
_OFFICIAL = "the official cifar-10-python.tar.gz (md5 c58f30108f718f92721af3b95e74349a)"
_CHUNK = 1 << 16


class RawCifar(NamedTuple):
    """CIFAR-10 as read from one source, before pooling.

    Attributes:
        x_train, x_test: uint8 images ``(N, 32, 32, 3)``, RGB.
        y_train, y_test: integer labels ``(N,)``.
        kind: the format, one of ``IMAGE_FOLDER``, ``IMAGE_ZIP``, ``BATCHES_FOLDER``,
            ``BATCHES_ARCHIVE``, ``KERAS``.
        description: the format and the path read (``"image-folder zip /data/c.zip"``).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    kind: str
    description: str


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------


def read_path(path: Path, via: str | None = None) -> RawCifar:
    """Read the CIFAR-10 copy at ``path``, whatever its format.

    Args:
        path: an image-folder directory or ``.zip``, a ``cifar-10-batches-py`` folder
            (or a folder holding one), or a ``.tar.gz`` / ``.tgz`` / ``.tar`` archive.
        via: where the path came from (e.g. ``"CAE_DATA"``), named in errors.

    Raises:
        FileNotFoundError: the path (or a required batch file) does not exist.
        ValueError: anything else that is not a readable CIFAR-10 copy.

    Usage (trains, or needs a CIFAR-10 copy)::

        raw = read_path(Path("../shared/data/cifar10-jpeg.zip"))
        raw.kind, raw.x_train.shape
        ('image-folder zip', (50000, 32, 32, 3))
    """
    origin = f" (from {via})" if via else ""
    if not path.exists():
        raise FileNotFoundError(
            f"CIFAR-10 source not found: {path}{origin}. Point source= or CAE_DATA at {SOURCE_HELP}."
        )
    if not path.is_dir() and not path.is_file():  # opening a FIFO would block; a device or socket is no copy
        raise ValueError(
            f"CIFAR-10 source {path}{origin} is not a regular file or a folder (a FIFO, socket or device): "
            f"point source= or CAE_DATA at {SOURCE_HELP}."
        )
    if path.is_dir():
        if (path / "data_batch_1").exists() or (path / "test_batch").exists():
            return read_batches_folder(path)
        if (path / "cifar-10-batches-py").is_dir():
            return read_batches_folder(path / "cifar-10-batches-py")
        return read_image_folder(path)
    name = path.name.lower()
    if name.endswith(".zip"):
        return read_image_zip(path)
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return read_batches_archive(path)
    raise ValueError(
        f"Unsupported CIFAR-10 source {path}{origin}: expected {SOURCE_HELP} "
        "(a file must end in .zip, .tar.gz, .tgz or .tar)."
    )


def _keras_load():
    """Return ``keras.datasets.cifar10.load_data()`` (imports Keras only here)."""
    import keras

    return keras.datasets.cifar10.load_data()


def _channels_last(x: np.ndarray) -> np.ndarray:
    if x.ndim == 4 and x.shape[1:] == (3, 32, 32):
        return x.transpose(0, 2, 3, 1)
    return x


def read_keras() -> RawCifar:
    """CIFAR-10 through ``keras.datasets.cifar10.load_data()`` (downloads once, then cached).

    Raises:
        Exception: whatever Keras raises (e.g. offline); the caller explains the fix.
    """
    (x_train, y_train), (x_test, y_test) = _keras_load()
    return RawCifar(
        _channels_last(np.asarray(x_train)),
        np.asarray(y_train).reshape(-1),
        _channels_last(np.asarray(x_test)),
        np.asarray(y_test).reshape(-1),
        KERAS,
        KERAS,
    )


# --------------------------------------------------------------------------------------
# Bounded reading
# --------------------------------------------------------------------------------------


def _too_large(where: str, member: str, size: int, limit: int, declared_by: str | None) -> ValueError:
    """The error for a file over ``limit``: ``size`` as ``declared_by`` says, or as read (None)."""
    if declared_by:
        how = f"is {size:,} bytes according to {declared_by}"
    else:
        how = f"holds more than {limit:,} bytes (read {size:,} before stopping)"
    return ValueError(
        f"{where}: {member!r} {how}, over the limit of {limit:,} bytes for such a file; "
        "refusing to read it. A CIFAR-10 copy has no such file: the copy is damaged, not "
        "CIFAR-10, or built to exhaust memory."
    )


def read_bounded(stream: BinaryIO, limit: int, where: str, member: str) -> bytes:
    """Read ``stream`` to its end in chunks, refusing to go past ``limit`` bytes.

    Sizes in archive headers and file systems can lie; this bound holds whatever
    the stream really yields: at most ``limit + 1`` bytes are ever read.

    Raises:
        ValueError: the stream yields more than ``limit`` bytes; names ``where``,
            ``member`` and the limit.

    Example:
        >>> read_bounded(io.BytesIO(b"abc"), 10, "archive", "member")
        b'abc'
    """
    chunks, total = [], 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise _too_large(where, member, total, limit, None)
        chunks.append(chunk)


def _read_file(path: Path, limit: int, where: str, member: str) -> bytes:
    """The bytes of a file (symlinks followed), bounded like an archive member; only regular files are opened."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read forever
            raise ValueError(f"{where}: {member!r} is not a regular file (a FIFO, socket or device); remove it.")
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise _too_large(where, member, size, limit, "the file system")
            return read_bounded(f, limit, where, member)
    except OSError as exc:
        raise ValueError(f"{where}: cannot read {member!r} ({type(exc).__name__}: {_one_line(exc)}).") from exc


def _too_many(where: str, how_many: str) -> ValueError:
    return ValueError(
        f"{where}: the archive {how_many}, over the limit of {MAX_MEMBERS:,}; "
        "a CIFAR-10 copy has about 60,000. Refusing it."
    )


def _declared_zip_entries(fp: BinaryIO) -> int | None:
    """The entry count in a zip's end-of-central-directory record (Zip64 too), or None.

    Read before ``zipfile`` parses the central directory, so that a zip declaring
    millions of entries is refused before they fill the memory.
    """
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    tail_size = min(size, 22 + 0xFFFF)  # the record is 22 bytes plus a comment of up to 64 KiB
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None  # not a zip: zipfile says so
    entries = int.from_bytes(tail[at + 10:at + 12], "little")
    if entries == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
        fp.seek(int.from_bytes(tail[at - 12:at - 4], "little"))
        record = fp.read(56)
        if record[:4] == b"PK\x06\x06":
            entries = int.from_bytes(record[32:40], "little")
    return entries


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------

# libjpeg's warnings for damaged data (jerror.h); it prints them on stderr and decodes anyway.
_LIBJPEG_DAMAGE = re.compile(
    rb"[^\n]*(?:Corrupt JPEG data|Premature end of JPEG file|Invalid SOS parameters"
    rb"|Inconsistent progression sequence)[^\n]*\n?"
)
_STDERR_LOCK = threading.Lock()


class _NativeStderr:
    """Runs calls with file descriptor 2 pointed at a temporary file, to read libjpeg's warnings.

    OpenCV returns an image even when libjpeg warns ``Corrupt JPEG data: ...``; the
    warning is printed by C code on file descriptor 2 and is the only sign of the
    damage. Other text written there meanwhile is passed on to the real stderr.
    Where file descriptors cannot be redirected, calls run unwatched.
    """

    def __enter__(self) -> _NativeStderr:
        try:
            self._file = tempfile.TemporaryFile()
        except OSError:
            self._file = None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._file is not None:
            self._file.close()

    def call(self, fn: Callable, *args) -> tuple[object, str]:
        """Return ``fn(*args)`` and the libjpeg damage warnings it printed (``""`` if none)."""
        if self._file is None:
            return fn(*args), ""
        fd = self._file.fileno()
        with _STDERR_LOCK:
            try:
                if sys.stderr is not None:
                    sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError):
                return fn(*args), ""
            os.dup2(fd, 2)
            try:
                result = fn(*args)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        size = os.lseek(fd, 0, os.SEEK_CUR)
        if not size:
            return result, ""
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, size)
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        warnings = b"".join(m.group(0) for m in _LIBJPEG_DAMAGE.finditer(text))
        other = _LIBJPEG_DAMAGE.sub(b"", text)
        if other:
            os.write(2, other)
        return result, " ".join(warnings.decode("ascii", "replace").split())


_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")  # in scan data: a marker, not a stuffed byte or a restart
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")


def _jpeg_damage(data: bytes) -> str | None:
    """What is wrong with a JPEG file's marker structure, or None.

    Walks the file from SOI (``FF D8``) through its marker segments and the
    entropy-coded data of every scan to EOI (``FF D9``), which must end the file
    (trailing zero bytes allowed). In entropy-coded data ``FF`` may only be
    followed by ``00`` (a stuffed byte) or a restart marker ``D0``..``D7`` in
    sequence; anything else ends the scan, and must be a valid segment.
    """
    end = len(data.rstrip(b"\x00"))
    if data[:2] != b"\xff\xd8":
        return "it does not start with the JPEG start marker FF D8"
    pos = 2
    while True:
        if pos + 2 > end:
            return "it ends before the JPEG end marker FF D9 (truncated file)"
        if data[pos] != 0xFF:
            return f"byte {pos} should start a marker (FF) but is {data[pos]:02X}"
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:
            if pos + 2 != end:
                return f"{end - pos - 2} bytes follow the JPEG end marker FF D9"
            return None
        if not (0xC0 <= marker <= 0xCF or 0xDA <= marker <= 0xEF or marker == 0xFE):
            return f"unexpected marker FF {marker:02X} at byte {pos} (stray bytes in the file)"
        if pos + 4 > end:
            return "it ends inside a marker segment (truncated file)"
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > end:
            return f"the segment FF {marker:02X} at byte {pos} claims {length} bytes, past the end (truncated file)"
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            scan_end = _SCAN_END.search(data, pos, end)
            if scan_end is None:
                return "it ends inside the compressed image data (truncated file)"
            for k, rst in enumerate(_RESTART.finditer(data, pos, scan_end.start())):
                if rst.group()[1] != 0xD0 + k % 8:
                    return f"restart marker at byte {rst.start()} is out of sequence (expected RST{k % 8})"
            pos = scan_end.start()


def _decode(data: bytes, name: str, stderr: _NativeStderr) -> np.ndarray:
    import cv2

    if not data:
        raise ValueError(f"{name}: the file is empty. Replace or remove it.")
    is_jpeg = data[:3] == b"\xff\xd8\xff"
    if is_jpeg:
        problem = _jpeg_damage(data)
        if problem:
            raise ValueError(f"{name}: damaged JPEG file: {problem}. Replace it with an intact copy.")
    buf = np.frombuffer(data, np.uint8)
    try:
        img, warning = stderr.call(cv2.imdecode, buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        img, warning = None, ""
    if warning:
        raise ValueError(
            f"{name}: damaged JPEG data (libjpeg: {warning}); its pixels would be partly "
            "garbage. Replace it with an intact copy."
        )
    if img is None:
        raise ValueError(
            f"{name}: cannot be decoded as an image (corrupt, or not really "
            f"{PurePosixPath(name).suffix or 'an image'}). Replace or remove the file."
        )
    channels = 1 if img.ndim == 2 else img.shape[2]
    what = None
    if img.dtype != np.uint8:
        bits = img.dtype.itemsize * 8
        what = f"has {bits}-bit {img.dtype.name} samples"
    elif channels == 1:
        what = "is greyscale (1 channel)"
    elif channels == 2:
        what = "is greyscale with an alpha channel (2 channels)"
    elif channels == 4:
        what = "has an alpha (transparency) channel (4 channels)"
    elif channels != 3:
        what = f"has {channels} channels"
    if what:
        raise ValueError(
            f"{name}: the image {what}; a CIFAR-10 copy holds 8-bit RGB images (3 channels), "
            "so this is probably not CIFAR-10. Convert it to 8-bit RGB or point at a CIFAR-10 copy."
        )
    if img.shape[:2] != IMAGE_SHAPE[:2]:
        raise ValueError(
            f"{name}: image is {img.shape[1]}x{img.shape[0]} pixels, CIFAR-10 images are "
            "32x32. Resize it to 32x32 or remove it."
        )
    return img[:, :, ::-1]


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode one image file to uint8 RGB ``(32, 32, 3)`` with OpenCV.

    The file must hold an 8-bit, 3-channel (RGB) 32x32 image. Greyscale,
    greyscale+alpha, RGBA and 16-bit images are refused, not converted: a
    CIFAR-10 copy has none, so one signals the wrong folder. The EXIF
    orientation of a JPEG is not applied (the stored pixels are returned).

    JPEG damage. JPEG carries no checksum, so damage is caught only where it
    breaks the format:

    - a truncated file, trailing bytes after the end marker, or stray markers
      (checked by walking the marker structure: start ``FF D8``, segments,
      scan data, end ``FF D9``);
    - damaged compressed data that libjpeg notices while decoding (a bad
      Huffman code, a scan that ends early or leaves bytes unused): its warning
      ``Corrupt JPEG data: ...``, printed on stderr, is caught and turned into
      the error.

    Bytes overwritten inside the compressed data are *not* always caught: the
    Huffman-coded stream often falls back into step within a few codes and ends
    exactly where it should, and then every decoder yields plausible but wrong
    pixels without any sign. On the CIFAR-10 JPEG mirror, four bytes
    overwritten at a random place in the scan data are caught about 40 % of the
    time. Only a checksum of the files (or of the loaded data, e.g.
    ``CifarData.fingerprint``) catches the rest.

    Args:
        data: the file's bytes (PNG or JPEG; the format is read from the bytes).
        name: the file's name, used in error messages.

    Raises:
        ValueError: damaged, undecodable, not 8-bit RGB, or not 32x32; the
            message names the file.

    Example:
        >>> import cv2
        >>> ok, png = cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))
        >>> decode_image(png.tobytes(), "black.png").shape
        (32, 32, 3)
    """
    with _NativeStderr() as stderr:
        return _decode(data, name, stderr)


# --------------------------------------------------------------------------------------
# Image folders
# --------------------------------------------------------------------------------------


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _image_layout(files: Sequence[str], dirs: Sequence[str], where: str) -> dict[str, list[list[str]]]:
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
                f"{where}: several folders hold train/ or test/ ({', '.join(roots)}); keep exactly one dataset root."
            )
        if not roots:
            raise ValueError(f"{where}: wrong layout, no train/ or test/ folder found; {layout_help}.")
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
                f"{where}: unexpected entry {p!r}; only train/ and test/ may hold images; {layout_help}."
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
        if not found[split] and not any(p == prefix + split for p, is_dir in entries if is_dir):
            raise ValueError(f"{where}: wrong layout, no {prefix}{split}/ folder; {layout_help}.")
        missing = [c for c in CLASS_NAMES if c not in found[split]]
        if missing:
            raise ValueError(
                f"{where}: {prefix}{split}/ lacks the class folder(s) {', '.join(missing)}; {layout_help}."
            )
        empty = [c for c in CLASS_NAMES if not found[split][c]]
        if empty:
            raise ValueError(
                f"{where}: class folder(s) {', '.join(prefix + split + '/' + c for c in empty)} "
                "are empty; every class needs its images. Restore them or use a complete copy."
            )
        result[split] = [sorted(found[split][c]) for c in CLASS_NAMES]
    return result


def _read_images(
    layout: dict[str, list[list[str]]], read: Callable[[str], bytes], where: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Decode every listed file; return per-split image and label arrays."""
    images, labels = [], []
    with _NativeStderr() as stderr:
        for split in _SPLITS:
            per_class = layout[split]
            n = sum(len(names) for names in per_class)
            out = np.empty((n,) + IMAGE_SHAPE, np.uint8)
            lab = np.empty(n, np.int64)
            i = 0
            for label, names in enumerate(per_class):
                for name in names:
                    out[i] = _decode(read(name), f"{where}: {name}", stderr)
                    lab[i] = label
                    i += 1
            images.append(out)
            labels.append(lab)
    return images, labels


def _raise(exc: OSError) -> None:
    raise exc


def read_image_folder(root: Path) -> RawCifar:
    """Read ``<root>/[<name>/]{train,test}/<class>/*.png|jpg|jpeg``.

    Symlinked class folders and image files are followed. Each file is read
    with the ``MAX_IMAGE_BYTES`` bound and decoded by :func:`decode_image`.
    Files whose name (or a folder on their path) starts with ``.``, the
    ``__MACOSX`` folder, and non-image files next to ``train/`` and ``test/``
    are ignored; anything else that does not fit the layout is an error.
    """
    files, dirs = [], []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise, followlinks=True):
        rel = Path(dirpath).relative_to(root)
        dirs.extend((rel / d).as_posix() for d in dirnames)
        files.extend((rel / f).as_posix() for f in filenames)
        if len(rel.parts) >= 3:
            # <root>/<name>/<split>/<class> is the deepest level that may hold files; what lies
            # below is reported as a nested folder, and not descending stops symlink cycles.
            dirnames[:] = []
    layout = _image_layout(files, dirs, str(root))
    (x_train, x_test), (y_train, y_test) = _read_images(
        layout, lambda name: _read_file(root / name, MAX_IMAGE_BYTES, str(root), name), str(root)
    )
    return RawCifar(x_train, y_train, x_test, y_test, IMAGE_FOLDER, f"{IMAGE_FOLDER} {root}")


def _corrupt_zip(path: Path, exc: BaseException, member: str | None = None) -> ValueError:
    what = f"cannot read member {member!r}" if member else "not a readable zip file"
    return ValueError(
        f"{path}: corrupt or truncated zip ({what}: {type(exc).__name__}: {_one_line(exc)}). "
        "Re-create or re-download the archive."
    )


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def read_image_zip(path: Path) -> RawCifar:
    """Read an image-folder ``.zip`` (same layout as :func:`read_image_folder`).

    At most ``MAX_MEMBERS`` entries (counted from the end-of-central-directory
    record before the directory is parsed, and again after); each image member
    is checked against ``MAX_IMAGE_BYTES`` from its header before it is read,
    and read in chunks that stop at the limit.
    """
    try:
        with open(path, "rb") as fp:
            declared = _declared_zip_entries(fp)
        if declared is not None and declared > MAX_MEMBERS:
            raise _too_many(str(path), f"declares {declared:,} members")
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise _corrupt_zip(path, exc) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise _too_many(str(path), f"holds {len(members):,} members")
        infos = {}
        files, dirs = [], []
        for info in members:
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
        for names in (n for per_class in layout.values() for n in per_class):
            for name in names:
                if infos[name].file_size > MAX_IMAGE_BYTES:
                    raise _too_large(str(path), name, infos[name].file_size, MAX_IMAGE_BYTES, "its zip header")

        def read(name: str) -> bytes:
            try:
                with archive.open(infos[name]) as member:
                    return read_bounded(member, MAX_IMAGE_BYTES, str(path), name)
            except _ZIP_ERRORS as exc:
                raise _corrupt_zip(path, exc, name) from exc

        (x_train, x_test), (y_train, y_test) = _read_images(layout, read, str(path))
    return RawCifar(x_train, y_train, x_test, y_test, IMAGE_ZIP, f"{IMAGE_ZIP} {path}")


# --------------------------------------------------------------------------------------
# Pickled batches
# --------------------------------------------------------------------------------------


class _RefusedGlobal(ValueError):
    """A pickle asked for a global that a CIFAR-10 batch never needs."""


def _latin1_bytes(text, encoding="latin1"):
    """``_codecs.encode`` as Python 3 writes ``bytes`` in protocol-2 pickles, latin-1 only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _RefusedGlobal(f"a pickled _codecs.encode({type(text).__name__}, {encoding!r}) is not bytes")
    return text.encode("latin1")


def _numpy_global(module: str, name: str):
    if module == "numpy":
        return getattr(np, name)
    sub = module.rsplit(".", 1)[1]
    try:  # NumPy 2 moved numpy.core to numpy._core; both spellings occur in pickles
        return getattr(importlib.import_module(f"numpy._core.{sub}"), name)
    except (ImportError, AttributeError):
        return getattr(importlib.import_module(f"numpy.core.{sub}"), name)


# Every global a CIFAR-10 batch may name. dict, list, bytes, str and int come from pickle
# opcodes and need none of them.
_NUMPY_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),  # ndarray.__reduce__ (NumPy 1.x pickles, e.g. the official files)
        ("numpy._core.multiarray", "_reconstruct"),  # the same, pickled by NumPy 2
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.numeric", "_frombuffer"),  # ndarray.__reduce_ex__(5): pickle protocol 5
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class BatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 batch and nothing else.

    Only NumPy array reconstruction (``_reconstruct``, ``ndarray``, ``dtype``,
    ``_frombuffer``) and ``_codecs.encode`` restricted to latin-1 (how Python 3
    writes ``bytes`` in protocol 2) may be named; every other global, such as
    ``os.system`` or ``open``, is refused before it is looked up, so no code of
    the file's choosing runs. Strings are read with ``encoding="bytes"``, as
    CIFAR-10's Python 2 pickles need.

    Args:
        file: a binary file holding the pickle.
        where: the file's name, for the error message.

    Raises (from ``load``):
        ValueError: the pickle names another global.

    Example:
        >>> BatchUnpickler(io.BytesIO(pickle.dumps({b"labels": [1, 2]})), "x").load()
        {b'labels': [1, 2]}
    """

    def __init__(self, file: BinaryIO, where: str):
        super().__init__(file, encoding="bytes")
        self.where = where

    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY_GLOBALS:
            return _numpy_global(module, name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        raise _RefusedGlobal(
            f"The CIFAR-10 batch reader refuses to load {module}.{name} from {self.where}: a CIFAR-10 "
            "batch holds only dicts, lists, bytes, strings, ints and NumPy arrays, so this file is "
            f"not a CIFAR-10 batch (and loading it could run code). Use {_OFFICIAL}."
        )


def parse_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one CIFAR-10 batch with :class:`BatchUnpickler`; return RGB images and labels.

    A batch is a dict with ``b"data"``: uint8 rows ``(N, 3072)`` (1,024 red, then
    green, then blue values, each row by row) and ``b"labels"``: N ints in 0..9.

    Raises:
        ValueError: not a CIFAR-10 batch, a refused global, or wrong contents.
    """
    try:
        batch = BatchUnpickler(io.BytesIO(raw), where).load()
    except _RefusedGlobal as exc:
        raise ValueError(str(exc)) from None
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
        raise ValueError(f"{where}: 'data' must be uint8 (N, 3072) rows, got {data.dtype} {data.shape}.")
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{where}: 'labels' must be {len(data)} integers, got {labels.dtype} {labels.shape}.")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASS_NAMES)):
        raise ValueError(f"{where}: labels must lie in 0..9, got {labels.min()}..{labels.max()}.")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels.astype(np.int64)


def _pooled_batches(raw: dict[str, bytes], where: str, kind: str, description: str) -> RawCifar:
    parts = [parse_batch(raw[name], f"{where}: {name}") for name in _BATCHES]
    x_train = np.concatenate([x for x, _ in parts[:5]])
    y_train = np.concatenate([y for _, y in parts[:5]])
    x_test, y_test = parts[5]
    return RawCifar(x_train, y_train, x_test, y_test, kind, description)


def read_batches_folder(folder: Path) -> RawCifar:
    """Read an extracted ``cifar-10-batches-py`` folder (each file at most ``MAX_BATCH_BYTES``)."""
    raw = {}
    for name in _BATCHES:
        f = folder / name
        if not f.is_file():
            raise FileNotFoundError(
                f"{f} is missing; a cifar-10-batches-py folder needs "
                f"{', '.join(_BATCHES)}. Re-extract cifar-10-python.tar.gz."
            )
        raw[name] = _read_file(f, MAX_BATCH_BYTES, str(folder), name)
    return _pooled_batches(raw, str(folder), BATCHES_FOLDER, f"{BATCHES_FOLDER} {folder}")


def read_batches_archive(path: Path) -> RawCifar:
    """Read the batches straight from a ``.tar.gz`` / ``.tgz`` / ``.tar`` (nothing is written).

    At most ``MAX_MEMBERS`` members; each batch member is checked against
    ``MAX_BATCH_BYTES`` from its header before it is read, and read in chunks
    that stop at the limit.
    """
    raw: dict[str, bytes] = {}
    try:
        mode = "r:" if path.name.lower().endswith(".tar") else "r:gz"
        with tarfile.open(path, mode) as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_MEMBERS:
                    raise _too_many(str(path), f"holds more than {MAX_MEMBERS:,} members")
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
                if member.size > MAX_BATCH_BYTES:
                    raise _too_large(str(path), name, member.size, MAX_BATCH_BYTES, "its tar header")
                with archive.extractfile(member) as f:
                    raw[parts[-1]] = read_bounded(f, MAX_BATCH_BYTES, str(path), name)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ValueError(
            f"{path}: corrupt or truncated archive ({type(exc).__name__}: {_one_line(exc)}). "
            f"Re-download {_OFFICIAL}."
        ) from exc
    missing = [n for n in _BATCHES if n not in raw]
    if missing:
        raise ValueError(
            f"{path}: the archive lacks {', '.join(missing)}; expected "
            "cifar-10-batches-py/{data_batch_1..5,test_batch} as in cifar-10-python.tar.gz."
        )
    return _pooled_batches(raw, str(path), BATCHES_ARCHIVE, f"cifar-10-python archive {path}")
