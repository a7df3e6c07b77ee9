import builtins

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


def test_setup_reports_what_produced_the_numbers(monkeypatch, tmp_path):
    monkeypatch.setenv("CAE_PROFILE", "smoke")
    monkeypatch.setenv("CAE_CACHE", str(tmp_path))
    monkeypatch.setenv("CAE_DATA", "/some/copy.zip")
    info = notebook.setup()
    assert info["profile"] == "smoke" and info["cache"] == str(tmp_path) and info["data"] == "/some/copy.zip"
    assert info["backend"].startswith("Keras 3") and info["devices"]
