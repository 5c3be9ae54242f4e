"""What every figure script shares: its flags and how it saves data, then pictures."""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rnnlab.cli.config_files import config_dir


def parser(name: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m paper_figures.{name}", description=description)
    p.add_argument("--quick", action="store_true", help="small sizes: minutes on a 2-core CPU")
    p.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures/)")
    return p


def run_seed(row: Mapping):
    """The seed a sweep's results row is for: ``final_seed`` (a point's vmapped seeds share
    ``seed``, its first) where the row has it, else ``seed``."""
    return row["final_seed"] if row.get("final_seed") is not None else row.get("seed")


def save_rows(out: Path, name: str, rows: Sequence[Mapping], config: Mapping) -> Path:
    """Write ``NAME.csv`` (the rows) and ``NAME.json`` (config + rows), atomically."""
    out.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    tmp = out / f".{name}.csv.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out / f"{name}.csv")
    meta = {
        "figure": name,
        "config": dict(config),
        "host": platform.node(),
        "machine": platform.machine(),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": list(rows),
    }
    tmp = out / f".{name}.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, default=float))
    os.replace(tmp, out / f"{name}.json")
    return out / f"{name}.csv"


def save_figure(fig, out: Path, name: str) -> list[Path]:
    """Save ``fig`` as ``NAME.png`` and ``NAME.pdf``; returns the paths."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


# The shipped configurations: the repository's configs/ in a checkout, package data once installed.
CONFIGS = config_dir()
#: Committed records of full-size runs, one folder per figure script (``results/NAME``); they
#: live in the repository, not in an installed package.
RESULTS = Path(__file__).resolve().parent.parent / "results"


def sweep_parser(name: str, description: str) -> argparse.ArgumentParser:
    """:func:`parser` plus ``--jobs`` and ``--from`` for the scripts that run a training sweep."""
    p = parser(name, description)
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    p.add_argument("--from", dest="records", type=Path, metavar="DIR",
                   help=f"draw from a record or sweep folder instead of training (e.g. results/{name})")
    return p


def run_sweep(name: str, config: Path, args: argparse.Namespace) -> tuple[Path, int, list[dict], dict]:
    """Run (or resume, or skip) the sweep ``config`` in ``OUT/NAME-runs[-quick]``, or with
    ``--from DIR`` read a finished one (a committed record under ``results/``) without training.

    Returns the runs folder, the sweep's exit code, the rows of its ``results.csv`` and
    the metadata every figure saves beside its rows.
    """
    from rnnlab.training import sweep

    if args.records is not None:
        if not (args.records / sweep.RESULTS).is_file():
            raise SystemExit(f"python -m paper_figures.{name}: error: {args.records} holds no {sweep.RESULTS}")
        return args.records, 0, sweep.read_results(args.records), dict(config=str(config), records=str(args.records))
    runs = args.out / f"{name}-runs{'-quick' if args.quick else ''}"
    rc = sweep.run(config, runs, jobs=args.jobs, quick=args.quick)
    return runs, rc, sweep.read_results(runs), dict(config=str(config), quick=args.quick, runs=str(runs))


def batch_baseline(row: Mapping, split: str) -> float | None:
    """The empirical baseline of a generated task's results row on its fixed ``split`` batch
    (``"val"`` or ``"test"``): the row's own ``{split}_baseline`` where the run recorded it,
    else recomputed from the task, T, n and eval batch (records made before runs saved it;
    the batches are a function of their fixed seeds alone)."""
    value = row.get(f"{split}_baseline")
    if value is not None:
        return float(value)
    return _baselines(row["task"], int(row["T"]), int(row["n"]), int(row["eval_batch"])).get(f"{split}_baseline")


@functools.cache
def _baselines(task: str, T: int, n: int, batch: int) -> dict:
    from rnnlab.training import tasks
    from rnnlab.training.evaluation import empirical_baselines

    return empirical_baselines(tasks.make(task, T, n), batch)
