"""A map of the user's own: any JAX function ``theta -> W`` measured like the built-ins.

The contract (Python and ``rnnlab capacity --param package.module:function``): a function
``build(n)`` returns a pair ``(matrix, sample)``:

- ``matrix(theta) -> W``: ``theta`` a float array of shape ``(P,)``, ``W`` of shape ``(n, n)``;
  a complex ``W`` must be unitary (the manifold is U(n), dimension n^2), a real ``W`` orthogonal
  (O(n), dimension n(n-1)/2). It must be differentiable by JAX (``jax.jvp``).
- ``sample(key) -> theta``: a random parameter point of shape ``(P,)`` from a JAX PRNG key.

:func:`custom_map` checks, before any rank is taken, that ``W`` has the right shape, is
finite, and lies on its manifold (``|W^H W - I| <= 100 n eps`` at a sampled point); a map
that fails gets a ``ValueError`` naming the problem. The report then lists P, the rank,
the manifold's dimension, the gap, and the null-space dimension; there are no known
redundancies to name for an opaque function, so every null direction is "not explained".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.capacity.factors import Factor
from rnnlab.capacity.parameterizations import Parameterization
from rnnlab.errors import UsageError


@dataclass(frozen=True)
class CustomFactor(Factor):
    """A user map as one factor: ``apply(theta, x) = matrix(theta) @ x``."""

    matrix: Callable | None = None
    sampler: Callable | None = None
    num_params: int = 0

    @property
    def size(self) -> int:
        return self.num_params

    def apply(self, theta, x):
        return jnp.asarray(self.matrix(theta)).astype(x.dtype) @ x

    def sample(self, key, dtype=jnp.float64):
        return jnp.asarray(self.sampler(key), dtype)


def custom_map(matrix: Callable, sample: Callable, n: int, name: str = "custom") -> Parameterization:
    """Wrap ``matrix(theta) -> W (n, n)`` and ``sample(key) -> theta (P,)`` as a :class:`Parameterization`.

    Raises ``ValueError`` if the sampled ``theta`` is not a finite vector, or ``W`` is not an
    ``(n, n)`` finite matrix on U(n) (complex) or O(n) (real).
    """
    if not callable(matrix) or not callable(sample):
        raise UsageError(f"{name}: expected two callables (matrix, sample)")
    with jax.enable_x64(True):
        try:
            theta = np.asarray(sample(jax.random.key(0)))
        except Exception as e:  # the user's code: report what it raised, in one line
            raise UsageError(f"{name}: sample(key) failed: {type(e).__name__}: {e}") from None
        if theta.ndim != 1 or theta.size == 0 or not np.issubdtype(theta.dtype, np.floating):
            raise UsageError(f"{name}: sample(key) must return a nonempty float vector (P,), got "
                             f"{theta.dtype} of shape {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise UsageError(f"{name}: sample(key) returned NaN or inf")
        try:
            w = np.asarray(matrix(jnp.asarray(theta, jnp.float64)))
        except Exception as e:
            raise UsageError(f"{name}: matrix(theta) failed: {type(e).__name__}: {e}") from None
    if w.shape != (n, n):
        raise UsageError(f"{name}: matrix(theta) must have shape ({n}, {n}), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise UsageError(f"{name}: matrix(theta) has NaN or inf entries")
    real = not np.iscomplexobj(w)
    err = float(np.max(np.abs(w.conj().T @ w - np.eye(n))))
    tol = 100 * n * np.finfo(np.float64).eps
    if err > tol:
        kind = "orthogonal" if real else "unitary"
        raise UsageError(f"{name}: matrix(theta) is not {kind} at a sampled point: max |W^H W - I| = {err:.1e} "
                         f"> {tol:.1e}")
    factor = CustomFactor(n, name, matrix=matrix, sampler=sample, num_params=int(theta.size))
    return Parameterization(name, n, None, (factor,), manifold="O" if real else "U")


def load_builder(spec: str) -> Callable:
    """The function ``build`` named by ``package.module:function``."""
    module_name, _, func_name = spec.partition(":")
    if not module_name or not func_name:
        raise UsageError(f"--param {spec!r}: write a map of your own as package.module:function")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        raise UsageError(f"--param {spec!r}: cannot import {module_name}: {type(e).__name__}: {e}") from None
    build = getattr(module, func_name, None)
    if not callable(build):
        raise UsageError(f"--param {spec!r}: {module_name} has no function {func_name}")
    return build


@dataclass(frozen=True)
class CustomEntry:
    """A registry-like entry for ``package.module:function``: call it with ``n`` like the built-ins."""

    name: str
    build: Callable
    default_layers: None = None

    @property
    def description(self) -> str:
        return f"user map {self.name}"

    def __call__(self, n: int, layers: int | None = None, structure_seed: int = 0) -> Parameterization:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise UsageError(f"n must be a positive integer, got {n!r}")
        try:
            pair = self.build(int(n))
        except Exception as e:  # the user's code: report what it raised, in one line
            raise UsageError(f"{self.name}: building the map for n={n} failed: {type(e).__name__}: {e}") from None
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise UsageError(f"{self.name}: must return a pair (matrix, sample), got {type(pair).__name__}")
        return custom_map(*pair, n=int(n), name=self.name)

    def structure(self, n: int, layers: int | None = None) -> tuple[Factor, ...]:
        """The map's factors at size ``n``, as the built-ins' :meth:`Entry.structure`. An opaque
        function tells its P only by being built and sampled, so this builds (and checks) it."""
        return self(n).factors

    def num_params(self, n: int, layers: int | None = None) -> int:
        return self(n).num_params


def load_entry(spec: str) -> CustomEntry:
    return CustomEntry(spec, load_builder(spec))
