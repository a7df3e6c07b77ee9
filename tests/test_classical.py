"""cae_lib.codecs.classical: the same bytes as imagecodecs' encoders called directly, and JPEG scans parsed by hand."""

import cv2
import imagecodecs
import numpy as np
import pytest
from _data import synthetic
from skimage import data as skdata

from cae_lib import codecs as C
from cae_lib.codecs import classical
from cae_lib.data import to_float
from cae_lib.tasks import Reconstruct

NAMES = ("jpeg", "webp", "avif", "jpegxl", "jpeg2000")

# imagecodecs called as the documentation of each format says, independently of the classes' options
DIRECT = {
    "jpeg": lambda im, q: imagecodecs.jpeg_encode(im, level=q),  # libjpeg-turbo's default: 4:2:0
    "webp": lambda im, q: imagecodecs.webp_encode(im, level=q, lossless=False),
    "avif": lambda im, q: imagecodecs.avif_encode(im, level=q, speed=6),  # avifenc's default speed
    "jpegxl": lambda im, q: imagecodecs.jpegxl_encode(im, level=q),  # level <= 100: lossy
    "jpeg2000": lambda im, q: imagecodecs.jpeg2k_encode(im, level=q, codecformat="j2k"),
}
DECODE = {"jpeg": imagecodecs.jpeg_decode, "webp": imagecodecs.webp_decode, "avif": imagecodecs.avif_decode,
          "jpegxl": imagecodecs.jpegxl_decode, "jpeg2000": imagecodecs.jpeg2k_decode}
MID_QUALITY = {"jpeg": 50, "webp": 50, "avif": 50, "jpegxl": 60, "jpeg2000": 30}


