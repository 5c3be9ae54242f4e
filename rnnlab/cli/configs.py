"""``rnnlab configs``: the shipped run and sweep configurations."""

from __future__ import annotations

from rnnlab.cli.config_files import config_dir, config_names


def register(subparsers) -> None:
    configs = subparsers.add_parser(
        "configs", help="list the shipped run and sweep configurations (usable by name)",
        description="The configurations shipped with rnnlab, usable by name with 'rnnlab train "
        "--config NAME' and 'rnnlab sweep NAME', and the folder that holds them.")
    configs.set_defaults(func=_configs)


def _configs(args) -> int:
    for name in config_names():
        first = (config_dir() / f"{name}.toml").read_text().splitlines()[:1]
        about = first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""
        print(f"{name:<22} {about}")
    print(f"(in {config_dir()})")
    return 0
