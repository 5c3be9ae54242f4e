"""Splitting a batch, or the seed axis of vmapped seeds, over the host's CPU devices.

With two host devices (:mod:`rnnlab.devices`; the command line's default) JAX sees two CPU devices; a
sharding constraint on the batch axis makes XLA run each half of every step's matmuls on
its own device (its own thread) and sum the parameter gradients across them; seeds stacked
on a leading axis are placed half on each device. With one device every function here is
the identity, so the training loop calls them unconditionally. A split that does not
divide evenly is not made (the work stays on one device). Results differ from the unsplit
ones only by the order of floating-point sums (the gradient is a sum over the batch).
"""

from __future__ import annotations

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "host"


def host_mesh() -> Mesh | None:
    """A 1-D mesh over the CPU devices, or ``None`` when there is only one."""
    devices = jax.devices()
    if len(devices) < 2 or devices[0].platform != "cpu":
        return None
    return Mesh(devices, (AXIS,))


#: A single seed's batch is split only when a train step's recurrence does at least this many
#: multiply-adds forward (``T * batch * state_size^2``). Measured on 2 idle cores, split /
#: unsplit step time: ReLU N=16..128 at T=100 (0.4-26 M) 1.06-3.1 (slower), LSTM N=68 T=200
#: batch 20 (74 M) 0.97, np-RNN N=100 T=784 (125 M) 0.72, ReLU N=128 T=784 (205 M) 0.76,
#: full uRNN N=128 T=200 batch 20 (262 M) 0.66: below this the devices' per-step
#: synchronisation costs more than half the work saves.
SPLIT_FROM_MACS = 1e8


def batch_split_pays(state_size: int, T: int, batch: int) -> bool:
    """Whether splitting one seed's batch over the host devices is expected to be faster."""
    return T * batch * state_size * state_size >= SPLIT_FROM_MACS


def describe(batch: int, seeds: int, split_batch: bool) -> str:
    """What is split over the host devices, for the run's log: ``""`` with one device."""
    mesh = host_mesh()
    if mesh is None:
        return ""
    what, size = ("seeds", seeds) if seeds > 1 else ("batch", batch)
    if size % mesh.size:
        return f"{what} ({size}) not split: not divisible by {mesh.size} host devices"
    if seeds == 1 and not split_batch:
        return f"batch not split over {mesh.size} host devices: too little work per step"
    return f"{what} split over {mesh.size} host devices"


def split_batch(x: jax.Array, axis: int) -> jax.Array:
    """``x`` constrained to be split over the host devices along ``axis`` (inside ``jit``)."""
    mesh = host_mesh()
    if mesh is None or x.shape[axis] % mesh.size:
        return x
    spec = [None] * x.ndim
    spec[axis] = AXIS
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, PartitionSpec(*spec)))


def place_seeds(tree):
    """Arrays with a leading seed axis, placed split over the host devices along it."""
    mesh = host_mesh()
    leaves = jax.tree.leaves(tree)
    if mesh is None or not leaves or leaves[0].shape[0] % mesh.size:
        return tree
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec(AXIS)))
