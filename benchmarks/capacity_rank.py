"""Time to measure the Jacobian rank of each parameterization vs N.

One measurement is what :func:`rnnlab.capacity.measure` does per seed: the float64
Jacobian ``d[Re W, Im W] / d theta`` (jitted, factor by factor) at one random point, then
:func:`rnnlab.analysis.numerical_rank` (tall-skinny QR of the ``2N^2 x P`` matrix, one row
block per core, then the SVD of the ``P x P`` triangle). Compilation of the Jacobian is
reported apart (``compile_s``); ``end-to-end`` is Jacobian + rank after compilation, which
is what every further seed costs. The detail splits it into Jacobian, triangle (QR) and SVD
medians, and records the process CPU seconds per end-to-end run and the load average: on
a shared machine, wall time above CPU time / cores means other processes held the cores.
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from benchmarks import Row, time_call
from rnnlab.analysis import numerical_rank
from rnnlab.analysis.rank import triangle
from rnnlab.capacity import get
from rnnlab.capacity.jacobian import jacobian

#: (name, sizes, quick sizes, target seconds at the largest full size)
PLAN = [
    ("restricted", (32, 64, 128), (32, 64), 5.0),
    ("full", (8, 16, 32), (8, 16), 30.0),
    ("restricted-stack", (8, 16, 32), (8,), None),
    ("givens", (8, 16), (8,), None),
    ("householder", (8, 16), (8,), None),
    ("cayley", (8, 16), (8,), None),
]


def measure_one(name: str, n: int, repeats: int) -> dict:
    p = get(name)(n)
    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(0), jnp.float64))
    jac_t = time_call(lambda: jacobian(p, theta), repeats, warmup=0)
    jac = jacobian(p, theta)
    rank_t = time_call(lambda: numerical_rank(jac), repeats, warmup=0)
    res = numerical_rank(jac)
    split = {}
    if jac.shape[0] > 2 * jac.shape[1]:  # numerical_rank's tall route, in its two steps
        split["triangle"] = time_call(lambda: triangle(jac), repeats, warmup=0).as_record()
        r = triangle(jac)
        split["svd"] = time_call(lambda: scipy.linalg.svd(r, compute_uv=False, check_finite=False,
                                                          lapack_driver="gesdd"), repeats, warmup=0).as_record()
    del jac
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        numerical_rank(jacobian(p, theta))
    end_to_end = (time.perf_counter() - t0) / repeats
    cpu = (time.process_time() - c0) / repeats
    return {"n": n, "params": p.num_params, "rows": 2 * n * n, "rank": res.rank, "manifold_dim": p.manifold_dim,
            "jacobian": jac_t.as_record(), "rank_svd": rank_t.as_record(), **split, "end_to_end_s": end_to_end,
            "end_to_end_cpu_s": cpu, "loadavg_1min": load, "compile_s": jac_t.compile}


def run(quick: bool) -> list[Row]:
    repeats = 1 if quick else 3
    rows = []
    for name, sizes, quick_sizes, target in PLAN:
        chosen = quick_sizes if quick else sizes
        for n in chosen:
            d = measure_one(name, n, repeats)
            last = n == sizes[-1]
            rows.append(Row("capacity-rank", f"{name} N={n} end-to-end", d["end_to_end_s"], unit="s",
                            target=target if last else None, detail=d))
            rows.append(Row("capacity-rank", f"{name} N={n} compile", d["compile_s"], unit="s", detail=d))
    return rows
