"""The Ray backend of ``rnnlab sweep``: each grid point is one Ray task.

A task asks Ray for ``cpus_per_run`` CPUs and runs :func:`rnnlab.training.sweep.attempt`
on whichever node Ray picks, exactly as the local backend runs it in a thread: the seeds
of a point stay vmapped inside one ``rnnlab train`` process. Ray's own retries are off;
the sweep retries a crashed point (or one whose worker or node died) once, as it does
locally, so both backends record the same statuses.

Run folders live on a filesystem shared by the driver and every node, at the same path
(an NFS home, a cluster's scratch filesystem): the train process on a node writes its
checkpoints and metrics straight into ``OUT/<point>``, so an interrupted point resumes
from its checkpoint whichever node picks it up next. A task first checks that it sees the
driver's ``OUT/sweep.json`` (by the sweep's random id) and fails with that message if it
does not, rather than training into a folder nobody will read.

Ray is an optional extra (``pip install 'rnnlab[ray]'``), imported only here.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import socket
import warnings
from pathlib import Path
from typing import Any

from rnnlab.devices import worker_devices
from rnnlab.errors import UsageError
from rnnlab.training import sweep

INSTALL_HINT = "the ray backend needs Ray, which is not installed: pip install 'rnnlab[ray]'"


def import_ray():
    """The ``ray`` module, or a UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


def check_address(address: str | None) -> None:
    """UsageError if ``HOST:PORT`` has nothing listening (Ray itself would retry for minutes).
    ``auto``, ``local``, ``ray://`` client addresses and None are left to Ray."""
    if not address or address in ("auto", "local") or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--address must be HOST:PORT, auto or ray://HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(f"no Ray cluster answers at {address} ({exc.strerror or exc}); "
                         "start one there with 'ray start --head' or check --address") from None


def run_on_worker(point: sweep.Point, out: str, sweep_id: str, devices: int | None = None) -> sweep.Outcome:
    """The body of a point's Ray task: check that ``out`` is the driver's folder, then attempt."""
    folder = Path(out)
    try:
        seen = json.loads((folder / "sweep.json").read_text()).get("id")
    except (OSError, ValueError):
        seen = None
    if seen != sweep_id:
        raise UsageError(
            f"{folder} is not this sweep's folder as seen from node {socket.gethostname()}: "
            "--out must be on a filesystem that every node mounts at the same path")
    return sweep.attempt(point, folder, devices)


class RayBackend:
    """Points as Ray tasks on the cluster at ``address`` (``auto``: the one started with
    ``ray start`` on this node), or on a local Ray started for this sweep and stopped after
    it. A Ray already initialised in this process (``ray.init`` by the caller) is used as is."""

    def __init__(self, *, address: str | None, cpus_per_run: int, sweep_id: str):
        ray = self.ray = import_ray()
        self.started = not ray.is_initialized()
        # Ray's start and shutdown may leave SIGINT / SIGTERM handled its way; the sweep's own
        # Ctrl-C handling (and a later sweep in this process) needs them back as they were.
        self._handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        if self.started:
            try:
                with warnings.catch_warnings():  # Ray forks its daemons after JAX has loaded: harmless here
                    warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
                    ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR,
                             log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise UsageError(f"cannot start or join Ray at {address or 'a new local cluster'}: "
                                 f"{str(exc).strip().splitlines()[0]}") from None
        self.sweep_id = sweep_id
        self.task = ray.remote(run_on_worker).options(num_cpus=cpus_per_run, max_retries=0)
        # A task's train process splits its batch over at most the CPUs the task reserved.
        self.devices = worker_devices(1) or min(2, cpus_per_run)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.started:
            self.ray.shutdown()
        if threading.current_thread() is threading.main_thread():
            for sig, handler in self._handlers.items():
                if handler is not None:
                    signal.signal(sig, handler)

    def submit(self, point: sweep.Point, out: Path) -> Any:
        return self.task.remote(point, str(out), self.sweep_id, self.devices)

    def wait(self, handles: list) -> tuple[Any, sweep.Outcome | None, BaseException | None]:
        ready: list = []
        while not ready:  # short waits, so that Ctrl-C is seen at once
            ready, _ = self.ray.wait(handles, num_returns=1, timeout=1.0)
        ready = ready[0]
        try:
            return ready, self.ray.get(ready), None
        except Exception as exc:  # the task raised, or its worker or node died: a crash
            return ready, None, exc

    def stop(self, handles: list) -> None:
        """Cancel the tasks: a running one passes the interrupt to its train process, which
        keeps its checkpoint; wait (a minute at most) for them to finish doing so."""
        for handle in handles:
            self.ray.cancel(handle)
        if handles:
            self.ray.wait(handles, num_returns=len(handles), timeout=60)
