"""Retractions onto U(N) for one step ``W <- R(W, -lr A)``, complex64, jitted.

- Cayley: ``W + cayley_update(A, W, lr)`` (:mod:`rnnlab.training.optim`, one LU solve).
- Exponential: ``expm(-lr A) @ W`` with ``jax.scipy.linalg.expm`` (Pade + squaring).
- QR: the Q factor of ``W - lr A W`` with the phases of ``diag(R)`` moved into Q, so the
  map is continuous and equals the identity at ``lr = 0``.

The direction ``A`` is skew-Hermitian with entries of order one and ``lr = 1e-2``.
Reported: time of each, relative to the Cayley retraction at the same N.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from benchmarks import Row, time_call
from rnnlab.analysis.unitary import haar_unitary
from rnnlab.training.optim import cayley_update

LR = 1e-2


def cayley(w, a):
    return w + cayley_update(a, w, jnp.float32(LR))


def exponential(w, a):
    return jax.scipy.linalg.expm(-LR * a) @ w


def qr(w, a):
    q, r = jnp.linalg.qr(w - LR * (a @ w))
    d = jnp.diagonal(r)
    return q * (d / jnp.abs(d))[None, :]


METHODS = {"cayley": cayley, "expm": exponential, "qr": qr}


def problem(n: int):
    kw, ka = jax.random.split(jax.random.key(n))
    w = haar_unitary(kw, n, jnp.complex64)
    x = jax.random.normal(ka, (2, n, n), jnp.float32)
    m = (x[0] + 1j * x[1]).astype(jnp.complex64) / jnp.sqrt(n)
    return w, m - m.conj().T


def run(quick: bool) -> list[Row]:
    sizes = (128, 256) if quick else (128, 256, 512, 1024)
    rows = []
    for n in sizes:
        w, a = problem(n)
        repeats = 3 if (quick or n >= 1024) else 5
        t = {name: time_call(lambda f=jax.jit(fn): f(w, a), repeats) for name, fn in METHODS.items()}
        detail = {"n": n, "dtype": "complex64", **{k: v.as_record() for k, v in t.items()}}
        for other in ("expm", "qr"):
            rows.append(Row("retraction", f"{other} / cayley, N={n}", t[other].median / t["cayley"].median,
                            detail=detail))
        rows.append(Row("retraction", f"cayley time, N={n}", t["cayley"].median * 1e3, unit="ms", detail=detail))
    return rows
