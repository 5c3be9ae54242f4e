"""The ReLU RNN train step (N=128, T=784, batch 16, float32) against PyTorch and
against the FLOP bound.

- rnnlab: ``relu-rnn`` on ``addition`` (2 inputs, 1 output read at the last step), SGD.
- PyTorch: ``torch.nn.RNN(nonlinearity='relu')`` + ``Linear`` readout + MSE + ``SGD.step``,
  same shapes, ``torch.set_num_threads`` equal to XLA's thread count.
- GEMM bound: one square float32 matmul (jitted, same XLA backend) with the step's matmul
  FLOPs. Forward: ``T * 2 B N (N + n_in)`` (recurrence and input projection) plus
  ``2 B N n_out`` (readout); backward twice that (gradients of the activations and of the
  weights), so ``3x`` the forward in all. Elementwise work is not counted, so the bound is
  optimistic: a sequence of ``(16, 128) @ (128, 128)`` products cannot run at large-GEMM speed.
"""

from __future__ import annotations

import statistics
import time

import jax
import jax.numpy as jnp

from benchmarks import THREADS, Row, Timing, time_call
from benchmarks._steps import rnnlab_step

N_IN, N_OUT = 2, 1


def step_flops(n: int, T: int, batch: int) -> int:
    forward = T * 2 * batch * n * (n + N_IN) + 2 * batch * n * N_OUT
    return 3 * forward


def gemm_timing(flops: int, repeats: int) -> tuple[Timing, int]:
    """A square ``m x m`` float32 matmul with ``2 m^3`` closest to ``flops``."""
    m = max(1, round((flops / 2) ** (1 / 3)))
    ka, kb = jax.random.split(jax.random.key(0))
    a = jax.random.normal(ka, (m, m), jnp.float32)
    b = jax.random.normal(kb, (m, m), jnp.float32)
    mm = jax.jit(jnp.matmul)
    return time_call(lambda: mm(a, b), repeats), m


def torch_step_timing(n: int, T: int, batch: int, repeats: int, lr: float = 1e-3) -> Timing:
    import torch

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    rnn = torch.nn.RNN(N_IN, n, nonlinearity="relu")  # time-first input, as rnnlab's
    readout = torch.nn.Linear(n, N_OUT)
    opt = torch.optim.SGD(list(rnn.parameters()) + list(readout.parameters()), lr=lr)
    x = torch.randn(T, batch, N_IN)
    y = torch.randn(batch, N_OUT)

    def step():
        opt.zero_grad(set_to_none=True)
        hs, _ = rnn(x)
        loss = torch.mean((readout(hs[-1]) - y) ** 2)
        loss.backward()
        opt.step()
        return loss

    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    step()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        runs.append(time.perf_counter() - t0)
    median = statistics.median(runs)
    return Timing(median, runs, max(first - median, 0.0))


def run(quick: bool) -> list[Row]:
    n, T, batch = 128, (100 if quick else 784), 16
    repeats = 3 if quick else 9
    ours = rnnlab_step("relu-rnn", n, T, batch, repeats)
    flops = step_flops(n, T, batch)
    gemm, m = gemm_timing(flops, repeats)
    shape = {"n": n, "T": T, "batch": batch, "dtype": "float32", "optimiser": "sgd"}
    rows = []
    try:
        theirs = torch_step_timing(n, T, batch, repeats)
    except ImportError:
        theirs = None
    if theirs is not None:
        rows.append(Row("relu-step", "torch / rnnlab step time", theirs.median / ours.median, target=2.0,
                        at_least=True, detail=shape | {"rnnlab": ours.as_record(), "torch": theirs.as_record()}))
    rows.append(Row("relu-step", "rnnlab step / GEMM of equal FLOPs", ours.median / gemm.median, target=3.0,
                    detail=shape | {"flops": flops, "gemm_m": m, "gemm_gflops_per_s": 2 * m**3 / gemm.median / 1e9,
                                    "step_gflops_per_s": flops / ours.median / 1e9,
                                    "rnnlab": ours.as_record(), "gemm": gemm.as_record()}))
    rows.append(Row("relu-step", "rnnlab step time", ours.median * 1e3, unit="ms",
                    detail={"compile_s": ours.compile}))
    return rows
