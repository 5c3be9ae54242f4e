"""Certified rank at the papers' sizes: ``rnnlab capacity --param restricted --n N --exact``.

The F_p lower bound is the rank of a ``7N x 7N`` sketch of the Jacobian, computed by pushing
vectors through the factors (``rnnlab/capacity/modular.py``), and the upper bound counts the
named redundancies by directional derivatives; neither forms the ``2N^2 x 7N`` Jacobian, and
above the Gram threshold the float64 rank is not measured. Each size runs the command in a
fresh process (``python -m benchmarks.capacity_certificate N``), so that its peak resident
memory (``VmHWM``) is that of the certificate alone; wall seconds include JAX's start-up and
compilation. The detail records the certified rank, both bounds, the prime, the library's
own estimate of time and memory (what a size is refused by) and the load average: on a
shared machine, wall time above CPU time / cores means other processes held the cores.
Targets (the papers' sizes): N = 512 under 5 min and 4 GB, N = 1024 under 30 min.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time

from benchmarks import Row
from benchmarks.capacity_gram import GIB, peak_rss_bytes

#: (N, seconds target, GiB target): the papers' sizes (speech 128-256, copy 470, MNIST 512) and 1024.
PLAN = [(128, None, None), (256, None, None), (470, None, None), (512, 300.0, 4e9 / GIB), (1024, 1800.0, None)]
QUICK = [(128, None, None)]


def measure_here(n: int) -> dict:
    from rnnlab.capacity import get
    from rnnlab.capacity.modular import sketch_cost
    from rnnlab.cli import main

    cost = sketch_cost(n, get("restricted").structure(n))
    load = os.getloadavg()[0]
    argv = ["capacity", "--param", "restricted", "--n", str(n), "--exact", "--json", "--quiet"]
    out = io.StringIO()
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    (rec,) = json.loads(out.getvalue())
    return {"n": n, "command": "rnnlab " + " ".join(argv), "exit": code, "params": rec["params"],
            "certified": rec["certified"], "rank": rec["rank"], "exact_rank": rec["exact_rank"],
            "upper_bound": rec["upper_bound"], "known_redundancies": rec["known_redundancies"],
            "prime": rec["prime"], "law_7n_minus_7": 7 * n - 7, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_bytes": peak_rss_bytes(), "estimate_s": cost.seconds, "estimate_bytes": cost.bytes,
            "loadavg_1min_start": load, "loadavg_1min_end": os.getloadavg()[0]}


def measure_in_subprocess(n: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.capacity_certificate", str(n)], check=True,
                         stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[Row]:
    rows = []
    for n, secs, gib in QUICK if quick else PLAN:
        d = measure_in_subprocess(n)
        if not d["certified"] or d["exact_rank"] != 7 * n - 7:
            raise RuntimeError(f"restricted N={n}: not certified at 7N - 7: {d}")
        rows.append(Row("capacity-certificate", f"restricted N={n} certified rank {d['exact_rank']}, CLI",
                        d["wall_s"], unit="s", target=secs, detail=d))
        rows.append(Row("capacity-certificate", f"restricted N={n} peak memory", d["peak_rss_bytes"] / GIB,
                        unit="GiB", target=gib, detail={"n": n}))
    return rows


if __name__ == "__main__":
    result = measure_here(int(sys.argv[1]))
    print(json.dumps(result))
