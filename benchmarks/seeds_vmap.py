"""K seeds vmapped in one program vs the same K runs one after the other.

Both sides run the training loop's own compiled chunk (:func:`rnnlab.training.loop.make_train_chunk`,
``length`` steps in one ``lax.scan``, data generated inside), as ``rnnlab train --seeds K``
does: vmapped over K stacked states and data keys, or jitted for one seed and called K
times. Throughput ratio = (K sequential chunks' time) / (one vmapped chunk's time).
Model: ``relu-rnn`` on ``addition``, N=64, T=100, batch 16, SGD (small, as a sweep over
seeds of a small model is where vmapping is used); the same at N=16 is reported without a
target. The detail gives each side's matmul GFLOP/s: when the sequential runs already go
near the speed of one core's small matmuls, vmapping has little fixed cost left to save.
"""

from __future__ import annotations

import jax

from benchmarks import Row, block, time_stateful
from rnnlab.training import loop, seeds
from rnnlab.training.config import TrainConfig

K = 8


def matmul_flops(n: int, T: int, batch: int, length: int, n_in: int = 2) -> int:
    """Matmul FLOPs of one seed's chunk: forward ``T * 2 B n (n + n_in)``, backward twice that."""
    return 3 * T * 2 * batch * n * (n + n_in) * length


def measure(n: int, T: int, batch: int, length: int, repeats: int) -> dict:
    cfg = TrainConfig(task="addition", model="relu-rnn", n=n, T=T, batch=batch, optimiser="sgd", seeds=K)
    exp = loop.build(cfg)
    init_keys, data_keys = seeds.seed_keys(cfg)
    chunk = loop.make_train_chunk(exp.cell, exp.task, exp.tx, exp.labels, batch, length)
    states = jax.jit(jax.vmap(lambda key: loop.init_state(exp, key)))(init_keys)

    # Split before the vmapped run: its donated input is deleted.
    singles = block([jax.tree.map(lambda a, k=k: a[k], states) for k in range(K)])
    vmapped = jax.jit(jax.vmap(chunk), donate_argnums=0)
    t_vmap, _ = time_stateful(lambda s: vmapped(s, data_keys)[0], states, repeats)

    single = jax.jit(chunk, donate_argnums=0)

    def sequential(ss):
        return [single(s, data_keys[k])[0] for k, s in enumerate(ss)]

    t_seq, _ = time_stateful(sequential, singles, repeats)
    flops = K * matmul_flops(n, T, batch, length)
    return {"k": K, "n": n, "T": T, "batch": batch, "steps_per_chunk": length, "model": "relu-rnn",
            "vmapped": t_vmap.as_record(), "sequential": t_seq.as_record(),
            "vmapped_gflops_per_s": flops / t_vmap.median / 1e9, "sequential_gflops_per_s": flops / t_seq.median / 1e9,
            "ratio": t_seq.median / t_vmap.median}


def run(quick: bool) -> list[Row]:
    n, T, batch, length = (32, 50, 16, 5) if quick else (64, 100, 16, 20)
    repeats = 3 if quick else 5
    d = measure(n, T, batch, length, repeats)
    rows = [Row("seeds-vmap", f"throughput {K} vmapped / {K} sequential", d["ratio"], target=3.0,
                at_least=True, detail=d)]
    if not quick:
        # No target: a smaller model, where each step's fixed cost outweighs its arithmetic.
        small = measure(16, T, batch, length, repeats)
        rows.append(Row("seeds-vmap", "same, N=16 (no target)", small["ratio"], detail=small))
    return rows
