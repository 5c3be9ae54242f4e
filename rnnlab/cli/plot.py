"""``rnnlab plot``: the training curves of run folders on one figure."""

from __future__ import annotations

from pathlib import Path

from rnnlab.cli.outputs import FIGURE_SUFFIXES, check_file, save_figure


def register(subparsers) -> None:
    plot = subparsers.add_parser(
        "plot", help="draw and compare the training curves of run folders",
        description="Read metrics.jsonl of each RUN folder and draw the training loss and each run's evaluation "
        "metric against the step (one panel per metric: runs of different tasks keep theirs), one line per "
        "run and seed, with each task's baseline where it has one. Every RUN is read first: one that is not a "
        "run folder, or whose metrics are damaged, is named and nothing is drawn (a torn last line, left by a "
        "killed run, is dropped).",
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders (written by rnnlab train)")
    plot.add_argument("--out", default="curves.png", metavar="FILE",
                      help="picture to write: .png, .pdf or .svg; missing folders are created (default: curves.png)")
    plot.set_defaults(func=_plot)


def _plot(args) -> int:
    from rnnlab.training import curves

    out = check_file(args.out, "--out", FIGURE_SUFFIXES)
    folders = [Path(run) for run in args.runs]
    save_figure(curves.figure(folders), out)  # the data stays in the run folders
    print(f"{len(folders)} run(s) drawn in {out}")
    return 0
