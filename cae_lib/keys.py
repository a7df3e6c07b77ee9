"""Cache keys: what a key holds, so that adding a setting leaves every existing key as it was.

A key is the SHA-256 of a JSON document (:func:`digest`). Configurations enter
it through :func:`settings`: the fields of a frozen dataclass whose values
differ from the field's declared default, recursively for nested configs. A new
field whose default reproduces today's behaviour is therefore absent from every
existing key, and the cache keeps what it holds. The flip side: changing a
default changes what the keys of runs that relied on it mean. That is a
deliberate act: the tests pin every default (``tests/test_keys.py``), and their
message says to bump :data:`cae_lib.training.CACHE_STAMP` with the change.

Fields with a ``default_factory`` (the profile read from ``CAE_PROFILE``, the
default model) are always kept: their default is computed, not declared.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Old:
    ...     a: int = 1
    >>> @dataclass(frozen=True)
    ... class New:
    ...     a: int = 1
    ...     b: str = "added later"
    >>> settings(Old(a=2)) == settings(New(a=2)), settings(New(a=2))
    (True, {'a': 2})
    >>> digest({"x": settings(Old())}) == digest({"x": {}})
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

__all__ = ["settings", "digest", "defaults"]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return settings(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def settings(config) -> dict[str, Any]:
    """The fields of a dataclass instance that differ from their declared defaults, JSON-ready.

    Nested dataclasses are reduced the same way; tuples become lists. An
    object may add fields that always count (a task's registered name) by
    defining ``key_extras()``, returning a dict.

    Raises:
        TypeError: ``config`` is not a dataclass instance.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"settings() needs a dataclass instance, got {type(config).__name__}")
    out: dict[str, Any] = {}
    extras = getattr(config, "key_extras", None)
    if callable(extras):
        out.update(extras())
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.default is not dataclasses.MISSING and _same(value, f.default):
            continue
        out[f.name] = _plain(value)
    return out


def _same(value, default) -> bool:
    if type(value) is not type(default) and not (isinstance(value, (int, float)) and isinstance(default, (int, float))):
        return False
    try:
        return bool(value == default)
    except Exception:  # arrays and other objects without a plain equality
        return False


def defaults(cls) -> dict[str, Any]:
    """``{field: declared default}`` of a dataclass (fields without a plain default omitted), JSON-ready.

    What the key tests pin: change one of these and the keys of existing
    runs change meaning.
    """
    return {f.name: _plain(f.default) for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def digest(document: dict) -> str:
    """SHA-256 (hex) of a JSON document with sorted keys.

    Example:
        >>> digest({"b": 1, "a": [1, 2]}) == digest({"a": [1, 2], "b": 1})
        True
    """
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
