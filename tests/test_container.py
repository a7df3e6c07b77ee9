"""cae_lib.codecs.container: the file layout byte by byte (hand-built headers, zlib's CRC-32), and every refusal."""

import zlib

import numpy as np
import pytest

from cae_lib.codecs import container as K
from cae_lib.codecs.container import MAX_SIDE, FormatError, header_size, pack, peek_name, unpack

DIGEST = b"model-weights-digest"

# unsigned LEB128 by hand: 7 bits per byte, least significant group first, high bit = "more follows"
LEB128 = {
    1: b"\x01",
    32: b"\x20",
    127: b"\x7f",
    128: b"\x80\x01",
    300: b"\xac\x02",
    16383: b"\xff\x7f",
    16384: b"\x80\x80\x01",
    624485: b"\xe5\x8e\x26",  # the example of the LEB128 article (Wikipedia, "LEB128")
    MAX_SIDE: b"\xff\xff\x7f",
}


def _file(name="rd_q3", shape=(32, 32), payload=b"payload bytes", digest=DIGEST):
    return pack(name, shape, payload, digest=digest)


def test_constants():
    assert K.MAGIC == b"CAE" and K.VERSION == 1 and MAX_SIDE == 2**21 - 1


def test_the_documented_16_byte_header_byte_by_byte():
    payload = b"\x01\x02\x03"
    data = pack("rd_q3", (32, 32), payload, digest=b"w")
    head = b"CAE" + b"\x01" + b"\x05" + b"rd_q3" + b"\x20" + b"\x20"
    crc = zlib.crc32(b"w" + head + payload)  # the CRC-32 of digest, header and payload, one after the other
    assert data == head + crc.to_bytes(4, "little") + payload
    assert len(data) - len(payload) == 16 == header_size(data)
    assert unpack(data, digest=b"w") == ("rd_q3", (32, 32), payload)
    assert peek_name(data) == "rd_q3"


@pytest.mark.parametrize("side", sorted(LEB128))
def test_sides_are_unsigned_leb128(side):
    data = pack("m", (side, 5), b"", digest=DIGEST)
    expected_head = b"CAE\x01\x01m" + LEB128[side] + b"\x05"
    assert data[: len(expected_head)] == expected_head
    assert header_size(data) == len(expected_head) + 4 == len(data)
    assert unpack(data, digest=DIGEST) == ("m", (side, 5), b"")
    flipped = pack("m", (5, side), b"", digest=DIGEST)
    assert unpack(flipped, digest=DIGEST)[1] == (5, side) and len(flipped) == len(data)


def test_round_trip_many_names_shapes_and_payloads():
    rng = np.random.default_rng(0)
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz_0123456789-. ~"))
    for _ in range(300):
        name = "".join(rng.choice(alphabet, int(rng.integers(1, 256))))
        shape = tuple(int(s) for s in np.exp(rng.uniform(0, np.log(MAX_SIDE), 2)).astype(int).clip(1, MAX_SIDE))
        payload = rng.bytes(int(rng.integers(0, 300)))
        digest = rng.bytes(32)
        data = pack(name, shape, payload, digest=digest)
        side_bytes = sum(1 + (s >= 2**7) + (s >= 2**14) for s in shape)  # 7 bits per LEB128 byte
        assert header_size(data) == 3 + 1 + 1 + len(name) + side_bytes + 4 == len(data) - len(payload)
        assert unpack(data, digest=digest) == (name, shape, payload)
        assert peek_name(data) == name
    longest = "x" * 255
    assert unpack(pack(longest, (MAX_SIDE, MAX_SIDE), b"z", digest=b""), digest=b"") == (
        longest, (MAX_SIDE, MAX_SIDE), b"z")


def test_bytearray_and_memoryview_are_read():
    data = _file()
    assert unpack(bytearray(data), digest=DIGEST) == unpack(memoryview(data), digest=DIGEST) == unpack(
        data, digest=DIGEST)


# --------------------------------------------------------------------------- refusals


