"""The ``rnnlab`` command line: the one layer that parses flags, prints, and sets process state.

One module per command group, each exposing ``register(subparsers)``; the library below
(``rnnlab.capacity``, ``dynamics``, ``training``) never imports from here. The helpers only
commands use live here too: output checks (:mod:`~rnnlab.cli.outputs`), progress bars
(:mod:`~rnnlab.cli.progress`), shipped configs (:mod:`~rnnlab.cli.config_files`), broken
pipes (:mod:`~rnnlab.cli.pipes`).
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
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from rnnlab import __version__  # noqa: E402
from rnnlab.cli import (  # noqa: E402
    action,
    analyze,
    capacity,
    configs,
    demo,
    dynamics,
    plot,
    progress,
    records,
    sweep,
    train,
)
from rnnlab.cli.pipes import closed_pipe_safe  # noqa: E402
from rnnlab.devices import ENV as HOST_DEVICES_ENV, configure_host_devices  # noqa: E402
from rnnlab.errors import UsageError  # noqa: E402

# The commands that take --host-devices. `train` gets two host devices by default where
# that pays (rnnlab.devices); a sweep's train processes each decide for themselves unless
# the sweep is given a count; the other commands keep one device unless RNNLAB_HOST_DEVICES
# asks for more.
TRAINING_COMMANDS = ("train", "sweep")

# The command groups, in the order their subcommands appear in --help.
COMMAND_MODULES = (capacity, dynamics, train, plot, sweep, configs, records, action, analyze)


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
    for module in COMMAND_MODULES:
        module.register(subparsers)
    demo.register(subparsers, run_argv=main)  # the demo runs other commands through main
    for name, sub in subparsers.choices.items():
        sub.add_argument("--quiet", action="store_true",
                         help="no progress bars (they go to stderr, and only when it is a terminal)")
        if name not in TRAINING_COMMANDS:
            continue
        sub.add_argument("--host-devices", type=int, default=None, metavar="K",
                         help="CPU devices JAX splits a training batch (or vmapped seeds) over; 1 turns the "
                              "split off (default: $RNNLAB_HOST_DEVICES, else 2 when two cores are idle)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    progress.configure(quiet=args.quiet)
    try:
        asked = getattr(args, "host_devices", None)
        # A sweep only starts train processes: unless asked, each of them decides for itself.
        if args.command == "train" or asked is not None or os.environ.get(HOST_DEVICES_ENV, "").strip():
            configure_host_devices(asked)
        return closed_pipe_safe(lambda: int(args.func(args) or 0))
    except UsageError as exc:
        print(f"rnnlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnnlab {args.command}: interrupted", file=sys.stderr)
        return 130
