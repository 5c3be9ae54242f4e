"""The registry of smooth maps ``theta in R^P -> W in U(N)``.

Each entry is a product of factors from :mod:`rnnlab.capacity.factors`:

==================  ==========================================================  ============
name                W                                                           P
==================  ==========================================================  ============
restricted          D3 R2 F^-1 D2 Pi R1 F D1 (Arjovsky, Shah & Bengio 2016)     7N
restricted-stack    L restricted blocks multiplied (``layers``, default 2)     7NL
full                W0 expm(A), A skew-Hermitian (the full-capacity tangent)   N^2
givens              L layers of 2x2 rotations, then a diagonal (EUNN style)     ~N L + N
householder         k complex reflections, then a diagonal                     2Nk + N
cayley              (I + A)^-1 (I - A) D, A skew-Hermitian                      N^2 + N
==================  ==========================================================  ============

``get(name)(n, layers=None, structure_seed=0)`` builds a :class:`Parameterization` for one
size. ``structure_seed`` fixes what is not a parameter (the permutation Pi, the base
point W0), so two calls with the same arguments describe the same map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import lcm

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.analysis.unitary import complex_dtype
from rnnlab.capacity.factors import (
    DFT,
    CayleyMap,
    Diagonal,
    Exponential,
    Factor,
    Fixed,
    Permutation,
    Reflection,
)
from rnnlab.capacity.eunn import eunn_fft_factors, fft_layers
from rnnlab.capacity.kronecker import KroneckerUnitary, prime_sizes
from rnnlab.capacity.meshes import clements_columns, mesh_factors, reck_columns
from rnnlab.capacity.orthogonal import RealReflection, RotationLayer, SignDiagonal, SkewCayley, SkewExponential
from rnnlab.capacity.rotations import GivensLayer
from rnnlab.errors import UsageError, check_int
from rnnlab.registry import Registry


@dataclass(frozen=True)
class Parameterization:
    """A map ``theta (P,) -> W (n, n)`` as the product ``factors[0] @ factors[1] @ ...``.

    Built by a registry entry (``get(name)(n)``); :mod:`rnnlab.capacity.custom` builds one
    from a map of your own.

    Attributes:
        name: the registry name (``restricted``, ``full``, ...).
        n: the size N of ``W``.
        layers: the number of layers of a layered family, None for the others.
        factors: the factors, leftmost first; each owns a slice of ``theta``.
        structure_seed: the seed of the fixed structure (the permutation Pi, the base point
            W0): part of the map's identity.
        manifold: ``"U"`` for a map onto U(n) (dimension n^2), ``"O"`` for O(n) or SO(n)
            (dimension n(n-1)/2).
    """

    name: str
    n: int
    layers: int | None
    factors: tuple[Factor, ...]
    #: The seed of the fixed structure (Pi, W0): part of the map's identity.
    structure_seed: int = 0
    manifold: str = "U"  # "U": U(n), dim n^2; "O": O(n) or SO(n), dim n(n-1)/2

    @property
    def num_params(self) -> int:
        """P, the number of real parameters (the length of ``theta``)."""
        return sum(f.size for f in self.factors)

    @property
    def manifold_dim(self) -> int:
        """Real dimension of the manifold the map lands on: n^2 for U(n), n(n-1)/2 for O(n)."""
        return self.n * (self.n - 1) // 2 if self.manifold == "O" else self.n * self.n

    def slices(self) -> list[slice]:
        """Where each factor's parameters lie in ``theta``.

        Returns:
            One slice per factor, in the order of ``factors``.
        """
        out, start = [], 0
        for f in self.factors:
            out.append(slice(start, start + f.size))
            start += f.size
        return out

    def apply(self, theta: jax.Array, x: jax.Array) -> jax.Array:
        """``W(theta) @ x``, factor by factor (no ``(n, n)`` matrix is formed).

        Args:
            theta: ``(P,)``, the parameters.
            x: ``(n, m)``, complex.

        Returns:
            ``(n, m)``, complex.
        """
        for f, s in zip(reversed(self.factors), reversed(self.slices())):
            x = f.apply(theta[s], x)
        return x

    def matrix(self, theta: jax.Array) -> jax.Array:
        """The matrix ``W(theta)``.

        Args:
            theta: ``(P,)``, the parameters.

        Returns:
            ``(n, n)``, unitary (orthogonal for a real map); complex128 for float64
            ``theta``, else complex64.
        """
        return self.apply(theta, jnp.eye(self.n, dtype=complex_dtype(theta.dtype)))

    def init(self, key: jax.Array, dtype=jnp.float32) -> jax.Array:
        """A random point: the paper's initialisation where it has one.

        Args:
            key: a JAX PRNG key.
            dtype: float32 or float64.

        Returns:
            ``(P,)``, the parameters.
        """
        keys = jax.random.split(key, len(self.factors))
        parts = [f.sample(k, dtype) for f, k in zip(self.factors, keys)]
        return jnp.concatenate([p.astype(dtype) for p in parts]) if parts else jnp.zeros((0,), dtype)


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    build: Callable[[int, int | None, np.random.Generator], list[Factor]]
    default_layers: Callable[[int], int] | None = None  # None: the map takes no `layers`
    manifold: str = "U"

    def __call__(self, n: int, layers: int | None = None, structure_seed: int = 0) -> Parameterization:
        check_int(n, "n")
        if self.default_layers is None:
            layers = None
        else:
            layers = self.default_layers(n) if layers is None else layers
            check_int(layers, "layers")
        rng = np.random.default_rng([structure_seed, n])
        return Parameterization(self.name, int(n), layers, tuple(self.build(int(n), layers, rng)), int(structure_seed),
                                self.manifold)

    def structure(self, n: int, layers: int | None = None) -> tuple[Factor, ...]:
        """The factors at size ``n`` with nothing of size N^2 drawn (no base point W0, an
        identity permutation): enough to count parameters and factors, so that a size can be
        refused before any allocation. Not a usable map."""
        if self.default_layers is None:
            layers = None
        elif layers is None:
            layers = self.default_layers(n)
        return tuple(self.build(int(n), layers, None))

    def num_params(self, n: int, layers: int | None = None) -> int:
        """P at size ``n``, without building the map."""
        return sum(f.size for f in self.structure(n, layers))


# Builders receive rng=None when only the factor sizes are wanted (Entry.num_params).


def _restricted_block(n: int, rng: np.random.Generator | None, tag: str = "") -> list[Factor]:
    perm = tuple(range(n)) if rng is None else tuple(int(p) for p in rng.permutation(n))
    return [
        Diagonal(n, f"D3{tag}"),
        Reflection(n, f"R2{tag}"),
        DFT(n, f"F^-1{tag}", inverse=True),
        Diagonal(n, f"D2{tag}"),
        Permutation(n, f"Pi{tag}", perm=perm),
        Reflection(n, f"R1{tag}"),
        DFT(n, f"F{tag}"),
        Diagonal(n, f"D1{tag}"),
    ]


def _restricted(n, layers, rng):
    return _restricted_block(n, rng)


def _restricted_stack(n, layers, rng):
    # Block 1 is applied first, so it is the rightmost in the product.
    blocks = [_restricted_block(n, rng, f"[{b + 1}]") for b in range(layers)]
    return [f for block in reversed(blocks) for f in block]


def _full(n, layers, rng):
    from scipy.stats import unitary_group

    if rng is None:
        return [Fixed(n, "W0", matrix=None), Exponential(n, "expm(A)")]
    w0 = unitary_group.rvs(n, random_state=rng) if n > 1 else np.exp(1j * rng.uniform(-np.pi, np.pi, (1, 1)))
    return [Fixed(n, "W0", matrix=np.asarray(w0)), Exponential(n, "expm(A)")]


def _givens(n, layers, rng):
    # Layer 1 acts first (rightmost); offsets alternate 0, 1, 0, ... as in the tunable EUNN.
    rot = [GivensLayer(n, f"G{k + 1}", offset=k % 2) for k in range(layers)]
    return [Diagonal(n, "D")] + list(reversed(rot))


def _householder(n, layers, rng):
    return [Reflection(n, f"H{k + 1}") for k in range(layers)] + [Diagonal(n, "D")]


def _cayley(n, layers, rng):
    return [CayleyMap(n, "cay(A)"), Diagonal(n, "D")]


def _lie_algebra(n, layers, rng):
    return [Exponential(n, "expm(A)")]


def _kru(n, layers, rng):
    return [KroneckerUnitary(n, "U1(x)..(x)Um", sizes=prime_sizes(n))]


def _eunn_fft(n, layers, rng):
    return eunn_fft_factors(n, layers)


def _reck(n, layers, rng):
    return mesh_factors(n, reck_columns(n))


def _clements(n, layers, rng):
    return mesh_factors(n, clements_columns(n))


def _exprnn(n, layers, rng):
    return [SkewExponential(n, "expm(S)")]


def _scornn(n, layers, rng):
    # scoRNN's D has rho entries -1 (a hyperparameter); here rho = n // 2 at seeded places.
    signs = np.ones(n, int)
    if rng is not None:  # rng=None: only sizes are wanted, and D+- has no parameters
        signs[rng.permutation(n)[: n // 2]] = -1
    return [SkewCayley(n, "cay(S)"), SignDiagonal(n, "D+-", signs=tuple(int(x) for x in signs))]


def _householder_real(n, layers, rng):
    return [RealReflection(n, f"H{k + 1}") for k in reversed(range(layers))]


def _givens_real(n, layers, rng):
    return [RotationLayer(n, f"G{k + 1}", offset=k % 2) for k in reversed(range(layers))]


REGISTRY: Registry[Entry] = Registry("parameterization")
for _entry in [
    Entry("restricted", "Arjovsky et al. D3 R2 F^-1 D2 Pi R1 F D1 (7N params)", _restricted),
    Entry("restricted-stack", "L restricted blocks multiplied (7NL params)", _restricted_stack, lambda n: 2),
    Entry("full", "W0 expm(A), A skew-Hermitian from N^2 reals (full-capacity tangent space)", _full),
    Entry("givens", "L layers of 2x2 unitary rotations (EUNN) then a diagonal phase", _givens, lambda n: max(n, 2)),
    Entry("householder", "k complex Householder reflections then a diagonal phase", _householder, lambda n: n),
    Entry("cayley", "(I + A)^-1 (I - A) D, A skew-Hermitian from N^2 reals", _cayley),
    Entry("eunn-fft", "FFT-style EUNN (Jing et al. 2017): log2 N butterfly layers of 2x2 rotations, then a "
          "diagonal phase", _eunn_fft, fft_layers),
    Entry("kru", "Kronecker product of small unitaries expm(A_k), one per prime factor of N (KRU, Jose et al. "
          "2018)", _kru),
    Entry("lie-algebra", "expm(sum_j lambda_j T_j), T_j a basis of u(N) (Hyland & Ratsch 2017)", _lie_algebra),
    Entry("reck", "triangular mesh of N(N-1)/2 Mach-Zehnder blocks and N output phases (Reck et al. 1994)", _reck),
    Entry("clements", "rectangular mesh of N(N-1)/2 Mach-Zehnder blocks and N output phases (Clements et al. "
          "2016)", _clements),
    Entry("exprnn", "expm(S), S real skew-symmetric: onto SO(N) (expRNN, Lezcano-Casado & Martinez-Rubio 2019)",
          _exprnn, manifold="O"),
    Entry("scornn", "(I + S)^-1 (I - S) D, S real skew, D fixed +-1 (scoRNN, Helfrich et al. 2018)", _scornn,
          manifold="O"),
    Entry("householder-real", "k real Householder reflections (oRNN, Mhammedi et al. 2017); default k = N",
          _householder_real, lambda n: n, manifold="O"),
    Entry("givens-real", "L brick layers of real 2x2 rotations (Givens product); default L = N", _givens_real,
          lambda n: max(n, 2), manifold="O"),
]:
    REGISTRY.add(_entry.name, _entry, _entry.description)


def names() -> list[str]:
    """The registered parameterizations' names (``rnnlab capacity --help`` describes each).

    Returns:
        The names, in registration order.
    """
    return REGISTRY.names()


def get(name: str) -> Entry:
    """The registry entry ``name``; call it as ``get(name)(n, layers=None, structure_seed=0)``.

    Args:
        name: a registered name (:func:`names`), or ``package.module:function`` for a map
            of your own (the contract is in ``docs/capacity.md``).

    Returns:
        The entry: called with a size, it builds the :class:`Parameterization`.

    Raises:
        UsageError: an unknown name (the message names the choices), or a map of your own
            that cannot be loaded.
    """
    if ":" in name:  # package.module:function, a map of the user's own
        from rnnlab.capacity.custom import load_entry

        return load_entry(name)
    return REGISTRY.get(name)


def takes_layers(name: str) -> bool:
    return get(name).default_layers is not None


def dft_order(p: Parameterization) -> int:
    """The cyclotomic order whose field holds every exact entry of ``p`` (i and the DFT roots)."""
    m = 4
    for f in p.factors:
        if isinstance(f, DFT):
            m = lcm(m, f.n)
    return m
