"""The learned codec's file: a small versioned header, then the range-coded latent.

=========  =====  ===========================================================
field      bytes  meaning
=========  =====  ===========================================================
magic      3      ``b"CAE"``
version    1      :data:`VERSION`
name       1 + n  the model that wrote the file (length, then ASCII)
height     1-3    the image's height (unsigned LEB128)
width      1-3    the image's width (unsigned LEB128)
checksum   4      CRC-32 of the model's digest, the header above and the payload
payload    rest   the range coder's bytes (:mod:`cae_lib.entropy`)
=========  =====  ===========================================================

The checksum covers the model's own digest (a hash of its weights), so a file
decoded with another training of the same name is refused like a damaged one,
never decoded into a wrong image. For a 32×32 image and a five-letter name
the header is 16 bytes, 0.125 bits per pixel, and every rate this library
reports for the codec counts it.

Example:
    >>> data = pack("rd_q3", (32, 32), b"xyz", digest=b"w")
    >>> len(data) - 3, unpack(data, digest=b"w")
    (16, ('rd_q3', (32, 32), b'xyz'))
    >>> header_size(data)
    16
"""

from __future__ import annotations

import zlib

__all__ = ["MAGIC", "VERSION", "MAX_SIDE", "FormatError", "pack", "unpack", "peek_name", "header_size"]

MAGIC = b"CAE"
#: The format version this library writes and reads.
VERSION = 1
#: The largest height or width a file may state (three LEB128 bytes).
MAX_SIDE = 2**21 - 1


class FormatError(ValueError):
    """A file that is not a codec file of this version, or is truncated or damaged; the message says which."""


def _leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(3):
        if pos >= len(data):
            raise FormatError("the file is truncated (it ends inside its header)")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
    raise FormatError("the file's header is damaged (an image side longer than three bytes)")


def pack(name: str, shape: tuple[int, int], payload: bytes, *, digest: bytes) -> bytes:
    """A file: header (model ``name``, image ``shape`` = (height, width)) and ``payload``.

    Args:
        name: the model's name, 1 to 255 ASCII characters.
        shape: ``(height, width)`` of the image, each 1 to :data:`MAX_SIDE`.
        payload: the range coder's bytes.
        digest: the model's digest, covered by the checksum (not stored).

    Raises:
        ValueError: a name or shape that does not fit the header.
    """
    raw = str(name).encode("ascii", "replace")
    if not 1 <= len(raw) <= 255 or not str(name).isascii():
        raise ValueError(f"a model name in the file must be 1 to 255 ASCII characters, got {name!r}")
    height, width = (int(s) for s in shape)
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise ValueError(f"image sides must be 1 to {MAX_SIDE} pixels, got {height}x{width}")
    head = MAGIC + bytes([VERSION, len(raw)]) + raw + _leb128(height) + _leb128(width)
    crc = zlib.crc32(bytes(payload), zlib.crc32(head, zlib.crc32(bytes(digest))))
    return head + crc.to_bytes(4, "little") + bytes(payload)


def _header(data: bytes) -> tuple[str, int, int, int]:
    """``(name, height, width, end of header)``, checking magic and version."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FormatError(f"expected the bytes of a file, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < len(MAGIC) + 2 or not data.startswith(MAGIC):
        if len(data) < len(MAGIC) + 2 and MAGIC.startswith(data[: len(MAGIC)]) and data:
            raise FormatError("the file is truncated (it ends inside its header)")
        raise FormatError("not a cae codec file (it does not start with b'CAE'); compress the image with `cae compress`")
    version = data[3]
    if version != VERSION:
        raise FormatError(f"the file has format version {version}; this cae_lib reads version {VERSION} only")
    n = data[4]
    end = 5 + n
    if len(data) < end:
        raise FormatError("the file is truncated (it ends inside its header)")
    try:
        name = data[5:end].decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("the file's header is damaged (its model name is not ASCII)") from None
    height, end = _read_leb128(data, end)
    width, end = _read_leb128(data, end)
    if not (height and width):
        raise FormatError("the file's header is damaged (an image side of zero pixels)")
    if len(data) < end + 4:
        raise FormatError("the file is truncated (it ends inside its header)")
    return name, height, width, end


def peek_name(data: bytes) -> str:
    """The name of the model that wrote ``data`` (checks the header, not the checksum).

    Raises:
        FormatError: not a codec file of this version, or a truncated header.
    """
    return _header(data)[0]


def header_size(data: bytes) -> int:
    """Bytes of ``data``'s header, checksum included (everything but the payload)."""
    return _header(data)[3] + 4


def unpack(data: bytes, *, digest: bytes) -> tuple[str, tuple[int, int], bytes]:
    """``(name, (height, width), payload)`` of a file written by :func:`pack` for the model of ``digest``.

    Raises:
        FormatError: not a codec file, another version, a truncated or damaged
            file, or one written by a model with another digest.
    """
    name, height, width, end = _header(data)
    data = bytes(data)
    stored = int.from_bytes(data[end : end + 4], "little")
    payload = data[end + 4 :]
    crc = zlib.crc32(payload, zlib.crc32(data[:end], zlib.crc32(bytes(digest))))
    if crc != stored:
        raise FormatError(
            f"the file's checksum does not match: it is truncated or damaged, or was written by another "
            f"training of model {name!r} than the one decoding it"
        )
    return name, (height, width), payload
