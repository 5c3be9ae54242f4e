"""One progress policy for every command: bars on stderr, only when stderr is a terminal,
never with ``--quiet``.

The CLI calls :func:`configure` once per command; library code that has long loops wraps
them in :func:`bar`, which is silent unless the CLI switched progress on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

_enabled = False


def configure(quiet: bool = False, stream=None) -> bool:
    """Switch bars on when ``stream`` (default stderr) is a terminal and not ``quiet``."""
    global _enabled
    stream = sys.stderr if stream is None else stream
    _enabled = not quiet and bool(getattr(stream, "isatty", lambda: False)())
    return _enabled


def enabled() -> bool:
    return _enabled


def bar(iterable: Iterable | None = None, desc: str = "", total: int | None = None, **kwargs):
    """A tqdm bar on stderr under the policy above (a silent pass-through when off)."""
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, disable=not _enabled, file=sys.stderr, **kwargs)
