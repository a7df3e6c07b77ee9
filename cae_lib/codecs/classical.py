"""The classical image codecs (JPEG, WebP, AVIF, JPEG XL, JPEG 2000) as :class:`~cae_lib.codecs.base.Codec` objects.

In the spirit of CompressAI's ``utils/bench/codecs.py``: :class:`ImageCodec`
holds one quality setting and encodes each image on its own with
`imagecodecs <https://github.com/cgohlke/imagecodecs>`_; a format is a
subclass that sets ``fmt`` (imagecodecs' ``{fmt}_encode`` / ``{fmt}_decode``)
and the encoder options that make it the lossy codec people mean by its name.
The byte count is the whole file the library writes (headers included), as a
user would store it; :meth:`JPEG.payload_size` also gives the entropy-coded
scan alone (``bpp_payload`` in :func:`~cae_lib.codecs.base.measure`'s record),
since on a 32x32 image JPEG's headers and tables outweigh the scan.

Why imagecodecs: one package wraps the five reference libraries
(libjpeg-turbo, libwebp, libavif, libjxl and OpenJPEG) behind one API
(``encode(image, level=...)``, ``decode(bytes)``) with wheels for every
platform. OpenCV's ``imencode`` has JPEG, WebP and JPEG 2000 but neither AVIF
nor JPEG XL, and Pillow needs plugins for both.

What ``quality`` means for each (imagecodecs 2026.3.6 passes it as ``level``):

==========  =========  ==================================================================
codec       range      ``level``
==========  =========  ==================================================================
JPEG        1..100     libjpeg-turbo ``jpeg_set_quality`` (IJG scaling of the Annex K
                       tables); baseline, standard Huffman tables, 4:2:0 chroma
WebP        0..100     libwebp ``WebPConfig.quality``, lossy (``lossless=False``)
AVIF        0..100     libavif ``quality`` (AV1 quantizer, 4:4:4, speed 6 as
                       ``avifenc``); 100 is lossless
JPEG XL     0..100     libjxl ``JxlEncoderDistanceFromQuality``: a butteraugli distance,
                       25 at quality 0, 1.0 at 90, 0 at 100; lossy VarDCT
                       (``lossless=False``), bare codestream, effort 5
JPEG 2000   1..100     OpenJPEG fixed-quality mode (``tcp_distoratio``): a target PSNR
                       in dB for the one quality layer; irreversible 9/7 wavelet,
                       a bare J2K codestream (no JP2 boxes)
==========  =========  ==================================================================

Example:
    >>> x = np.full((2, 16, 16, 3), 128, np.uint8)
    >>> codec = JPEG(50)
    >>> payloads = codec.encode(x)
    >>> codec.label(), codec.payload_size(payloads[0]) < len(payloads[0])
    ('JPEG (quality 50)', True)
    >>> codec.decode(payloads, (16, 16, 3)).shape
    (2, 16, 16, 3)
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from cae_lib.codecs.base import CODECS, Codec, register
from cae_lib.data import to_float

__all__ = ["ImageCodec", "JPEG", "WebP", "AVIF", "JPEGXL", "JPEG2000", "jpeg_scan_bytes", "QUALITIES",
           "classical_codecs"]


def _rgb_uint8(images) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[-1] != 3 or 0 in arr.shape:
        raise ValueError(f"images must be a non-empty batch of RGB images (N, H, W, 3); got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (0..255); got dtype {arr.dtype}")
    return arr


class ImageCodec(Codec):
    """One imagecodecs format at one quality, each image encoded on its own.

    Subclasses set ``fmt`` (imagecodecs' ``{fmt}_encode`` and ``{fmt}_decode``),
    ``family``, ``quality_range`` and, where the encoder needs them to be the
    usual lossy codec, :attr:`options`.

    Args:
        quality: the encoder's ``level``, an integer in ``quality_range``
            (what it means for each format: the module's table).

    Raises:
        ValueError: ``quality`` is not an integer in ``quality_range``.

    Example:
        >>> WebP(75).label(), WebP(75).family
        ('WebP (quality 75)', 'WebP')
    """

    #: imagecodecs' name of the format (``imagecodecs.{fmt}_encode``).
    fmt: ClassVar[str] = ""
    #: The inclusive range of ``quality``.
    quality_range: ClassVar[tuple[int, int]] = (0, 100)
    #: How the setting reads in :meth:`label` (``{}`` is the quality).
    setting: ClassVar[str] = "quality {}"
    #: Keyword arguments passed to the encoder besides ``level``.
    options: ClassVar[Mapping[str, object]] = {}

    def __init__(self, quality: int):
        lo, hi = self.quality_range
        if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) or not lo <= quality <= hi:
            raise ValueError(f"{type(self).__name__} quality must be an integer in [{lo}, {hi}], got {quality!r}")
        self.quality = int(quality)

    def label(self) -> str:
        return f"{self.family} ({self.setting.format(self.quality)})"

    def encode_image(self, image: np.ndarray) -> bytes:
        """The file of one uint8 ``(H, W, 3)`` image: ``imagecodecs.{fmt}_encode(image, level=quality, **options)``."""
        import imagecodecs  # imported when used: listing or choosing codecs needs no codec library

        encoder = getattr(imagecodecs, f"{self.fmt}_encode")
        return bytes(encoder(np.ascontiguousarray(image), level=self.quality, **self.options))

    def encode(self, images) -> list[bytes]:
        """One file per image of a uint8 RGB batch ``(N, H, W, 3)``.

        Raises:
            ValueError: another shape or dtype.
        """
        return [self.encode_image(im) for im in _rgb_uint8(images)]

    def decode(self, payloads: Sequence[bytes], image_shape) -> np.ndarray:
        """float32 images ``(N, H, W, 3)`` in [0, 1] (``to_float`` of each decoded file).

        Raises:
            ValueError: a file decodes to another shape than ``image_shape``.
        """
        import imagecodecs

        decoder = getattr(imagecodecs, f"{self.fmt}_decode")
        shape = tuple(int(s) for s in image_shape)
        out = np.empty((len(payloads), *shape), np.float32)
        for i, p in enumerate(payloads):
            image = np.asarray(decoder(p))
            if image.shape != shape:
                raise ValueError(f"payload {i} decodes to shape {image.shape}, not the images' {shape}")
            out[i] = to_float(image)
        return out


@register("jpeg")
class JPEG(ImageCodec):
    """Baseline JPEG (libjpeg-turbo): IJG quality scaling, standard Huffman tables, 4:2:0 chroma subsampling.

    4:2:0 (chroma halved both ways, ``subsampling="420"``) is libjpeg-turbo's
    default for RGB input and what imagecodecs writes when given none; it is
    passed explicitly so the choice is visible. :meth:`payload_size` counts
    the entropy-coded scan alone (:func:`jpeg_scan_bytes`).

    Example:
        >>> JPEG(90).options["subsampling"], JPEG.quality_range
        ('420', (1, 100))
    """

    fmt = "jpeg"
    family = "JPEG"
    quality_range = (1, 100)  # libjpeg clamps 0 to 1
    options = {"subsampling": "420"}

    def payload_size(self, data: bytes) -> int:
        return jpeg_scan_bytes(data)


@register("webp")
class WebP(ImageCodec):
    """Lossy WebP (libwebp, VP8 intra frames); imagecodecs' default would be lossless, hence ``lossless=False``."""

    fmt = "webp"
    family = "WebP"
    options = {"lossless": False}


@register("avif")
class AVIF(ImageCodec):
    """AVIF (libavif with its AV1 encoder), 4:4:4, at speed 6 (``avifenc``'s default); quality 100 is lossless.

    Speed 6 rather than the library's slowest default: on a 32x32 image the
    default takes about 65 ms, speed 6 about 2 ms, for about 1 dB less at the
    same size (measured on one astronaut tile at quality 50); a sweep over a
    test part of thousands of images is only affordable at the command-line
    tool's default.
    """

    fmt = "avif"
    family = "AVIF"
    options = {"speed": 6}


@register("jpegxl")
class JPEGXL(ImageCodec):
    """Lossy JPEG XL (libjxl VarDCT): quality mapped to a butteraugli distance by ``JxlEncoderDistanceFromQuality``.

    ``lossless=False`` is passed explicitly (imagecodecs turns lossless off for
    any ``level`` up to 100 already); quality 100 is distance 0.
    """

    fmt = "jpegxl"
    family = "JPEG XL"
    options = {"lossless": False}


@register("jpeg2000")
class JPEG2000(ImageCodec):
    """JPEG 2000 (OpenJPEG) at a target PSNR: ``quality`` is the dB that the one quality layer aims at.

    The codestream is written bare (``codecformat="J2K"``, as ``opj_compress -o x.j2k``):
    the JP2 boxes around it (signature, ``ftyp``, ``jp2h``) would add some 85 bytes per image.

    Example:
        >>> JPEG2000(30).label()
        'JPEG 2000 (PSNR target 30 dB)'
    """

    fmt = "jpeg2k"
    family = "JPEG 2000"
    quality_range = (1, 100)  # imagecodecs: level < 1 or > 1000 is lossless; 100 dB is past any 8-bit error
    setting = "PSNR target {} dB"
    options = {"codecformat": "J2K"}


# Markers without a length field: TEM, RST0..RST7, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}


def jpeg_scan_bytes(data: bytes) -> int:
    """Bytes of a JPEG file's entropy-coded scans: each from the end of its SOS header to the next marker.

    The file is walked marker by marker (SOI, APPn, DQT, SOF, DHT, SOS, ...,
    EOI); in a scan, stuffed ``FF 00`` bytes and restart markers count as scan
    data. For a baseline file (one scan) this is the bytes from the end of the
    SOS header to the EOI marker, EOI excluded: the count Toderici et al. (2016)
    gave JPEG on 32x32 thumbnails, without its headers and tables.

    Args:
        data: a JPEG file.

    Returns:
        The number of entropy-coded bytes.

    Raises:
        ValueError: ``data`` is not a JPEG file (no SOI), is truncated, or has no scan.

    Example:
        >>> f = bytes.fromhex("ffd8" "ffdb0004ab12" "ffda0003aa" "1234ff0056" "ffd9")
        >>> jpeg_scan_bytes(f)
        5
    """
    data = bytes(data)
    if data[:2] != b"\xff\xd8":
        raise ValueError(f"not a JPEG file: it must start with the SOI marker FF D8, got {data[:2].hex(' ') or 'nothing'}")
    pos, scan, scans = 2, 0, 0
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise ValueError(f"not a valid JPEG file: no marker at byte {pos} (truncated, or no EOI)")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > len(data):
            raise ValueError(f"not a valid JPEG file: truncated segment header at byte {pos}")
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if end > len(data):
            raise ValueError(f"not a valid JPEG file: segment FF {marker:02X} at byte {pos} runs past the end")
        pos = end
        if marker == 0xDA:  # SOS: the entropy-coded data follows its header, up to the next real marker
            start, scans = pos, scans + 1
            while True:
                ff = data.find(b"\xff", pos)
                if ff < 0 or ff + 1 >= len(data):
                    raise ValueError("not a valid JPEG file: a scan runs to the end without EOI")
                if data[ff + 1] == 0x00 or 0xD0 <= data[ff + 1] <= 0xD7:  # stuffed byte or restart marker
                    pos = ff + 2
                    continue
                pos = ff
                break
            scan += pos - start
    if scans == 0:
        raise ValueError("not a valid JPEG file: no SOS (start of scan) marker")
    return scan


#: Default quality sweeps, by registered name, chosen on 32x32 colour photographs: each runs from
#: the codec's lowest rate (its headers set a floor: AVIF's, JPEG 2000's) to about 8 bits per pixel,
#: for JPEG in its scan alone (``bpp_payload``); the rates themselves are measured where they are
#: used (the codecs chapter, ``bench/``).
QUALITIES: dict[str, tuple[int, ...]] = {
    "jpeg": (1, 5, 10, 20, 30, 50, 70, 85, 95, 97),
    "webp": (0, 5, 10, 25, 50, 75, 85, 90, 95, 100),
    "avif": (0, 10, 20, 30, 40, 50, 60, 70, 80, 90),
    "jpegxl": (0, 10, 20, 40, 60, 75, 85, 90, 95, 97),
    "jpeg2000": (18, 20, 22, 25, 28, 30, 33, 35, 38, 40),
}


def classical_codecs(names: Sequence[str] | None = None,
                     qualities: Mapping[str, Sequence[int]] | None = None) -> list[Codec]:
    """The classical codecs at each quality of their sweep, name by name.

    Args:
        names: registered names among :data:`QUALITIES` (default: all five, in its order).
        qualities: sweeps replacing :data:`QUALITIES`' for some names.

    Returns:
        One codec per (name, quality), qualities in the order given.

    Raises:
        ValueError: an unknown name, a sweep for a name not asked for, an empty sweep or a bad quality.

    Example:
        >>> [c.label() for c in classical_codecs(["jpeg"], {"jpeg": (10, 90)})]
        ['JPEG (quality 10)', 'JPEG (quality 90)']
    """
    names = list(QUALITIES) if names is None else list(names)
    sweeps = {**QUALITIES, **(qualities or {})}
    for name in names:
        if name not in QUALITIES:
            raise ValueError(f"classical codec names must be among {tuple(QUALITIES)}; got {name!r}")
    extra = sorted(set(qualities or {}) - set(names))
    if extra:
        raise ValueError(f"qualities given for {extra}, which are not among the names asked for {names}")
    out: list[Codec] = []
    for name in names:
        if len(sweeps[name]) == 0:
            raise ValueError(f"the quality sweep of {name!r} is empty")
        out.extend(CODECS.get(name)(q) for q in sweeps[name])
    return out
