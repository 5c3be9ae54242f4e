"""Lazy re-exports for the subpackages (PEP 562): importing a package costs nothing, so the
CLI's ``--help`` stays instant and a caller pays only for the modules it uses."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[list[str], Callable, Callable]:
    """``(__all__, __getattr__, __dir__)`` for ``package``.

    ``exports`` maps a name to the module that defines it; a name mapped to ``package``
    itself is a submodule of it (``"initializers": "rnnlab.dynamics"``).
    """
    names = sorted(exports)

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module == package:
            return importlib.import_module(f"{package}.{name}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return names

    return names, __getattr__, __dir__
