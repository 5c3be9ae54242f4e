"""``rnnlab records``: compact records of finished sweeps (see :mod:`rnnlab.training.records`)."""

from __future__ import annotations

import csv
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "records", help="compact records of finished sweeps (for results/ in the repository)",
        description="Copy what a table needs from finished sweep folders into one folder: merged "
        "results.csv of the finished points (complete, diverged, failed; a point still running is "
        "left out, and recorded by a later call with the record and its sweep folder), each point's "
        "config.toml, summary.json and metrics.jsonl thinned to --max-lines lines (evaluation lines "
        "kept), no checkpoints. The record reads like a sweep folder: "
        "python -m paper_figures.NAME --from DEST redraws from it.")
    p.add_argument("sweeps", nargs="+", type=Path, metavar="SWEEP",
                   help="finished sweep folder(s) or earlier record(s)")
    p.add_argument("--to", type=Path, required=True, metavar="DEST",
                   help="record folder, e.g. results/copy: new, empty or a record, which is replaced "
                   "as a whole (it may be one of the SWEEPs: a table extended in place)")
    p.add_argument("--max-lines", type=int, default=500, help="metrics lines kept per point (default 500)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from rnnlab.training.records import export

    path, unfinished = export(args.sweeps, args.to, max_lines=args.max_lines)
    size = sum(f.stat().st_size for f in args.to.rglob("*") if f.is_file())
    with open(path, newline="") as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    print(f"wrote {path} and {rows} row(s); record folder {args.to}: {size / 1024:.0f} KiB")
    if unfinished:
        print(f"left out {len(unfinished)} unfinished point(s), to record once they finish: " + ", ".join(unfinished))
    return 0
