"""`cae compress` and `cae decompress`: real files that decode to what the encoder reconstructed, one-line errors."""

import os

import cv2
import numpy as np
import pytest

from cae_lib.cli import main, write_new_file


@pytest.fixture(scope="module")
def codec_args(tiny_zip, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return ["--profile", "smoke", "--source", str(tiny_zip), "--cache", str(cache), "--verbose", "0"]


def _png(path, image):
    assert cv2.imwrite(str(path), image)
    return path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.slow
def test_round_trip_of_a_photograph_and_odd_sizes_is_the_encoders_reconstruction(tmp_path, codec_args, capsys):
    from skimage import data as skdata

    from cae_lib import experiments
    from cae_lib.codecs.learned import LearnedCodec
    from cae_lib.data import load_data
    from cae_lib.training import run

    astronaut = cv2.cvtColor(cv2.resize(skdata.astronaut(), (200, 200), interpolation=cv2.INTER_AREA),
                             cv2.COLOR_RGB2BGR)
    rng = np.random.default_rng(3)
    inputs = [_png(tmp_path / "astronaut.png", astronaut),
              _png(tmp_path / "odd.png", rng.integers(0, 256, (7, 13, 3), dtype=np.uint8)),
              _png(tmp_path / "grey.png", rng.integers(0, 256, (9, 5), dtype=np.uint8))]
    before = {p: p.read_bytes() for p in inputs}
    assert main(["compress", *map(str, inputs), "-o", str(tmp_path / "small"), *codec_args]) == 0
    assert capsys.readouterr().out.count("bits per pixel") == len(inputs)
    files = [tmp_path / "small" / f"{p.stem}.cae" for p in inputs]
    assert all(f.exists() for f in files) and all(p.read_bytes() == before[p] for p in inputs)
    assert main(["decompress", *map(str, files), "-o", str(tmp_path / "back"), *codec_args]) == 0

    # the decoded PNG is exactly the encoder's reconstruction, rounded to 8 bits
    source, cache = codec_args[3], codec_args[5]
    config = experiments.experiment(experiments.CODEC, profile="smoke")
    codec = LearnedCodec(run(config, data=load_data(source), cache_dir=cache).model, experiments.CODEC)
    for p in inputs:
        image = cv2.imread(str(p), cv2.IMREAD_COLOR)[..., ::-1]
        expected = np.round(np.clip(codec.reconstruct(image[None].copy())[0], 0, 1) * 255).astype(np.uint8)
        decoded = cv2.imread(str(tmp_path / "back" / f"{p.stem}.png"), cv2.IMREAD_COLOR)[..., ::-1]
        assert decoded.shape == image.shape
        np.testing.assert_array_equal(decoded, expected)


@pytest.mark.slow
def test_compress_refuses_to_overwrite_and_force_replaces_the_name_not_the_link(tmp_path, codec_args, capsys):
    src = _png(tmp_path / "photo.png", np.full((8, 8, 3), 90, np.uint8))
    out = tmp_path / "out"
    assert main(["compress", str(src), "-o", str(out), *codec_args]) == 0
    capsys.readouterr()
    assert main(["compress", str(src), "-o", str(out), *codec_args]) == 2
    assert "exists; pass --force" in _one_error_line(capsys)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "photo.cae").unlink()
    (out / "photo.cae").symlink_to(victim)
    assert main(["compress", str(src), "-o", str(out), "--force", *codec_args]) == 0
    assert victim.read_text() == "keep me" and not (out / "photo.cae").is_symlink()


def test_compress_never_overwrites_an_input(tmp_path, capsys):
    src = tmp_path / "photo.cae"
    src.write_bytes(b"an input that happens to end in .cae")
    assert main(["compress", str(src), "-o", str(src), "--force", "--profile", "smoke"]) == 2
    assert "refusing to overwrite an input" in _one_error_line(capsys)
    assert src.read_bytes() == b"an input that happens to end in .cae"


@pytest.mark.parametrize("content, match", [
    (b"", "not a cae codec file"),
    (b"GIF89a not ours", "not a cae codec file"),
    (b"CA", "truncated"),
    (b"CAE\x07\x05rd_q3", "format version 7"),
    (b"CAE\x01\x05rd", "truncated"),
])
def test_decompress_refuses_foreign_truncated_and_other_version_files_in_one_line(tmp_path, content, match, capsys):
    bad = tmp_path / "bad.cae"
    bad.write_bytes(content)
    assert main(["decompress", str(bad), "-o", str(tmp_path / "out"), "--profile", "smoke"]) == 2
    assert match in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_decompress_names_an_unknown_model(tmp_path, capsys):
    from cae_lib.codecs import container

    bad = tmp_path / "other.cae"
    bad.write_bytes(container.pack("nobody", (4, 4), b"\x01", digest=b""))
    assert main(["decompress", str(bad), "-o", str(tmp_path / "out"), "--profile", "smoke"]) == 2
    assert "'nobody' is not one of this cae_lib's runs" in _one_error_line(capsys)


