"""``rnnlab plot``: the training curves of run folders on one figure."""

from __future__ import annotations

from pathlib import Path

from rnnlab.errors import UsageError


def register(subparsers) -> None:
    plot = subparsers.add_parser(
        "plot", help="draw and compare the training curves of run folders",
        description="Read metrics.jsonl of each RUN folder and draw the training loss and the evaluation "
        "metric against the step, one line per run and seed, with the task's baseline where it has one.",
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders (written by rnnlab train)")
    plot.add_argument("--out", default="curves.png", metavar="FILE",
                      help="picture to write: .png, .pdf or .svg (default: curves.png)")
    plot.set_defaults(func=_plot)


def _plot(args) -> int:
    from rnnlab.training import curves

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise UsageError(f"--out {out}: the picture must end in .png, .pdf or .svg")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist")
    folders = [Path(run) for run in args.runs]
    try:
        curves.write(folders, out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    print(f"{len(folders)} run(s) drawn in {out}")
    return 0
