"""``rnnlab records``: compact records of finished sweeps (see :mod:`rnnlab.training.records`)."""

from __future__ import annotations

import csv
from pathlib import Path

from rnnlab.cli.outputs import check_folder


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "records", help="compact records of finished sweeps (for results/ in the repository)",
        description="Copy what a table needs from finished sweep folders into one folder: merged "
        "results.csv of the finished points (complete, diverged, failed; a point still running is "
        "left out, and recorded by a later call with the record and its sweep folder), each point's "
        "config.toml, summary.json and metrics.jsonl thinned to --max-lines lines (evaluation lines "
        "kept), each complete point's final parameters (params.npz, from its checkpoint, up to "
        "--params-limit KiB; no checkpoints). The record reads like a sweep folder: "
        "python -m paper_figures.NAME --from DEST redraws from it.")
    p.add_argument("sweeps", nargs="+", type=Path, metavar="SWEEP",
                   help="finished sweep folder(s) or earlier record(s)")
    p.add_argument("--to", type=Path, required=True, metavar="DEST",
                   help="record folder, e.g. results/copy: new, empty or a record, which is replaced "
                   "as a whole (it may be one of the SWEEPs: a table extended in place)")
    p.add_argument("--replace", action="store_true",
                   help="let the new record drop points of the record in --to that no SWEEP has "
                   "(refused otherwise: give the old record as a SWEEP too to keep them)")
    p.add_argument("--max-lines", type=int, default=500, help="metrics lines kept per point (default 500)")
    p.add_argument("--params-limit", type=int, default=1024, metavar="KIB",
                   help="keep a complete point's final parameters (all seeds) up to this many KiB; "
                   "larger ones are listed as left out in record.json (default 1024; 0 keeps none)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from rnnlab.errors import UsageError
    from rnnlab.training.records import export

    if args.params_limit < 0:
        raise UsageError(f"--params-limit must be >= 0 KiB, got {args.params_limit}")
    # The record is written beside --to and swapped in: both places must be writable.
    check_folder(args.to, "--to")
    check_folder(args.to.absolute().parent, "--to")
    made = export(args.sweeps, args.to, max_lines=args.max_lines, replace=args.replace,
                  params_limit=args.params_limit * 1024)
    size = sum(f.stat().st_size for f in args.to.rglob("*") if f.is_file())
    with open(made.results, newline="") as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    print(f"wrote {made.results} and {rows} row(s); record folder {args.to}: {size / 1024:.0f} KiB")
    if made.dropped:
        print(f"replaced: dropped {len(made.dropped)} point(s) of the old record: " + ", ".join(made.dropped))
    print(f"final parameters kept for {len(made.params_kept)} point(s)"
          + (f", not kept for {len(made.params_left_out)} (reasons in {args.to / 'record.json'})"
             if made.params_left_out else ""))
    if made.unfinished:
        print(f"left out {len(made.unfinished)} unfinished point(s), to record once they finish: "
              + ", ".join(made.unfinished))
    return 0
