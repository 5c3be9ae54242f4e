"""Run every figure script: ``python -m paper_figures [--quick | --from-results] [--out DIR] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import paper_figures
from rnnlab.errors import UsageError


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
    failed: dict[str, str] = {}
    names = args.only or scripts()
    if args.from_results:
        from paper_figures._common import RESULTS

        names = [n for n in names if (RESULTS / n / "results.csv").is_file()]
        print(f"[paper_figures] records in {RESULTS}: {', '.join(names) or 'none'}", flush=True)
    for name in names:
        t0 = time.perf_counter()
        print(f"[paper_figures] {name} ...", flush=True)
        flags = ["--out", str(args.out)] + (["--quick"] if args.quick else [])
        if args.from_results:
            flags += ["--from", str(RESULTS / name)]
        why = run_script(name, flags)
        print(f"[paper_figures] {name}: {'ok' if why is None else 'FAILED'} in {time.perf_counter() - t0:.1f} s",
              flush=True)
        if why is not None:
            failed[name] = why
    if failed:
        print(f"[paper_figures] {len(failed)} of {len(names)} script(s) failed:", file=sys.stderr)
        for name, why in failed.items():
            print(f"  {name}: {why}", file=sys.stderr)
    return 1 if failed else 0


def run_script(name: str, flags: list[str]) -> str | None:
    """Run ``paper_figures.NAME.main(flags)``: None if it succeeded, else why it failed (its
    exit status, or its exception: a usage error in one line, anything else with its
    traceback printed now). One failing script does not stop the others; Ctrl-C does."""
    try:
        rc = importlib.import_module(f"paper_figures.{name}").main(flags)
    except UsageError as exc:
        print(f"[paper_figures] {name}: error: {exc}", file=sys.stderr, flush=True)
        return f"error: {exc}"
    except SystemExit as exc:  # an argparse error or an explicit exit inside the script
        rc = exc.code if exc.code is None or isinstance(exc.code, int) else 1
        return None if not rc else f"exit status {rc}"
    except Exception as exc:
        traceback.print_exc()
        text = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
    return None if not rc else f"exit status {rc}"

if __name__ == "__main__":
    raise SystemExit(main())
