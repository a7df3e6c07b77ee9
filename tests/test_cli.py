"""The command line: one line per error, a non-zero exit, and `colorize` that never overwrites an input."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from cae_lib.cli import main


def test_list_prints_every_experiment_and_search(capsys):
    from cae_lib import experiments

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in experiments.names())
    assert "latent_search" in out


def test_unknown_experiment_is_a_clear_error(capsys):
    assert main(["train", "nope", "--profile", "smoke"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown experiment 'nope'") and "Traceback" not in err


def test_train_needs_names_or_all(capsys):
    assert main(["train", "--profile", "smoke"]) == 2
    assert "--all" in capsys.readouterr().err


def test_missing_data_source_is_a_clear_error(capsys, tmp_path):
    assert main(["data", "--source", str(tmp_path / "absent.zip")]) == 2
    assert "absent.zip" in capsys.readouterr().err


def test_cache_that_is_a_file_is_one_line_and_exit_2(tmp_path, tiny_zip):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run(
        [sys.executable, "-m", "cae_lib", "train", "given_mse", "--profile", "smoke", "--source", str(tiny_zip),
         "--cache", str(blocker), "--verbose", "0"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "file" in lines[0] and "Traceback" not in proc.stderr


def test_import_is_light():
    code = (
        "import sys, cae_lib, cae_lib.training, cae_lib.tasks, cae_lib.cache, cae_lib.evaluation, "
        "cae_lib.experiments, cae_lib.profiles, cae_lib.notebook, cae_lib.cli, cae_lib.baselines, "
        "cae_lib.colorization, cae_lib.restoration;"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
@pytest.mark.realdata
def test_train_smoke_on_real_data_beats_the_mean_image(cifar_zip, tmp_path):
    from cae_lib import metrics, tasks
    from cae_lib.data import load_data

    cmd = [sys.executable, "-m", "cae_lib", "train", "given_mse", "--profile", "smoke", "--learning-rate", "0.01",
           "--source", str(cifar_zip), "--cache", str(tmp_path), "--verbose", "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    scores = json.loads(out[out.index("{"):])
    assert scores["n_images"] == 100  # 10 test images per class in the smoke profile
    data = tasks.task_data("reconstruct", "smoke", data=load_data(cifar_zip))
    mean_image = np.broadcast_to(data.x_train.mean(axis=0), data.x_test.shape)
    assert scores["psnr_global_db"] > metrics.psnr_global(data.y_test, mean_image) + 2.0
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    assert "loaded from cache" in again


# --------------------------------------------------------------------------- colorize


@pytest.fixture(scope="module")
def colorize_args(tiny_zip, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return ["--run", "colorize", "--profile", "smoke", "--source", str(tiny_zip), "--cache", str(cache),
            "--verbose", "0"]


def _png(path, image):
    assert cv2.imwrite(str(path), image)
    return path


@pytest.mark.slow
def test_colorize_writes_new_files_of_every_size(tmp_path, colorize_args, capsys):
    rng = np.random.default_rng(1)
    inputs = [
        _png(tmp_path / "dot.png", rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)),
        _png(tmp_path / "wide.png", rng.integers(0, 256, (333, 500, 3), dtype=np.uint8)),
        _png(tmp_path / "grey.png", rng.integers(0, 256, (40, 30), dtype=np.uint8)),
    ]
    before = {p: p.read_bytes() for p in inputs}
    assert main(["colorize", *map(str, inputs), "-o", str(tmp_path / "out"), *colorize_args]) == 0
    for p in inputs:
        out = cv2.imread(str(tmp_path / "out" / f"{p.stem}_colorized.png"), cv2.IMREAD_UNCHANGED)
        source = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        assert out.shape[:2] == source.shape[:2] and out.shape[2] == 3
        assert p.read_bytes() == before[p]  # inputs untouched
    # a second call refuses to overwrite, --force overwrites
    assert main(["colorize", str(inputs[0]), "-o", str(tmp_path / "out"), *colorize_args]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["colorize", str(inputs[0]), "-o", str(tmp_path / "out"), "--force", *colorize_args]) == 0


@pytest.mark.slow
def test_colorize_never_overwrites_an_input_even_with_force(tmp_path, colorize_args, capsys):
    src = _png(tmp_path / "photo.png", np.full((8, 8, 3), 90, np.uint8))
    before = src.read_bytes()
    assert main(["colorize", str(src), "-o", str(src), "--force", *colorize_args]) == 2
    assert "refusing to overwrite an input" in capsys.readouterr().err
    assert src.read_bytes() == before


@pytest.mark.slow
def test_colorize_force_replaces_a_symlinked_name_never_the_file_it_points_to(tmp_path, colorize_args, capsys):
    src = _png(tmp_path / "photo.png", np.full((8, 8, 3), 90, np.uint8))
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"someone else's file")
    (out / "photo_colorized.png").symlink_to(victim)
    assert main(["colorize", str(src), "-o", str(out), *colorize_args]) == 2  # an existing name, even a link
    assert main(["colorize", str(src), "-o", str(out), "--force", *colorize_args]) == 0
    assert victim.read_bytes() == b"someone else's file"
    assert not (out / "photo_colorized.png").is_symlink()
    assert cv2.imread(str(out / "photo_colorized.png")).shape == (8, 8, 3)
    assert sorted(p.name for p in out.iterdir()) == ["photo_colorized.png"]  # no temporary file left


def _bad_input(folder, kind):
    path = folder / f"{kind}.png"
    if kind == "zero-size":
        path.write_bytes(b"")
    elif kind == "unreadable":
        path.write_text("not an image")
    elif kind == "folder":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    "kind, match",
    [("missing", "no such file"), ("zero-size", "empty"), ("unreadable", "not an image"), ("folder", "not a file")],
)
def test_colorize_refuses_bad_inputs_with_one_line(tmp_path, kind, match, capsys):
    bad = _bad_input(tmp_path, kind)
    good = _png(tmp_path / "good.png", np.zeros((4, 4, 3), np.uint8))
    assert main(["colorize", str(good), str(bad), "-o", str(tmp_path / "out"), "--profile", "smoke"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert not (tmp_path / "out").exists()  # nothing written when one input is bad


def test_read_image_converts_alpha_and_16_bit(tmp_path):
    from cae_lib.cli import read_image

    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 255  # red in BGR order
    rgba[..., 3] = 10
    assert read_image(str(_png(tmp_path / "a.png", rgba))).shape == (4, 4, 3)
    np.testing.assert_allclose(read_image(str(tmp_path / "a.png"))[0, 0], [1.0, 0.0, 0.0])
    deep = np.full((4, 4), 65535, np.uint16)
    np.testing.assert_allclose(read_image(str(_png(tmp_path / "d.png", deep))), 1.0)


def test_runs_status_counts_the_finished_runs_and_says_how_to_skip_the_training(tiny_zip, tmp_path, capsys):
    from cae_lib import experiments

    args = ["runs", "status", "--source", str(tiny_zip), "--cache", str(tmp_path)]
    assert main([*args, "--profile", "full"]) == 0
    out = capsys.readouterr().out
    assert f"0 of the book's {len(experiments.names())} runs are in the cache (full profile)" in out
    assert "cae runs import FILE" in out
    assert main([*args, "--profile", "smoke"]) == 0
    assert "cae runs import" not in capsys.readouterr().out  # a smoke build trains in minutes


def test_runs_export_and_import_need_the_archive(capsys):
    assert main(["runs", "export"]) == 2
    assert "needs the archive" in capsys.readouterr().err


def _jpeg_with_orientation(image, orientation: int) -> bytes:
    """A JPEG of ``image`` with an EXIF APP1 segment holding only the Orientation tag (0x0112), built by hand."""
    import struct

    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    app1 = b"Exif\x00\x00" + tiff
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def test_read_image_applies_the_exif_orientation_as_viewers_do(tmp_path):
    from cae_lib.cli import read_image

    image = np.zeros((16, 32, 3), np.uint8)
    image[:, :16] = 255  # left half white
    path = tmp_path / "portrait.jpg"
    path.write_bytes(_jpeg_with_orientation(image, 6))  # 6: rotate 90 degrees clockwise to display
    shown = read_image(str(path))
    assert shown.shape == (32, 16, 3)
    assert shown[:8].mean() > 0.9 and shown[-8:].mean() < 0.1  # the white half is now on top


def _animated_gif(path, frames):
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)


@pytest.mark.parametrize("kind", ["multi-page TIFF", "animated GIF"])
def test_read_image_refuses_a_file_of_several_frames(tmp_path, capsys, kind):
    from cae_lib.cli import read_image

    frames = [np.full((4, 4, 3), v, np.uint8) for v in (0, 100, 200)]
    if kind == "animated GIF":
        path = tmp_path / "animation.gif"
        _animated_gif(path, frames)
    else:
        ok, data = cv2.imencodemulti(".tiff", frames)
        assert ok
        path = tmp_path / "pages.tiff"
        path.write_bytes(data.tobytes())
    with pytest.raises(ValueError, match="holds 3 frames"):
        read_image(str(path))
    assert main(["colorize", str(path), "-o", str(tmp_path / "out"), "--profile", "smoke"]) == 2
    assert "holds 3 frames" in capsys.readouterr().err


def test_colorize_refuses_an_existing_file_as_the_output_folder_before_loading_anything(tmp_path, capsys):
    inputs = [_png(tmp_path / f"{n}.png", np.zeros((4, 4, 3), np.uint8)) for n in ("a", "b")]
    (tmp_path / "taken").write_text("a file")
    assert main(["colorize", *map(str, inputs), "-o", str(tmp_path / "taken"), "--profile", "smoke"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "an existing file, not a folder" in err[0]


def test_sigterm_is_handled_like_ctrl_c(monkeypatch, capsys):
    import os
    import signal
    import time

    from cae_lib import cli

    def terminated_while_working(args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        return 0

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(cli, "_cmd_list", terminated_while_working)
    assert main(["list"]) == 128 + signal.SIGTERM
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted (SIGTERM)" in err[0] and "resumes" in err[0]
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR chunk claiming ``width`` x ``height`` pixels, then a tiny IDAT and IEND."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [20000, 40000])
def test_a_huge_claimed_image_is_refused_from_its_header_before_decoding(tmp_path, side, capsys):
    from cae_lib.cli import read_image

    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(side, side))
    with pytest.raises(ValueError, match="more than the limit of 50,000,000; pass --max-pixels"):
        read_image(str(path))
    assert main(["compress", str(path), "-o", str(tmp_path / "out"), "--profile", "smoke"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--max-pixels" in err[0]


def test_max_pixels_lowers_and_raises_the_limit(tmp_path):
    from cae_lib.cli import read_image

    path = _png(tmp_path / "small.png", np.zeros((20, 30, 3), np.uint8))
    assert read_image(str(path)).shape == (20, 30, 3)
    with pytest.raises(ValueError, match="30x20 pixels, more than the limit of 100"):
        read_image(str(path), max_pixels=100)


def test_an_elongated_image_is_refused_before_it_is_enlarged():
    from cae_lib.tasks.colorize import work_shape

    with pytest.raises(ValueError, match="more than 4096 on a side"):
        work_shape(1, 4000, 32, 4)  # 93 bytes of PNG that would have become a 32 x 128,000 image
    with pytest.raises(ValueError, match="smaller --work-size"):
        work_shape(1, 1, 20000, 4)
    assert work_shape(300, 451, 32, 4) == (32, 48)
