"""Splitting a batch, or the seed axis of vmapped seeds, over the host's CPU devices.

With ``RNNLAB_HOST_DEVICES=2`` (:mod:`rnnlab.devices`) JAX sees two CPU devices; a
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
