"""Host devices: let XLA present the CPU cores as separate devices, so a batch (or the seed
axis of vmapped seeds) can be split over them (:mod:`rnnlab.training.sharding`).

XLA reads ``--xla_force_host_platform_device_count`` once, when JAX starts, so
:func:`configure_host_devices` must run before ``jax`` is imported: the command line calls
it first thing, and the sweep passes the same setting to its ``rnnlab train`` workers.
The count comes from ``RNNLAB_HOST_DEVICES`` (default 1: off; splitting was not measured
faster on the project's loaded 2-core machine, see ``docs/performance.md``).
"""

from __future__ import annotations

import os
import sys

from rnnlab.errors import UsageError

ENV = "RNNLAB_HOST_DEVICES"
FLAG = "--xla_force_host_platform_device_count"


def requested_count(environ=os.environ) -> int:
    """Host devices asked for by ``RNNLAB_HOST_DEVICES`` (1 when unset)."""
    raw = environ.get(ENV, "1").strip() or "1"
    try:
        count = int(raw)
    except ValueError:
        raise UsageError(f"{ENV} must be a positive integer, got {raw!r}") from None
    if count < 1:
        raise UsageError(f"{ENV} must be a positive integer, got {raw!r}")
    return count


def xla_flags_with(count: int, flags: str = "") -> str:
    """``flags`` with the host device count set to ``count`` (an existing setting replaced)."""
    kept = [f for f in flags.split() if not f.startswith(FLAG + "=")]
    if count > 1:
        kept.append(f"{FLAG}={count}")
    return " ".join(kept)


def configure_host_devices(count: int | None = None) -> int:
    """Set ``XLA_FLAGS`` so that JAX sees ``count`` CPU devices (default: :func:`requested_count`).

    With neither ``count`` nor ``RNNLAB_HOST_DEVICES`` given, nothing is changed. Returns
    the count. Raises :class:`UsageError` if JAX is already imported with another
    count (the flag would be silently ignored).
    """
    environ = os.environ
    if count is None and ENV not in environ:
        return 1  # not asked for: a user's own XLA_FLAGS are left as they are
    count = requested_count(environ) if count is None else count
    if count < 1:
        raise ValueError(f"host device count must be >= 1, got {count}")
    if "jax" in sys.modules:
        import jax

        have = len(jax.devices("cpu"))
        if have != count and count > 1:
            raise UsageError(f"JAX is already running with {have} CPU device(s); "
                               f"{ENV}={count} must be set before it starts")
        return have
    environ["XLA_FLAGS"] = xla_flags_with(count, environ.get("XLA_FLAGS", ""))
    environ[ENV] = str(count)
    return count