def test_not_a_codec_file():
    rng = np.random.default_rng(1)
    for data in (b"", b"\x00", b"PNG\x89....", b"\xff\xd8\xff\xe0" + rng.bytes(40), rng.bytes(3), b"cae\x01\x05"):
        with pytest.raises(FormatError, match="not a cae codec file"):
            unpack(data, digest=DIGEST)
        with pytest.raises(FormatError, match="not a cae codec file"):
            peek_name(data)
    for _ in range(200):
        data = rng.bytes(int(rng.integers(0, 64)))
        with pytest.raises(FormatError):
            unpack(data, digest=DIGEST)
    with pytest.raises(FormatError, match="expected the bytes"):
        unpack("CAE\x01", digest=DIGEST)
    assert issubclass(FormatError, ValueError)


def test_wrong_magic():
    data = _file()
    for i in range(3):
        damaged = data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1 :]
        with pytest.raises(FormatError, match="does not start with b'CAE'"):
            unpack(damaged, digest=DIGEST)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_another_version_is_refused_naming_it(version):
    data = bytearray(_file())
    data[3] = version
    with pytest.raises(FormatError, match=f"format version {version}; this cae_lib reads version 1"):
        unpack(bytes(data), digest=DIGEST)
    with pytest.raises(FormatError, match=f"version {version}"):
        peek_name(bytes(data))


@pytest.mark.parametrize("shape", [(32, 32), (200, 17000), (MAX_SIDE, 3)])
def test_every_prefix_of_a_file_is_refused(shape):
    data = _file(shape=shape, payload=bytes(range(40)))
    for n in range(len(data)):
        with pytest.raises(FormatError, match="truncated|not a cae codec file") as caught:
            unpack(data[:n], digest=DIGEST)
        if 0 < n < header_size(data):
            assert "truncated" in str(caught.value)  # a header cut short says so
        elif n >= header_size(data):
            assert "checksum does not match" in str(caught.value)  # the payload is covered by the checksum


def test_every_flipped_bit_is_refused():
    data = _file(name="abc", shape=(300, 9), payload=bytes(range(1, 25)))
    for i in range(len(data)):
        for bit in range(8):
            damaged = data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]
            with pytest.raises(FormatError):
                unpack(damaged, digest=DIGEST)


def test_appended_bytes_are_refused():
    data = _file()
    for tail in (b"\0", b"x", b"\0" * 4):
        with pytest.raises(FormatError, match="checksum"):
            unpack(data + tail, digest=DIGEST)


def test_another_models_digest_is_refused_naming_the_model():
    data = _file(name="rd_q3")
    for other in (b"", DIGEST[:-1], DIGEST + b"\0", b"another training"):
        with pytest.raises(FormatError, match="another training of model 'rd_q3'"):
            unpack(data, digest=other)
    assert peek_name(data) == "rd_q3"  # the name is readable without the model


def test_damaged_headers():
    with pytest.raises(FormatError, match="zero pixels"):
        unpack(b"CAE\x01\x01m\x00\x05" + b"\0" * 4, digest=b"")
    with pytest.raises(FormatError, match="zero pixels"):
        peek_name(b"CAE\x01\x01m\x05\x00" + b"\0" * 4)
    with pytest.raises(FormatError, match="longer than three bytes"):
        unpack(b"CAE\x01\x01m\x80\x80\x80\x01\x05" + b"\0" * 4, digest=b"")
    with pytest.raises(FormatError, match="not ASCII"):
        unpack(b"CAE\x01\x02m\xe9\x05\x05" + b"\0" * 4, digest=b"")
    with pytest.raises(FormatError, match="truncated"):
        peek_name(b"CAE\x01\x09abc")  # the name is said to be 9 bytes long


def test_pack_refuses_what_the_header_cannot_hold():
    for name in ("", "é", "naïve", "名前", "x" * 256):
        with pytest.raises(ValueError, match="1 to 255 ASCII characters"):
            pack(name, (32, 32), b"", digest=DIGEST)
    for shape in ((0, 32), (32, 0), (MAX_SIDE + 1, 1), (1, MAX_SIDE + 1), (-1, 5)):
        with pytest.raises(ValueError, match=f"1 to {MAX_SIDE} pixels"):
            pack("m", shape, b"", digest=DIGEST)
