"""``rnnlab configs``: the shipped run and sweep configurations."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

from rnnlab.cli.config_files import config_dir, config_names

#: Width of the listing; a description wraps under itself rather than being cut.
WIDTH = 100


def register(subparsers) -> None:
    configs = subparsers.add_parser(
        "configs", help="list the shipped run and sweep configurations (usable by name)",
        description="The configurations shipped with rnnlab, in two groups: single runs, usable by name "
        "with 'rnnlab train --config NAME', and sweeps (files with a [grid]), with 'rnnlab sweep NAME'; "
        "each with the first sentence of its leading comment, and the folder that holds them.")
    configs.set_defaults(func=_configs)


def describe(path: Path) -> tuple[str, str]:
    """``(kind, about)`` of a config file: ``"sweep"`` if it has a ``[grid]`` table, else
    ``"run"`` (``"unreadable"`` if it is not TOML), and the first sentence of its leading
    comment (the comment ends at a blank comment line or an indented one, such as a command)."""
    text = path.read_text()
    try:
        kind = "sweep" if "grid" in tomllib.loads(text) else "run"
    except tomllib.TOMLDecodeError:
        kind = "unreadable"
    prose = []
    for line in text.splitlines():
        words = line.lstrip("#").strip()
        if not line.startswith("#") or not words or line.startswith("#  "):
            break
        prose.append(words)
    # A sentence ends at . ! or ? before a capital or a bracket: "et al. 2016" and "0.3" go on.
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", " ".join(prose), maxsplit=1)[0]
    return kind, first


def _configs(args) -> int:
    folder = config_dir()
    described = {name: describe(folder / f"{name}.toml") for name in config_names()}
    width = max(map(len, described), default=0) + 2
    groups = (("run", "Single runs (rnnlab train --config NAME):"), ("sweep", "Sweeps (rnnlab sweep NAME):"),
              ("unreadable", "Not readable as TOML:"))
    for kind, title in groups:
        names = [name for name, (k, _) in described.items() if k == kind]
        if not names:
            continue
        print(title)
        for name in names:
            print(textwrap.fill(described[name][1] or "-", WIDTH, initial_indent=f"  {name:<{width}}",
                                subsequent_indent=" " * (width + 2)))
        print()
    print(f"(in {folder})")
    return 0
