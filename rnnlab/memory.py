"""Memory estimates: refuse a job that cannot fit before allocating anything.

Each command estimates the peak memory of its work from the sizes it was given and calls
:func:`check_memory`, which refuses (one line, with the estimate) when it exceeds what the
machine has available now.
"""

from __future__ import annotations

import os

from rnnlab.errors import UsageError

# Refuse above this fraction of the available memory: the estimates are approximate, and
# the interpreter, JAX and the other buffers of the job need room too.
USABLE_FRACTION = 0.8


def proc_bytes(path: str, key: str) -> int | None:
    """The ``key:`` line of a Linux ``/proc`` file given in kB (``/proc/meminfo``
    ``MemAvailable``, ``/proc/self/status`` ``VmHWM``), in bytes; ``None`` where there is none."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or physical memory where unknown."""
    have = proc_bytes("/proc/meminfo", "MemAvailable")
    return have if have is not None else os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 2**10:.1f} KiB"


def check_memory(need: float, what: str, available: int | None = None) -> None:
    """Raise :class:`UsageError` when ``need`` bytes (the estimate for ``what``) cannot fit."""
    have = available_memory() if available is None else available
    if need > USABLE_FRACTION * have:
        raise UsageError(f"{what} needs about {format_bytes(need)}; only {format_bytes(have)} "
                         "of memory is available")
