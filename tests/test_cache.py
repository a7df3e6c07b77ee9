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
