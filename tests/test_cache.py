"""cae_lib.cache: atomic writes, manifests and keys, moving aside, locks, and cached results."""

import numpy as np
import pytest

from cae_lib import cache


def test_memo_computes_once_then_loads(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(4), "label": np.asarray("pca")}

    first = cache.memo("r", {"k": 1}, compute, cache_dir=tmp_path)
    again = cache.memo("r", {"k": 1}, compute, cache_dir=tmp_path)
    assert len(calls) == 1 and np.array_equal(again["x"], first["x"]) and str(again["label"]) == "pca"
    cache.memo("r", {"k": 2}, compute, cache_dir=tmp_path)  # another key, another entry
    assert len(calls) == 2


def test_memo_moves_a_damaged_entry_aside_and_computes_again(tmp_path):
    cache.memo("r", {"k": 1}, lambda: {"x": np.arange(3)}, cache_dir=tmp_path)
    stored = next((tmp_path / "results").glob("r-*/arrays.npz"))
    stored.write_bytes(stored.read_bytes()[:20])
    with pytest.warns(RuntimeWarning, match="moved to"):
        out = cache.memo("r", {"k": 1}, lambda: {"x": np.arange(3) * 2}, cache_dir=tmp_path)
    assert out["x"].tolist() == [0, 2, 4]
    assert list((tmp_path / "results").glob("r-*.broken-*"))


def test_write_json_is_atomic_and_read_json_names_a_bad_file(tmp_path):
    path = tmp_path / "a.json"
    cache.write_json(path, {"v": np.float32(1.5)})
    assert cache.read_json(path) == {"v": 1.5}
    path.write_text("{")
    with pytest.raises(cache.CacheError, match="a.json is unreadable"):
        cache.read_json(path)
    assert not list(tmp_path.glob(".*tmp*"))


def test_ensure_dir_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(cache.CacheError, match="file"):
        cache.ensure_dir(tmp_path / "f")
    with pytest.raises(cache.CacheError, match="file stands where a folder should be|not a directory|file"):
        cache.ensure_dir(tmp_path / "f" / "sub")


# --------------------------------------------------------------------------- what verify checks


def _entry(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        (folder / name).write_bytes(payload)
    return folder


def _refusal(folder, names, key="k"):
    """The message cache.verify refuses ``folder`` with, or ``None`` if it passes."""
    try:
        cache.verify(folder, names, key=key)
    except cache.CacheError as exc:
        return str(exc)
    return None


def test_verify_checks_every_required_file_not_only_those_the_manifest_lists(tmp_path):
    """A manifest with model.keras left out of its list must not let an unchecked model through."""
    folder = _entry(tmp_path / "run-0123", {"config.json": b"{}", "model.keras": b"weights"})
    required = ["config.json", "model.keras"]
    cache.write_manifest(folder, required, key="k")
    assert _refusal(folder, required) is None  # the whole entry, as written

    manifest = cache.read_json(folder / "manifest.json")
    del manifest["files"]["model.keras"]
    cache.write_json(folder / "manifest.json", manifest)
    (folder / "model.keras").write_bytes(b"another model")  # now nothing vouches for it
    message = _refusal(folder, required)
    assert message is not None, "verify passed an entry whose manifest does not list model.keras"
    assert message.endswith("does not list model.keras"), message


def test_verify_refuses_a_required_file_that_is_missing_even_if_the_manifest_omits_it(tmp_path):
    folder = _entry(tmp_path / "run-0123", {"config.json": b"{}"})
    cache.write_manifest(folder, ["config.json"], key="k")
    message = _refusal(folder, ["config.json", "model.keras"])
    assert message is not None and "model.keras" in message, message


def test_verify_refuses_a_manifest_without_a_files_table(tmp_path):
    folder = _entry(tmp_path / "run-0123", {"a.json": b"{}"})
    cache.write_json(folder / "manifest.json", {"key": "k"})
    assert "malformed" in (_refusal(folder, ["a.json"]) or "")


def test_memo_recomputes_an_entry_whose_manifest_omits_its_arrays(tmp_path):
    cache.memo("r", {"k": 1}, lambda: {"x": np.arange(3)}, cache_dir=tmp_path)
    folder = next(p for p in (tmp_path / "results").glob("r-*") if p.is_dir())
    manifest = cache.read_json(folder / "manifest.json")
    del manifest["files"]["arrays.npz"]
    cache.write_json(folder / "manifest.json", manifest)
    stored = folder / "arrays.npz"
    cache.write_bytes(stored, _npz(x=np.arange(3) * 100))  # readable, but not what was computed
    with pytest.warns(RuntimeWarning, match="does not list arrays.npz"):
        out = cache.memo("r", {"k": 1}, lambda: {"x": np.arange(3) * 2}, cache_dir=tmp_path)
    assert out["x"].tolist() == [0, 2, 4]


def _npz(**arrays):
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_memo_names_become_folders_inside_results(tmp_path):
    cache.memo("a.b-c_1", {"k": 1}, lambda: {"x": np.arange(2)}, cache_dir=tmp_path)
    folders = [p.parent for p in tmp_path.rglob("manifest.json")]
    assert len(folders) == 1 and folders[0].parent == tmp_path / "results" and folders[0].name.startswith("a.b-c_1-")
    for bad in ("../escape", "sub/dir", ".hidden", "nul\x00byte"):
        with pytest.raises(ValueError, match=r"^cache\.memo name must be"):
            cache.memo(bad, {"k": 1}, lambda: {"x": np.arange(2)}, cache_dir=tmp_path / "inner")
    assert not (tmp_path / "inner").exists() and not (tmp_path / "escape").exists()
