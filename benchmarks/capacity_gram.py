"""Capacity at the paper's MNIST size: ``restricted`` at N = 512 through the Gram path.

Each size runs in a fresh process (``python -m benchmarks.capacity_gram N``) so that its
peak resident memory (``VmHWM``) is that of the rank computation alone. One seed, the
path ``rnnlab capacity`` takes at that size (:func:`rnnlab.capacity.measure`, null space
explained), wall seconds including compilation, which at this size is a small part. The
detail records the rank, the kept / dropped singular values around the cut (relative to
the largest) and the load average: on a shared machine wall time above CPU time / cores
means other processes held the cores. Targets: N = 512 under 120 s and under 8 GB.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from benchmarks import Row

GIB = 2**30


def peak_rss_bytes() -> int:
    """This process's peak resident memory: ``VmHWM`` (Linux), else ``ru_maxrss``.

    ``ru_maxrss`` survives ``exec``: a child started from a large parent reports at least the
    parent's size at the fork. ``VmHWM`` belongs to the new address space.
    """
    from rnnlab.memory import proc_bytes

    peak = proc_bytes("/proc/self/status", "VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_here(n: int) -> dict:
    import numpy as np

    from rnnlab.capacity import get, measure
    from rnnlab.capacity.jacobian import jacobian_bytes_for, uses_gram

    p = get("restricted")(n)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    rep = measure(p, seeds=(0,))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = np.asarray(rep.singular_values) / rep.singular_values[0]
    r = rep.rank
    return {"n": n, "params": p.num_params, "rows": 2 * n * n, "gram_path": uses_gram(n, p.num_params),
            "rank": r, "manifold_dim": p.manifold_dim, "unexplained": rep.unexplained,
            "smallest_kept_rel": float(s[r - 1]), "largest_dropped_rel": float(s[r]) if r < len(s) else None,
            "tol_rel": rep.tols[0] / rep.singular_values[0], "gap": rep.gap,
            "wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": peak_rss_bytes(),
            "estimate_bytes": jacobian_bytes_for(n, p.num_params),
            "loadavg_1min_start": load, "loadavg_1min_end": os.getloadavg()[0]}


def measure_in_subprocess(n: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.capacity_gram", str(n)], check=True,
                         stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[Row]:
    rows = []
    for n in (128,) if quick else (256, 512):
        d = measure_in_subprocess(n)
        paper = n == 512
        rows.append(Row("capacity-gram", f"restricted N={n} rank, 1 seed", d["wall_s"], unit="s",
                        target=120.0 if paper else None, detail=d))
        rows.append(Row("capacity-gram", f"restricted N={n} peak memory", d["peak_rss_bytes"] / GIB, unit="GiB",
                        target=8 * 1e9 / GIB if paper else None, detail={"n": n}))
    return rows


if __name__ == "__main__":
    print(json.dumps(measure_here(int(sys.argv[1]))))
