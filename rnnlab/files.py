"""Files that appear whole or not at all: write under a temporary name beside the target, then
rename (``os.replace`` is atomic on POSIX), so a reader, or a run killed mid-write, never
sees half a file. Every layer of the library writes its files through here."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path | str, *, durable: bool = False) -> Iterator[Path]:
    """Yield the temporary path ``<path>.tmp`` to write; on success it replaces ``path``, on
    an exception it is removed and ``path`` is left as it was. ``durable``: flush the data to
    disk (fsync) before the rename, so a power loss cannot leave an empty file under the name."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path: Path | str) -> Iterator[Path]:
    """Yield the new, not yet created folder ``.<name>.writing`` beside ``path`` to fill; on
    success it replaces ``path`` as a whole (the old folder is moved aside, then removed), on
    an exception it is removed and ``path`` is left as it was. Two renames, not one: a kill
    between them leaves the old folder as ``.<name>.old``."""
    path = Path(path)
    stage, old = path.with_name(f".{path.name}.writing"), path.with_name(f".{path.name}.old")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        yield stage
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(stage, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def atomic_write(path: Path | str, data: bytes | str, *, durable: bool = False) -> Path:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)


def write_csv(path: Path | str, rows: list[dict]) -> Path:
    """Write ``rows`` as CSV atomically; the columns are every key, in order of first appearance."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)