@pytest.mark.slow
def test_decompress_refuses_a_damaged_file_in_one_line(tmp_path, codec_args, capsys):
    src = _png(tmp_path / "photo.png", np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    assert main(["compress", str(src), "-o", str(tmp_path / "small"), *codec_args]) == 0
    data = bytearray((tmp_path / "small" / "photo.cae").read_bytes())
    data[-1] ^= 0x40
    (tmp_path / "small" / "photo.cae").write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["decompress", str(tmp_path / "small" / "photo.cae"), "-o", str(tmp_path / "back"), *codec_args]) == 2
    assert "checksum does not match" in _one_error_line(capsys)
    assert not (tmp_path / "back").exists()


def test_compress_refuses_a_non_codec_run(tmp_path, capsys):
    src = _png(tmp_path / "photo.png", np.zeros((4, 4, 3), np.uint8))
    assert main(["compress", str(src), "-o", str(tmp_path / "out"), "--run", "given_bce", "--profile", "smoke"]) == 2
    assert "is not a learned codec" in _one_error_line(capsys)


def test_write_new_file_is_atomic_and_keeps_what_it_does_not_own(tmp_path):
    target = tmp_path / "a" / "out.bin"
    write_new_file(target, b"one")
    assert target.read_bytes() == b"one"
    with pytest.raises(ValueError, match="exists; pass --force"):
        write_new_file(target, b"two")
    write_new_file(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.bin"]  # no temporary file left
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ValueError, match="could not be written"):
        write_new_file(tmp_path / "file" / "x.bin", b"x")  # its folder is a file


def test_an_interrupted_write_leaves_neither_a_torn_file_nor_a_temporary(tmp_path, monkeypatch):
    # A SIGTERM is turned into KeyboardInterrupt by main(); here it arrives while the data is being synced.
    target = tmp_path / "out.png"

    def interrupted(fd):
        raise KeyboardInterrupt("SIGTERM")

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_new_file(target, b"new image")
    assert list(tmp_path.iterdir()) == []  # nothing under the final name, so the rerun is not refused
    target.write_bytes(b"old image")
    with pytest.raises(KeyboardInterrupt):
        write_new_file(target, b"new image", force=True)
    assert target.read_bytes() == b"old image" and list(tmp_path.iterdir()) == [target]
    monkeypatch.undo()
    write_new_file(target, b"new image", force=True)
    assert target.read_bytes() == b"new image"


@pytest.mark.parametrize("failure, reason", [("full", "No space left on device"), ("folder is a file", "exists")])
def test_an_unwritable_output_says_why_and_leaves_nothing(tmp_path, monkeypatch, failure, reason):
    import errno
    import os

    if failure == "full":
        target = tmp_path / "out" / "x.png"

        def full(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr("cae_lib.cli.os.fsync", full)
    else:
        (tmp_path / "out").write_bytes(b"")
        target = tmp_path / "out" / "x.png"
    with pytest.raises(ValueError, match=rf"{target}: could not be written \(.*{reason}.*\)"):
        write_new_file(target, b"data")
    assert not os.path.lexists(target)
    if target.parent.is_dir():
        assert list(target.parent.iterdir()) == []  # no temporary file left


@pytest.mark.slow
@pytest.mark.parametrize("command", ["compress", "colorize"])
def test_inputs_are_decoded_one_at_a_time_whatever_their_number(tmp_path, monkeypatch, codec_args, command,
                                                                capsys):
    import weakref

    from cae_lib import cli

    decoded, live_at_write = [], []
    read_image, write = cli.read_image, cli.write_new_file

    def reading(path, max_pixels):
        image = read_image(path, max_pixels)
        decoded.append(weakref.ref(image))
        return image

    def writing(target, data, *, force=False):
        live_at_write.append(sum(r() is not None for r in decoded))
        write(target, data, force=force)

    monkeypatch.setattr(cli, "read_image", reading)
    monkeypatch.setattr(cli, "write_new_file", writing)
    rng = np.random.default_rng(5)
    inputs = [_png(tmp_path / f"photo{i}.png", rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)) for i in range(5)]
    extra = ["--run", "colorize"] if command == "colorize" else []
    assert main([command, *map(str, inputs), "-o", str(tmp_path / "out"), *extra, *codec_args]) == 0, \
        capsys.readouterr().err
    assert len(decoded) == 2 * len(inputs)  # every input checked first, then decoded again when its turn comes
    assert live_at_write == [1 if command == "compress" else 0] * len(inputs) or max(live_at_write) <= 1
