"""One registry pattern for everything chosen by a short name: parameterizations,
initialisers, models (cells) and tasks.

Each registry module keeps one :class:`Registry` and exposes its module-level ``names()`` and
``get(name)``; the CLI, the tests and the figures iterate over the same names. The verbs mean
one thing each: ``add`` / ``register`` put an entry under a name with a one-line description,
``get`` returns the entry itself (building something from it is the entry's own business),
``names`` lists the names in registration order, ``describe`` gives the description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from rnnlab.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind (``"model"``, ``"task"``, ...) under short names, in registration order."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, tuple[T, str]] = {}

    def add(self, name: str, entry: T, description: str) -> T:
        """Register ``entry`` as ``name``; ValueError if the name is taken (no silent override)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = (entry, description)
        return entry

    def register(self, name: str, description: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""
        return lambda entry: self.add(name, entry, description)

    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> T:
        """The entry ``name``; a :class:`UsageError` (a ValueError) naming the choices otherwise."""
        try:
            return self._entries[name][0]
        except KeyError:
            raise UsageError(f"unknown {self.kind} {name!r}; choose from {', '.join(self._entries)}") from None

    def describe(self, name: str) -> str:
        self.get(name)
        return self._entries[name][1]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
