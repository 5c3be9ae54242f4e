"""``python -m benchmarks [--quick] [--only NAME ...] [--out FILE]``: run, print one table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from benchmarks import format_table, write_json

#: Benchmark modules in table order (one per row of the README performance table).
NAMES = ("relu_step", "urnn_step", "retraction", "capacity_rank", "capacity_gram", "capacity_certificate", "seeds_vmap", "host_devices", "paper_steps", "cli_start")
DEFAULT_OUT = "benchmarks/results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (smoke test)")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES), metavar="NAME",
                        help=f"benchmarks to run (default all: {', '.join(NAMES)})")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)

    rows, seconds = [], {}
    for name in args.only:
        t0 = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += importlib.import_module(f"benchmarks.{name}").run(args.quick)
        seconds[name] = round(time.perf_counter() - t0, 2)
    print(format_table(rows))
    write_json(args.out, rows, {"quick": args.quick, "only": args.only, "wall_s": seconds, "argv": sys.argv[1:]})
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
