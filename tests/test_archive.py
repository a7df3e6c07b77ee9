"""cae_lib.archive: a run exported, imported into an empty cache and loaded without training; every bad archive refused."""

import json
import zipfile

import numpy as np
import pytest

from cae_lib import archive, cache
from cae_lib.cli import main
from cae_lib.data import CLASS_NAMES, CifarData
from cae_lib.models import CAESpec
from cae_lib.training import RunConfig, run

pytestmark = pytest.mark.slow


def _data(seed=1):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10, dtype=np.int64), 100)
    images = rng.integers(0, 256, size=(len(labels), 32, 32, 3), dtype=np.uint8)
    return CifarData(images, labels, CLASS_NAMES, f"synthetic {seed}")


def _config():
    return RunConfig(name="t", profile="smoke", epochs=1, batch_size=16, model=CAESpec(filters=(4, 6)),
                     early_stopping_patience=None)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    data = _data()
    source = tmp_path_factory.mktemp("source")
    first = run(_config(), data=data, cache_dir=source)
    cache.memo("squares", {"data": data.fingerprint}, lambda: {"x": np.arange(3) ** 2}, cache_dir=source)
    (source / "half-0123456789abcdef").mkdir()  # a run still training: no manifest
    path = tmp_path_factory.mktemp("out") / "runs.zip"
    found = archive.export(path, cache_dir=source)
    return data, first, path, found


def _rewrite(src, dst, change):
    """Copy an archive, passing each member's (name, bytes) through ``change`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            changed = change(name, zin.read(name))
            if changed is not None:
                zout.writestr(changed[0], changed[1])
    return dst


def test_an_imported_run_loads_without_training_and_equals_the_exported_one(exported, tmp_path):
    data, first, path, found = exported
    assert sorted(e.kind for e in found) == ["result", "run"]  # the unfinished folder is not exported
    report = archive.import_archive(path, cache_dir=tmp_path, data=data)
    assert sorted(report["imported"]) == sorted(e.path for e in found) and not report["kept"]
    again = run(_config(), data=data, cache_dir=tmp_path)
    assert not again.trained and again.key == first.key
    assert again.test_metrics == first.test_metrics
    x = data.images[:4].astype(np.float32) / 255
    np.testing.assert_array_equal(again.model.predict(x, verbose=0), first.model.predict(x, verbose=0))
    assert archive.import_archive(path, cache_dir=tmp_path, data=data)["kept"] == report["imported"]  # never overwritten
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".import-")]  # no staging left behind


def test_an_unfinished_folder_is_moved_aside_not_deleted(exported, tmp_path):
    data, first, path, _ = exported
    half = tmp_path / first.path.name
    half.mkdir(parents=True)
    (half / "progress.txt").write_text("epoch 1")
    with pytest.warns(RuntimeWarning, match="moved to"):
        report = archive.import_archive(path, cache_dir=tmp_path, data=data)
    assert report["moved_aside"] == [first.path.name]
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(first.path.name + ".broken-")]
    assert len(kept) == 1 and (kept[0] / "progress.txt").read_text() == "epoch 1"


def test_runs_of_other_data_are_refused_and_nothing_lands(exported, tmp_path):
    _, _, path, _ = exported
    with pytest.raises(archive.ArchiveError, match="computed on data .* point CAE_DATA"):
        archive.import_archive(path, cache_dir=tmp_path, data=_data(seed=2))
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.parametrize("damage, message", [
    ("truncate", "not a readable zip"),
    ("flip", "does not match its SHA-256"),
    ("no_index", "no archive.json"),
    ("escape", "could leave the cache"),
    ("version", "was made by cae_lib"),
    ("wrong_key", "not where the cache keeps|does not have the key"),
    ("extra", "does not list"),
])
def test_a_damaged_or_foreign_archive_is_refused_with_one_line_and_nothing_lands(exported, tmp_path, damage, message):
    data, _, path, found = exported
    run_entry = next(e for e in found if e.kind == "run")
    bad = tmp_path / "bad.zip"
    if damage == "truncate":
        bad.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        def change(name, payload):
            if name == archive.INDEX:
                index = json.loads(payload)
                if damage == "no_index":
                    return None
                if damage == "escape":
                    index["entries"][0]["files"]["../../evil"] = {"size": 1, "sha256": "0"}
                if damage == "version":
                    index["cae_lib"] = "0.0.1"
                if damage == "wrong_key":
                    for e in index["entries"]:
                        if e["kind"] == "run":
                            e["key"] = "f" * 64
                return name, json.dumps(index)
            if damage == "flip" and name == f"{run_entry.path}/model.keras":
                return name, payload[:-1] + bytes([payload[-1] ^ 1])
            return name, payload

        _rewrite(path, bad, change)
        if damage == "extra":
            with zipfile.ZipFile(bad, "a") as zf:
                zf.writestr("stray/file.txt", "x")
    cache_dir = tmp_path / "cache"
    with pytest.raises(archive.ArchiveError, match=message) as info:
        archive.import_archive(bad, cache_dir=cache_dir, data=data)
    assert "\n" not in str(info.value)
    assert [p.name for p in cache_dir.iterdir()] == []  # all or nothing: not one entry, no staging folder


def test_export_never_overwrites_and_says_when_there_is_nothing(exported, tmp_path):
    _, first, path, _ = exported
    before = path.read_bytes()
    with pytest.raises(archive.ArchiveError, match="exists"):
        archive.export(path, cache_dir=first.path.parent)
    assert path.read_bytes() == before
    with pytest.raises(archive.ArchiveError, match="holds no finished"):
        archive.export(tmp_path / "empty.zip", cache_dir=tmp_path / "empty-cache")
    assert not (tmp_path / "empty.zip").exists()


def test_the_command_line_reports_a_bad_archive_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert main(["runs", "import", str(bad), "--cache", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_an_archive_imports_from_a_url_only_with_its_sha256(exported, tmp_path, capsys):
    data, first, path, _ = exported
    url = path.resolve().as_uri()  # file://, through the same keras.utils.get_file a release asset goes through
    digest = cache.sha256(path)
    with pytest.raises(archive.ArchiveError, match="needs the archive's SHA-256"):
        archive.fetch(url, None, cache_dir=tmp_path / "c")
    with pytest.raises(archive.ArchiveError, match="is not the archive of SHA-256"):
        archive.fetch(url, "0" * 64, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "downloads" / path.name).exists()  # a download of another hash is not kept
    fetched = archive.fetch(url, digest.upper(), cache_dir=tmp_path / "c")
    assert cache.sha256(fetched) == digest and fetched.parent == tmp_path / "c" / "downloads"
    report = archive.import_archive(fetched, cache_dir=tmp_path / "c", data=data)
    assert report["imported"] and not run(_config(), data=data, cache_dir=tmp_path / "c").trained
    assert main(["runs", "import", url, "--cache", str(tmp_path / "d")]) == 2
    assert "--sha256 HASH" in capsys.readouterr().err


def test_export_prints_the_sha256_a_reader_imports_with(exported, tmp_path, capsys):
    _, first, _, _ = exported
    out = tmp_path / "again.zip"
    assert main(["runs", "export", str(out), "--cache", str(first.path.parent)]) == 0
    assert f"sha256 {cache.sha256(out)}" in capsys.readouterr().out
