"""Several seeds of one experiment in one program: their keys, and a function mapped over them."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rnnlab.training.config import TrainConfig


def over_seeds(fn, k: int, in_axes=0):
    """``fn`` mapped over a leading seed axis of size ``k``: :func:`jax.vmap` with ``in_axes``
    (0 for the arguments that carry the axis, None for those shared by every seed). For one
    seed the axis is squeezed away instead, so a single run does no batched matmuls; either
    way every output comes back with the leading ``(k,)`` axis."""
    if k > 1:
        return jax.vmap(fn, in_axes=in_axes)

    def single(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        args = [x if axis is None else jax.tree.map(lambda a: a[0], x) for x, axis in zip(args, axes)]
        return jax.tree.map(lambda a: a[None], fn(*args))

    return single


def seed_keys(cfg: TrainConfig) -> tuple[jax.Array, jax.Array]:
    """``(init_keys, data_keys)``, each ``(seeds,)``: run ``k`` uses ``key(seed + k)``."""
    roots = [jax.random.split(jax.random.key(cfg.seed + k)) for k in range(cfg.seeds)]
    return jnp.stack([r[0] for r in roots]), jnp.stack([r[1] for r in roots])
