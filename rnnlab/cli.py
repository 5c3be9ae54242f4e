"""The ``rnnlab`` command line.

Each subpackage owns its subcommands in its own ``cli`` module, which exposes
``register(subparsers)``. Those modules import nothing heavy at import time (JAX is
imported inside the command functions), so ``rnnlab --help`` stays instant.
"""

from __future__ import annotations

import os

# One BLAS thread: the work here is many small matrices, where OpenBLAS's thread pool costs
# more than it gains and stalls badly when the cores are shared (a 128x128 solve went from
# 0.8 ms to 35-130 ms). Set before numpy loads; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The command line draws only into files: it, not the library, picks the non-interactive
# backend (a user's own MPLBACKEND wins).
os.environ.setdefault("MPLBACKEND", "Agg")

import argparse  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from rnnlab import __version__, progress  # noqa: E402
from rnnlab.devices import configure_host_devices  # noqa: E402
from rnnlab.errors import UsageError  # noqa: E402
from rnnlab.pipes import closed_pipe_safe  # noqa: E402

# Modules whose ``register`` adds subcommands, in the order they appear in --help.
COMMAND_MODULES = (
    "rnnlab.capacity.cli",
    "rnnlab.dynamics.cli",
    "rnnlab.training.cli",
    "rnnlab.training.records",
    "rnnlab.training.action_cli",
    "rnnlab.demo",
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="rnnlab",
        description="Capacity of unitary RNN parameterizations, dynamics of ReLU RNNs, "
        "and the training experiments that tie them together.",
    )
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    for sub in subparsers.choices.values():
        sub.add_argument("--quiet", action="store_true",
                         help="no progress bars (they go to stderr, and only when it is a terminal)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    progress.configure(quiet=args.quiet)
    try:
        configure_host_devices()
        return closed_pipe_safe(lambda: int(args.func(args) or 0))
    except UsageError as exc:
        print(f"rnnlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnnlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
