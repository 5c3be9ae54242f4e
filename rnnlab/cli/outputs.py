"""Output locations and the order of writing: check every path before computing, save the
data before the picture.

Every command that writes files calls :func:`check_file` or :func:`check_folder` on each
output before any computation, so a typo in a path costs nothing; and writes its data with
:func:`write_json` before drawing with :func:`save_figure`, so a picture that cannot be
written never loses a finished computation.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rnnlab.errors import UsageError

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def _nearest_existing(path: Path) -> Path:
    """The deepest existing ancestor of ``path``; a UsageError when one of them is a file."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"cannot write {path}: {parent} is a file, not a folder")
            return parent
    return Path.cwd()


def _probe(folder: Path, path: Path) -> None:
    """Create and delete a file in ``folder``: the one test that also holds for root, /proc, /sys."""
    try:
        fd, name = tempfile.mkstemp(prefix=".rnnlab-probe-", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write {path}: {reason} in {folder}") from None
    os.close(fd)
    os.unlink(name)


def check_file(path: Path | str, flag: str, suffixes: Sequence[str] | None = None) -> Path:
    """Check that the file ``path`` (given by option ``flag``) can be written.

    Missing folders are allowed (they are created when the file is written) as long as the
    nearest existing one is a writable folder. ``suffixes`` restricts the extension.
    Raises :class:`UsageError` with one line naming the problem.
    """
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UsageError(f"{flag}: unsupported extension {path.suffix or '(none)'!r} in {path}; "
                         f"use {', '.join(suffixes)}")
    if path.is_dir():
        raise UsageError(f"{flag}: {path} is a folder, not a file")
    if path.exists():
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            raise UsageError(f"{flag}: cannot write {path}: {exc.strerror or type(exc).__name__}") from None
        return path
    try:
        _probe(path.parent if path.parent.is_dir() else _nearest_existing(path), path)
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    return path


def check_folder(path: Path | str, flag: str) -> Path:
    """Check that files can be written inside the folder ``path`` (created later if missing)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag}: {path} is a file, not a folder")
    try:
        _probe(path if path.is_dir() else _nearest_existing(path), path)
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    return path


def figure_data_path(figure: Path) -> Path:
    """Where the data of the picture ``figure`` goes: same name, suffix ``.json``."""
    return Path(figure).with_suffix(".json")


def check_figure(path: Path | str, flag: str) -> Path:
    """Check a picture path and the JSON path beside it."""
    path = check_file(path, flag, FIGURE_SUFFIXES)
    check_file(figure_data_path(path), flag)
    return path


def write_json(path: Path | str, data) -> Path:
    """Write ``data`` as JSON, through a temporary file so a reader never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_plain))
    os.replace(tmp, path)
    return path


def _plain(value):
    """JSON for numpy scalars and arrays and for paths."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save_figure(fig, path: Path | str, data_path: Path | str | None = None) -> Path:
    """Save the matplotlib Figure ``fig`` to ``path`` and release it.

    Call it after the data is saved: a failure here is reported as one line that says where
    the data already is, and the computation is not lost.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight")
    except OSError as exc:
        kept = f"; the data is in {data_path}" if data_path is not None else ""
        raise UsageError(f"cannot write the picture {path}: {exc.strerror or exc}{kept}") from None
    finally:
        plt.close(fig)
    return path
