"""Registries of named classes: how tasks and codecs are found by name (as CompressAI's ``register_model``).

Example:
    >>> shapes = Registry("shape", object)
    >>> @shapes.register("square")
    ... class Square:
    ...     pass
    >>> shapes.get("square") is Square, Square.name, list(shapes)
    (True, 'square', ['square'])
    >>> shapes.get("circle")
    Traceback (most recent call last):
    ...
    ValueError: shape must be one of ('square',), got 'circle'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cae_lib import validate

__all__ = ["Registry"]


class Registry:
    """``name -> class`` for one kind of object; :meth:`register` sets each class's ``name``.

    Args:
        kind: what the registry holds, for messages (``"task"``, ``"codec"``).
        base: the class every registered class must derive from.
    """

    def __init__(self, kind: str, base: type):
        self.kind, self.base, self._classes = kind, base, {}

    def register(self, name: str) -> Callable[[type], type]:
        """Class decorator: register a subclass of ``base`` as ``name``.

        Raises:
            ValueError: an invalid name, a class of another kind, or a name taken by another class.
        """
        validate.name(name, f"{self.kind} name")

        def decorate(cls: type) -> type:
            if not (isinstance(cls, type) and issubclass(cls, self.base)):
                raise ValueError(f"{self.kind} {name!r} must be a {self.base.__name__} subclass, got {cls!r}")
            known = self._classes.get(name)
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise ValueError(f"{self.kind} name {name!r} is taken by {known.__module__}.{known.__qualname__}")
            cls.name = name
            self._classes[name] = cls
            return cls

        return decorate

    def get(self, name: str) -> type:
        """The class registered as ``name``; ``ValueError`` listing the known ones otherwise."""
        if name not in self._classes:
            raise ValueError(f"{self.kind} must be one of {tuple(self._classes)}, got {name!r}")
        return self._classes[name]

    def pop(self, name: str) -> type:
        """Remove and return the class registered as ``name`` (for tests)."""
        return self._classes.pop(name)

    def __contains__(self, name) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)
