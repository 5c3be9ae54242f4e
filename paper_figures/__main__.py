"""Run every figure script: ``python -m paper_figures [--quick | --from-results] [--out DIR] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

import paper_figures


def scripts() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(paper_figures.__path__) if not m.name.startswith("_"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m paper_figures", description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=Path("figures"))
    p.add_argument("--only", nargs="+", choices=scripts(), help="run only these scripts")
    p.add_argument("--from-results", action="store_true",
                   help="redraw, without training, every figure whose record is in results/NAME")
    args = p.parse_args(argv)
    failed = []
    names = args.only or scripts()
    if args.from_results:
        from paper_figures._common import RESULTS

        names = [n for n in names if (RESULTS / n / "results.csv").is_file()]
        print(f"[paper_figures] records in {RESULTS}: {', '.join(names) or 'none'}", flush=True)
    for name in names:
        t0 = time.perf_counter()
        print(f"[paper_figures] {name} ...", flush=True)
        module = importlib.import_module(f"paper_figures.{name}")
        flags = ["--out", str(args.out)] + (["--quick"] if args.quick else [])
        if args.from_results:
            flags += ["--from", str(RESULTS / name)]
        rc = module.main(flags)
        print(f"[paper_figures] {name}: {'ok' if not rc else 'FAILED'} in {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
