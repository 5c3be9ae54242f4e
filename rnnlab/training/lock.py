"""An exclusive lock on a folder, held for the whole of a run or a sweep.

    with FolderLock(out):          # UsageError naming the holder's pid if taken
        ...                        # this process is the folder's only writer

The lock is ``fcntl.flock`` on ``FOLDER/.lock``, which holds the holder's pid as text. The
kernel drops a flock when its process dies, however it dies (SIGKILL included), so a lock
file left by a dead process is not locked and the next writer simply takes it over and
writes its own pid: no pid guessing, no stale-lock timeout. Limits: POSIX only, and flock is
not reliable across machines on some network file systems (NFS before Linux 2.6.12): do not
share one run folder between machines.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from rnnlab.errors import UsageError

LOCK_NAME = ".lock"


class FolderLock:
    """Exclusive lock on ``folder`` (created if missing); a context manager, or
    :meth:`acquire` / :meth:`release`.

    Args:
        folder: the folder to lock.
        what: how the error names the folder (``run folder``, ``sweep folder``).
    """

    def __init__(self, folder: str | Path, what: str = "run folder"):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock, without waiting, and write this process's pid into it.

        Returns:
            The lock itself.

        Raises:
            UsageError: another process holds it (the message names its pid), or the folder
                cannot be created.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot create {self.what} {self.folder}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise UsageError(f"{self.what} {self.folder} is in use by process {holder} "
                             f"(lock {self.path}); wait for it or stop it") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back (nothing happens if it is not held); the lock file stays."""
        if self._fd is not None:
            # The file stays: removing it would let a waiter lock an unlinked inode while a
            # third process creates and locks a new one.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

