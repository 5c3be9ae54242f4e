"""The run and sweep configurations shipped with rnnlab, found by name.

``configs/`` of the repository is installed inside the package (``rnnlab/configs`` links to
it), so ``--config copy-full-urnn`` works from any folder, in a checkout or after
``pip install``; a path to a file of one's own works as well.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rnnlab.errors import UsageError


def config_dir() -> Path:
    """The folder of the shipped ``.toml`` configurations."""
    return Path(str(resources.files("rnnlab") / "configs"))


def config_names() -> list[str]:
    """Names of the shipped configurations (file names without ``.toml``)."""
    folder = config_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def find_config(text: str | Path) -> Path:
    """A config file from a path or from the name of a shipped configuration.

    An existing file wins; otherwise ``NAME`` or ``NAME.toml`` is looked up among the shipped
    configurations. Raises :class:`UsageError` naming what exists when neither is found.
    """
    path = Path(text)
    if path.is_file():
        return path
    shipped = config_dir() / f"{path.name.removesuffix('.toml')}.toml"
    if len(path.parts) == 1 and shipped.is_file():
        return shipped
    if path.exists():
        raise UsageError(f"{path} is not a file")
    names = ", ".join(config_names()) or "none"
    raise UsageError(f"config {str(text)!r} not found: no such file and no shipped config of that name "
                     f"(shipped: {names})")