def _photos(size=32):
    """Real photographs, centre-cropped square and shrunk to ``size`` by area averaging (as CIFAR-10's 32x32)."""
    out = []
    for name in ("astronaut", "coffee", "chelsea"):
        im = getattr(skdata, name)()
        h, w = im.shape[:2]
        s = min(h, w)
        im = im[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        out.append(cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(out)


PHOTOS = _photos()


def _psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


@pytest.mark.parametrize("name", NAMES)
def test_bytes_are_imagecodecs_own_and_decode_to_unit_floats(name):
    q = MID_QUALITY[name]
    codec = C.get_codec(name)(q)
    payloads = codec.encode(PHOTOS)
    assert payloads == [bytes(DIRECT[name](im, q)) for im in PHOTOS]
    decoded = codec.decode(payloads, PHOTOS.shape[1:])
    assert decoded.shape == PHOTOS.shape and decoded.dtype == np.float32
    assert decoded.min() >= 0.0 and decoded.max() <= 1.0
    np.testing.assert_array_equal(decoded[0], DECODE[name](payloads[0]).astype(np.float32) / 255)
    assert _psnr(decoded, to_float(PHOTOS)) > 20  # a real reconstruction, not noise


@pytest.mark.parametrize("name", NAMES)
def test_higher_quality_means_more_bytes_and_less_error(name):
    image = PHOTOS[:1]
    sizes, psnrs = [], []
    for q in classical.QUALITIES[name]:
        codec = C.get_codec(name)(q)
        payloads = codec.encode(image)
        sizes.append(len(payloads[0]))
        psnrs.append(_psnr(codec.decode(payloads, image.shape[1:]), to_float(image)))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert psnrs[-1] - psnrs[0] > 8  # the sweep spans a wide range of quality


def test_jpeg_options_are_the_libjpeg_turbo_defaults():
    im = PHOTOS[0]
    assert bytes(imagecodecs.jpeg_encode(im, level=75, subsampling="420")) == bytes(imagecodecs.jpeg_encode(im, level=75))
    assert bytes(imagecodecs.jpegxl_encode(im, level=60, lossless=False)) == bytes(imagecodecs.jpegxl_encode(im, level=60))


def test_jpeg_payload_is_the_scan_counted_by_hand():
    tiny = np.random.default_rng(0).integers(0, 256, (1, 8, 8, 3), dtype=np.uint8)
    codec = C.JPEG(75)
    (jpeg,) = codec.encode(tiny)
    # by hand: one SOS marker FF DA, its two-byte big-endian length, and the EOI FF D9 closing the file
    assert jpeg.count(b"\xff\xda") == 1 and jpeg.startswith(b"\xff\xd8") and jpeg.endswith(b"\xff\xd9")
    sos = jpeg.find(b"\xff\xda")
    header_end = sos + 2 + (jpeg[sos + 2] << 8 | jpeg[sos + 3])
    expected = len(jpeg) - 2 - header_end
    assert codec.payload_size(jpeg) == classical.jpeg_scan_bytes(jpeg) == expected
    assert 0 < expected < len(jpeg) / 2  # on a tiny image the headers and tables are most of the file


def test_jpeg_scan_counts_stuffed_bytes_restarts_and_several_scans():
    dqt = b"\xff\xdb\x00\x04\xff\xda"  # a segment whose content looks like an SOS marker: skipped by its length
    scan1 = b"\x12\xff\x00\x34\xff\xd0\x56"  # stuffed FF 00 and a restart marker are scan data: 7 bytes
    scan2 = b"\xab\xcd"
    sos = b"\xff\xda\x00\x03\x01"
    f = b"\xff\xd8" + dqt + sos + scan1 + b"\xff\xc4\x00\x02" + sos + scan2 + b"\xff\xff\xd9"  # fill byte before EOI
    assert classical.jpeg_scan_bytes(f) == len(scan1) + len(scan2)


def test_jpeg_payload_is_smaller_than_the_file_for_every_quality():
    for q in classical.QUALITIES["jpeg"]:
        codec = C.JPEG(q)
        for p in codec.encode(PHOTOS):
            assert 0 < codec.payload_size(p) < len(p)
    webp = C.WebP(50)
    assert [webp.payload_size(p) for p in webp.encode(PHOTOS)] == [len(p) for p in webp.encode(PHOTOS)]


@pytest.mark.parametrize(("payload", "match"), [
    (b"", "must start with the SOI marker"),
    (b"\x89PNG\r\n\x1a\n", "must start with the SOI marker"),
    (bytes(imagecodecs.webp_encode(PHOTOS[0], level=50, lossless=False)), "must start with the SOI marker"),
    (b"\xff\xd8\xff\xdb\x00\x04\x01\x02\xff\xd9", "no SOS"),
    (b"\xff\xd8\xff\xdb\x00\x40\x01", "runs past the end"),
    (b"\xff\xd8\xff\xda\x00\x03\x01\x12\x34", "without EOI"),
    (b"\xff\xd8\x00\x00", "no marker at byte 2"),
])
def test_not_a_jpeg_is_refused(payload, match):
    with pytest.raises(ValueError, match=match):
        C.JPEG(50).payload_size(payload)


def test_a_truncated_jpeg_is_refused():
    (jpeg,) = C.JPEG(50).encode(PHOTOS[:1])
    with pytest.raises(ValueError, match="not a valid JPEG"):
        classical.jpeg_scan_bytes(jpeg[:-2])


@pytest.mark.parametrize(("cls", "quality"), [
    (C.JPEG, 0), (C.JPEG, 101), (C.WebP, -1), (C.AVIF, 101), (C.JPEGXL, -5), (C.JPEG2000, 0), (C.JPEG2000, 101),
    (C.JPEG, 50.0), (C.JPEG, "50"), (C.JPEG, True), (C.WebP, None),
])
def test_invalid_qualities_are_refused(cls, quality):
    with pytest.raises(ValueError, match=rf"{cls.__name__} quality must be an integer in \["):
        cls(quality)


def test_quality_bounds_and_labels():
    assert C.JPEG(np.int64(1)).quality == 1 and C.AVIF(100).quality == 100 and C.JPEG2000(100).quality == 100
    assert [C.get_codec(n)(40).label() for n in NAMES] == [
        "JPEG (quality 40)", "WebP (quality 40)", "AVIF (quality 40)", "JPEG XL (quality 40)",
        "JPEG 2000 (PSNR target 40 dB)"]
    assert [C.get_codec(n).family for n in NAMES] == ["JPEG", "WebP", "AVIF", "JPEG XL", "JPEG 2000"]
    assert C.JPEG(50).values_kept((32, 32, 3)) is None


@pytest.mark.parametrize("images", [
    PHOTOS.astype(np.float32) / 255,
    PHOTOS[..., :1],
    PHOTOS[0],
    PHOTOS[:0],
])
def test_images_other_than_rgb_uint8_batches_are_refused(images):
    with pytest.raises(ValueError, match="images must be"):
        C.WebP(50).encode(images)


def test_decode_refuses_another_image_shape():
    codec = C.JPEG(50)
    with pytest.raises(ValueError, match=r"decodes to shape \(32, 32, 3\), not the images' \(16, 16, 3\)"):
        codec.decode(codec.encode(PHOTOS[:1]), (16, 16, 3))


def test_codecs_are_registered_by_name():
    assert [C.get_codec(n) for n in NAMES] == [C.JPEG, C.WebP, C.AVIF, C.JPEGXL, C.JPEG2000]
    assert [C.get_codec(n).name for n in NAMES] == list(NAMES)
    assert tuple(classical.QUALITIES) == NAMES and all(issubclass(C.get_codec(n), C.ImageCodec) for n in NAMES)


def test_classical_codecs_build_the_sweeps():
    every = C.classical_codecs()
    assert len(every) == sum(len(q) for q in classical.QUALITIES.values())
    assert [c.quality for c in every if c.name == "avif"] == list(classical.QUALITIES["avif"])
    some = C.classical_codecs(["jpeg2000", "webp"], {"webp": (10, 90)})
    assert [c.label() for c in some][-2:] == ["WebP (quality 10)", "WebP (quality 90)"]
    assert [c.name for c in some][:len(classical.QUALITIES["jpeg2000"])] == ["jpeg2000"] * 10
    with pytest.raises(ValueError, match="names must be among"):
        C.classical_codecs(["png"])
    with pytest.raises(ValueError, match="not among the names asked for"):
        C.classical_codecs(["jpeg"], {"webp": (50,)})
    with pytest.raises(ValueError, match="is empty"):
        C.classical_codecs(["jpeg"], {"jpeg": ()})
    with pytest.raises(ValueError, match="JPEG quality must be"):
        C.classical_codecs(["jpeg"], {"jpeg": (0,)})


def test_measure_counts_whole_files_and_jpeg_scans():
    x = to_float(PHOTOS)
    data = synthetic(Reconstruct(), x, x)
    n, h, w = PHOTOS.shape[:3]
    jpeg = C.JPEG(50)
    row = C.measure(jpeg, data)
    files = [bytes(imagecodecs.jpeg_encode(im, level=50)) for im in PHOTOS]
    assert row["bpp"] == pytest.approx(8 * sum(map(len, files)) / (n * h * w), rel=1e-12)
    assert row["bpp_payload"] == pytest.approx(8 * sum(map(classical.jpeg_scan_bytes, files)) / (n * h * w), rel=1e-12)
    assert row["bpp_payload"] < row["bpp"] and row["codec"] == "JPEG (quality 50)" and row["family"] == "JPEG"
    assert row["psnr_global_db"] == pytest.approx(_psnr(jpeg.decode(files, (h, w, 3)), x), abs=1e-3)
    webp = C.measure(C.WebP(50), data)
    assert webp["bpp_payload"] == webp["bpp"]
