"""cae_lib.validate.name and the names that become folder names in the cache.

A run's name, a search's name and a cached result's name each become a folder
name (``<name>-<key>``) under the cache root. A name that could step out of its
folder (``/``, ``..``), end the path early for the C library (a NUL byte) or hide
the folder (a leading dot) must be refused with one line that names it.
"""

import pytest

from cae_lib import cache, validate

REFUSED = [
    "a/b",  # a sub-folder
    "/abs",  # an absolute path
    "../up",  # out of the cache
    "..",
    ".",
    "a\x00b",  # a NUL byte ends the path in the C library
    ".hidden",  # a dot file: ls and most file managers hide it
    ".a",
    "a\\b",  # a Windows path separator
    "a\nb",
    "",
    "a b",
    "é",
]
ACCEPTED = ["given_mse", "run-2", "a.b", "x..y", "A9", "denoising_baselines", "pca"]


def _refusal(value, what="run name"):
    """The message validate.name refuses ``value`` with, or ``None`` if it accepts it."""
    try:
        validate.name(value, what)
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("value", REFUSED)
def test_a_name_that_could_leave_or_hide_its_folder_is_refused_with_one_line(value):
    message = _refusal(value)
    assert message is not None, f"validate.name accepted {value!r}, which would become a folder name"
    assert message.startswith("run name must be ") and message.endswith(repr(value)), message
    assert "\n" not in message and "\x00" not in message, repr(message)


@pytest.mark.parametrize("value", ACCEPTED)
def test_plain_names_are_kept_and_stay_in_their_folder(value, tmp_path):
    assert _refusal(value) is None
    assert validate.name(value, "run name") == value
    folder = cache.entry_dir(tmp_path, value, "0123456789abcdef0123")
    assert folder.parent == tmp_path and folder.resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize("value", [None, 3, b"abc"])
def test_a_name_that_is_not_a_string_is_refused(value):
    assert _refusal(value) is not None


@pytest.mark.parametrize("value", ["a/b", "../up", "a\x00b", ".hidden"])
def test_every_name_that_becomes_a_cache_folder_is_checked(value, tmp_path):
    from cae_lib.training import RunConfig
    from cae_lib.tuning import search

    with pytest.raises(ValueError, match=r"^RunConfig\.name must be"):
        RunConfig(name=value, profile="smoke")
    with pytest.raises(ValueError, match=r"^search name must be"):
        search(value, kind="random", profile="smoke", cache_dir=tmp_path)  # refused before any data is read
    with pytest.raises(ValueError, match=r"^cache\.memo name must be"):
        cache.memo(value, {"k": 1}, lambda: {"x": [1]}, cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*")), "nothing may be written for a refused name"


@pytest.mark.parametrize("value", ["a/b", ".hidden"])
def test_registered_names_are_checked(value):
    from cae_lib.registry import Registry

    with pytest.raises(ValueError, match="thing name must be"):
        Registry("thing", object).register(value)
