"""Names read from files and used as paths: a plain name inside its folder, or refused.

A sweep file's grid keys and values become run folder names, a results table's ``point``
column names the folder a record reads, a config file's ``out`` names where a run writes.
None of them may reach outside the folder it belongs to::

    plain_name("model-irnn", "point")        # returned as is
    plain_name("../X", "point")              # UsageError: not a plain name
    inside(sweep_folder, "model-irnn", ...)  # sweep_folder / name, refused if that is a link
                                             # to somewhere outside sweep_folder

A plain name is one path component: not empty, no ``/`` or ``\\`` or NUL, not starting with
``.`` (so neither ``.`` nor ``..``, nor the lock and staging files rnnlab keeps beside run
folders), and at most :data:`MAX_NAME_BYTES` bytes, so that the files named after it
(``NAME.status.json``) still fit the 255-byte limit of common file systems.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from rnnlab.errors import UsageError

MAX_NAME_BYTES = 200


def plain_name(name: object, what: str) -> str:
    """``name`` if it is a plain name (see the module docstring); else :class:`UsageError`
    naming ``what`` (e.g. "point 'x' in runs/s/results.csv")."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"{what}: the name is empty")
    if any(c in name for c in "/\\\0") or name.startswith("."):
        raise UsageError(f"{what}: {name!r} is not a plain name (a path, or starts with '.'); "
                         "a name read from a file must stay inside its folder")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise UsageError(f"{what}: {name[:40]!r}... is {len(name.encode())} bytes long, over the "
                         f"{MAX_NAME_BYTES} a folder name may take")
    return name


def inside(folder: Path, name: str, what: str) -> Path:
    """``folder / name`` for a plain ``name``, refused (:class:`UsageError`) when that path is
    a symbolic link leading outside ``folder``: reading or writing through it would touch
    files elsewhere."""
    path = Path(folder) / plain_name(name, what)
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(Path(folder).resolve()):
            raise UsageError(f"{what}: {path} is a link to {target}, outside {folder}; "
                             "a name read from a file must stay inside its folder")
    return path


def relative_out(out: object, source: str | Path) -> None:
    """Refuse an ``out`` read from the config file ``source`` unless it is a relative path
    without ``..`` (taken from the current folder, as ``--out`` is): a config file may
    be someone else's, so it may not send a run elsewhere; ``--out`` on the command line
    may name any folder."""
    if out is None:
        return
    if not isinstance(out, str) or not out.strip():
        raise UsageError(f"{source}: out = {out!r} must name a folder")
    path = PurePath(out)
    if path.is_absolute() or ".." in path.parts:
        raise UsageError(f"{source}: out = {out!r} leaves the current folder; a config file's out must be a "
                         "relative path without '..'; give --out on the command line to write elsewhere")
