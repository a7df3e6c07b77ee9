import builtins

import pytest

from cae_lib import notebook


def test_fmt_formats_numbers_and_passes_text_through():
    assert notebook.fmt(3.14159, ".2f") == "3.14"
    assert notebook.fmt("n/a", ".2f") == "n/a"


def test_glue_without_myst_nb_returns_the_value(monkeypatch):
    real_import = builtins.__import__

    def no_myst(name, *args, **kwargs):
        if name.startswith("myst_nb"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_myst)
    assert notebook.glue("x", 1.5) == 1.5


def test_setup_describes_what_produced_the_numbers_without_paths(monkeypatch, tmp_path):
    import zipfile

    import cv2
    import numpy as np

    from cae_lib.data import CLASS_NAMES, load_data

    data = tmp_path / "secret-folder" / "copy.zip"
    data.parent.mkdir()
    with zipfile.ZipFile(data, "w") as zf:
        for name in CLASS_NAMES:
            for part in ("train", "test"):
                zf.writestr(f"c/{part}/{name}/0.png", cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes())
    monkeypatch.setenv("CAE_PROFILE", "smoke")
    monkeypatch.setenv("CAE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CAE_DATA", str(data))
    load_data.cache_clear()
    info = notebook.setup()
    assert info["profile"] == "smoke" and info["data"].startswith("image-folder zip, 20 images")
    assert info["backend"].startswith("Keras 3") and info["devices"]
    assert not any(str(tmp_path) in value or "secret-folder" in value for value in info.values())


def test_glue_all_glues_every_value(monkeypatch):
    glued = {}
    monkeypatch.setattr(notebook, "glue", lambda name, value, display=False: glued.setdefault(name, value))
    notebook.glue_all({"a": 1, "b": "two"}, prefix="x_")
    assert glued == {"x_a": 1, "x_b": "two"}


def test_training_is_silent_in_a_book_build_and_shows_progress_otherwise(monkeypatch):
    monkeypatch.setenv("CAE_BOOK_BUILD", "1")
    assert notebook.training_verbosity() == 0
    monkeypatch.delenv("CAE_BOOK_BUILD")
    assert notebook.training_verbosity() == 1


def test_numpy_scalars_are_glued_as_python_numbers(monkeypatch):
    import numpy as np

    seen = {}
    monkeypatch.setitem(__import__("sys").modules, "myst_nb", type("M", (), {"glue": staticmethod(
        lambda name, value, display=False: seen.setdefault(name, value))}))
    notebook.glue("x", np.float64(25.5))
    assert type(seen["x"]) is float and repr(seen["x"]) == "25.5"


def test_versions_and_build_note_say_what_built_the_book():
    rows = {r["package"]: r["version"] for r in notebook.versions()}
    assert rows["Python"].count(".") == 2 and rows["keras"].startswith("3.")
    assert "plumbing check" in notebook.build_note("smoke") and "full profile" in notebook.build_note("full")


def test_lock_differences_name_each_package_off_the_lock():
    from cae_lib.notebook import lock_differences, lock_sentence

    lock = "# a comment\nNumPy==2.0.0\nscikit_learn==1.5.0 ; python_version >= '3.10'\n    # via cae-lib\nabsent==1.0\n"
    rows = lock_differences(lock, {"numpy": "2.0.0", "Scikit-Learn": "1.6.0"})
    assert rows == [{"package": "scikit-learn", "locked": "1.5.0", "installed": "1.6.0"},
                    {"package": "absent", "locked": "1.0", "installed": "not installed"}]
    assert lock_sentence(rows).startswith("This build did not run in the environment requirements.lock pins: 2 packages")


def test_this_environment_matches_the_committed_lock():
    """`make install` installs from requirements.lock: a drift is a lock to regenerate (`make lock`)."""
    import platform
    import sys
    from pathlib import Path

    if sys.version_info[:2] != (3, 11) or platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("requirements.lock pins Python 3.11 on Linux x86-64; elsewhere install with `make install LOCK=`")
    from cae_lib.notebook import lock_differences

    lock = Path(__file__).resolve().parent.parent / "requirements.lock"
    differences = lock_differences(lock.read_text())
    assert not differences, f"installed packages differ from requirements.lock: {differences[:5]}"
