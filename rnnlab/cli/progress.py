"""One progress policy for every command: bars on stderr, only when stderr is a terminal,
never with ``--quiet``.

The CLI calls :func:`configure` once per command; library code that has long loops wraps
them in :func:`bar`, which is silent unless the CLI switched progress on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

_enabled = False
#: The clock :class:`Estimate` reads (a test may replace it).
clock = time.monotonic


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


def say(message: str) -> None:
    """One line on stderr under the policy above (above a running bar, which it leaves intact)."""
    if _enabled:
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)


#: Work expected to take at least this long (seconds) is announced with its estimate.
LONG = 10.0


def duration(seconds: float) -> str:
    """``seconds`` as a person reads it: ``"40 s"``, ``"12 min"``, ``"3 h 20 min"``, ``"2.5 days"``."""
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if seconds < 2 * 86400:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds / 86400:.1f} days"


class Estimate:
    """How long ``total`` like items will take, from the time of the second one (the first
    also pays for compilation): :meth:`done` after each item returns, once, the line that
    says so when the rest will take at least :data:`LONG` seconds, else ``None``.

    It reads the module's :data:`clock`.
    """

    def __init__(self, total: int, what: str, unit: str):
        self.total, self.what, self.unit = total, what, unit
        self.clock = clock
        self.count = 0
        self.last = self.clock()

    def done(self) -> str | None:
        now, self.count = self.clock(), self.count + 1
        took, self.last = now - self.last, now
        if self.count != 2 or self.total <= 2:
            return None
        left = took * (self.total - self.count)
        if left < LONG:
            return None
        rest = self.total - self.count
        return (f"{self.what}: about {duration(left)} more for the other {rest} {self.unit}{'s' * (rest > 1)} "
                f"({took:.3g} s each, timed on the second)")
