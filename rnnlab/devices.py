"""Host devices: let XLA present the CPU cores as separate devices, so a batch (or the seed
axis of vmapped seeds) can be split over them (:mod:`rnnlab.training.sharding`).

XLA reads ``--xla_force_host_platform_device_count`` once, when JAX creates its devices (at
its first computation, not at import), so :func:`configure_host_devices` must run before
that: the command line calls it before any command runs, and the sweep passes the setting
to its ``rnnlab train`` workers.
The count comes from the command line's ``--host-devices``, else ``RNNLAB_HOST_DEVICES``,
else :func:`default_count`: two devices when about two cores are idle (on the project's
2-core machine, idle, a ReLU step with its batch split over two devices took 0.70 of the
unsplit step and 8 vmapped seeds 0.49 of their time: ``docs/performance.md``). ``1`` turns
splitting off. The training loop then splits a single seed's batch only when a step has
enough work (:data:`rnnlab.training.sharding.SPLIT_FROM_MACS`).
"""

from __future__ import annotations

import os
import sys

from rnnlab.errors import UsageError

ENV = "RNNLAB_HOST_DEVICES"
FLAG = "--xla_force_host_platform_device_count"


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def idle_cores() -> float:
    """Usable cores minus the 1-minute load average (other processes' demand)."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load = 0.0
    return usable_cores() - load


def default_count() -> int:
    """Host devices when none are asked for: 2 when about two cores are idle, else 1.

    Two, not one per core: the split was measured on two cores, and a batch of 16 split
    many ways leaves each device too little work per time step. Not when other processes
    hold the cores: each step waits for both devices, and a device whose thread is not
    scheduled stalls the other (a small run took 5x as long split on a busy machine).
    """
    return 2 if usable_cores() >= 2 and idle_cores() >= 1.5 else 1


def requested_count(environ=os.environ) -> int:
    """Host devices asked for by ``RNNLAB_HOST_DEVICES`` (:func:`default_count` when unset)."""
    raw = environ.get(ENV, "").strip()
    if not raw:
        return default_count()
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


def _jax_backend_started() -> bool:
    """Whether JAX has created its devices (importing JAX does not; the first computation does)."""
    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge  # no public equivalent in JAX 0.10

    return xla_bridge.backends_are_initialized()


def configure_host_devices(count: int | None = None) -> int:
    """Set ``XLA_FLAGS`` so that JAX sees ``count`` CPU devices (default: :func:`requested_count`).

    Returns the count JAX will have. When nothing asks for a count (no ``count``, no
    ``RNNLAB_HOST_DEVICES``), a device count already in the user's ``XLA_FLAGS`` is kept,
    and a JAX that is already running keeps what it has. Raises :class:`UsageError` if a
    count was asked for but JAX is already running with another (the flag would be
    silently ignored).
    """
    environ = os.environ
    asked = count is not None or bool(environ.get(ENV, "").strip())
    if not asked and FLAG + "=" in environ.get("XLA_FLAGS", ""):
        return int(environ["XLA_FLAGS"].split(FLAG + "=")[1].split()[0])
    count = requested_count(environ) if count is None else count
    if count < 1:
        raise UsageError(f"--host-devices must be >= 1, got {count}")
    if _jax_backend_started():
        import jax

        have = len(jax.devices("cpu"))
        if asked and have != count:
            raise UsageError(f"JAX is already running with {have} CPU device(s); "
                             f"{count} host devices must be asked for before it starts")
        return have
    environ["XLA_FLAGS"] = xla_flags_with(count, environ.get("XLA_FLAGS", ""))
    if asked:  # passed on to child processes (a sweep's workers) as the user's choice
        environ[ENV] = str(count)
    return count


def worker_devices(side_by_side: int, environ=os.environ) -> int | None:
    """Host devices for each of ``side_by_side`` train processes sharing one machine's cores:
    what ``RNNLAB_HOST_DEVICES`` asks for, else ``None`` (the worker's own default) when a
    process has the machine to itself, else 1 (the processes already fill the cores)."""
    if environ.get(ENV, "").strip():
        return requested_count(environ)
    return None if side_by_side <= 1 else 1
