"""``rnnlab sweep``: a grid of training runs from a TOML file, gathered in one CSV."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from rnnlab.cli import progress
from rnnlab.cli.config_files import find_config
from rnnlab.cli.outputs import check_folder
from rnnlab.training import sweep as sweep_mod


def register(subparsers) -> None:
    sweep = subparsers.add_parser(
        "sweep", help="run a grid of training runs from a TOML file and gather one CSV",
        description=sweep_mod.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument("config", metavar="CONFIG.toml|NAME",
                       help="the sweep file (format above), or the name of a shipped one (e.g. np-rnn-addition)")
    sweep.add_argument("--out", metavar="DIR", help="sweep folder (default runs/sweep-NAME)")
    sweep.add_argument("--jobs", type=int, default=1, metavar="J", help="grid points run in parallel (default 1)")
    sweep.add_argument("--quick", action="store_true", help="apply the file's [quick] overrides (tiny runs)")
    sweep.add_argument("--seeds", type=int, metavar="K", help="override: number of seeds, vmapped inside each point")
    sweep.add_argument("--steps", type=int, metavar="S", help="override: training steps of every point")
    sweep.add_argument("--where", action="append", metavar="KEY=VALUE",
                       help="run only the grid points whose config has this value, or one of several "
                            "separated by commas (repeatable), e.g. --where T=150 --where model=irnn,np-rnn")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="rerun the points a previous sweep recorded as diverged or failed (skipped otherwise)")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local",
                       help="local: child processes of this machine, --jobs at a time (default); "
                       "ray: one Ray task per point (needs pip install 'rnnlab[ray]'; docs/training.md)")
    sweep.add_argument("--address", metavar="ADDRESS",
                       help="ray: the cluster to join ('auto': the one started by 'ray start' here); "
                       "default: start a local one")
    sweep.add_argument("--cpus-per-run", type=int, default=1, metavar="K", help="ray: CPUs each point asks for (default 1)")
    sweep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                       help="progress bar of the grid points on stderr when it is a terminal (default on)")
    sweep.set_defaults(func=_sweep)


@contextlib.contextmanager
def _sigterm_as_ctrl_c():
    """SIGTERM (``kill``, a batch scheduler's time limit) stops a sweep as Ctrl-C does: the
    train processes still running stop with their checkpoints and ``results.csv`` is written.
    Without this the sweep would die at once and leave its train processes running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _sweep(args) -> int:
    check_folder(Path(args.out) if args.out else Path("runs"), "--out")
    overrides = {k: v for k, v in (("seeds", args.seeds), ("steps", args.steps)) if v is not None}
    with _sigterm_as_ctrl_c():
        return sweep_mod.run(str(find_config(args.config)), args.out, jobs=args.jobs, quick=args.quick, overrides=overrides,
                             where=sweep_mod.parse_where(args.where),
                             progress=args.progress and progress.enabled(), backend=args.backend,
                             address=args.address, cpus_per_run=args.cpus_per_run, retry_failed=args.retry_failed)
