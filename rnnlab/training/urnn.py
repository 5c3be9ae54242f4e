"""Unitary RNNs (Wisdom et al. 2016): the full-capacity uRNN and the restricted (Arjovsky) uRNN.

Both run ``z_t = W h_{t-1} + V x_t``, ``h_t = modReLU(z_t, b)``, ``y_t = U [Re h_t; Im h_t] + c``.
The complex state is carried as the real vector ``[Re h, Im h]`` of length ``2N`` so that
``W h`` is one real matmul with the ``(2N, 2N)`` block matrix
``[[Re W^T, Im W^T], [-Im W^T, Re W^T]]`` (faster on CPU than complex arithmetic, and the
readout ``U [Re h; Im h]`` needs that vector anyway).

- :class:`FullURNN`: ``W`` is a dense complex unitary leaf ``"W"`` (Haar init), labelled for
  the Cayley step on U(N).
- :class:`RestrictedURNN`: ``W = D3 R2 F^-1 D2 Pi R1 F D1`` of
  :func:`rnnlab.capacity.get` ``("restricted")``, parameter leaf ``"theta"`` (7N reals),
  trained by the Euclidean optimiser. Two ways to run it, equal in values and gradients:
  ``dense`` forms ``W`` once per sequence (the factors applied to the identity) and does
  one dense matmul per time step, gradients reaching the 7N angles through ``W``;
  ``fft`` applies the factors (two FFTs, two reflections, three diagonals) to the state at
  every time step. ``path="auto"`` picks dense below :data:`FFT_FROM` units.

``UnitaryRNN(n, n_in, n_out, capacity="full" | "restricted")`` builds the matching class.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.capacity.factors import DFT, Diagonal, Permutation, Reflection
from rnnlab.errors import UsageError
from rnnlab.training.cell_base import UNITARY, Cell, Params, complex_dtype, glorot, size
from rnnlab.training.recurrence import _sum_to

#: Restricted uRNN size from which ``path="auto"`` applies the factors at every step instead
#: of one dense matmul. Measured train steps on the project's 2-core CPU, idle
#: (``benchmarks/paper_steps.py``, dense / FFT time, T = 200, batch 20), after modReLU's hand
#: VJP: 0.49 at N = 64, 0.61 at 128, 0.70 at 192, 0.78 at 256, 1.04 at 384, 1.35 at 512.
FFT_FROM = 300

#: The uRNNs' initial states (``UnitaryRNN.h0``).
H0_CHOICES = ("zero", "learned")


def _mod_relu_value(z, b, eps: float = 0.0):
    n = b.shape[-1]
    # Viewing z as (..., 2, n) avoids slicing and re-concatenating inside the time loop.
    parts = z.reshape(z.shape[:-1] + (2, n))
    sq = jnp.sum(parts * parts, axis=-2)
    if eps:
        mod = jnp.sqrt(sq + eps)
        scale = jax.nn.relu(mod + b) / (mod + eps)
    else:
        nonzero = sq > 0
        mod = jnp.sqrt(jnp.where(nonzero, sq, 1.0))
        scale = jnp.where(nonzero, jax.nn.relu(mod + b) / mod, 0.0)
    return (parts * scale[..., None, :]).reshape(z.shape)


def _mod_relu_bwd_with(eps: float, res, g):
    z, b = res
    n = b.shape[-1]
    re, im = z[..., :n], z[..., n:]
    gr, gi = g[..., :n], g[..., n:]
    sq = re * re + im * im
    zg = re * gr + im * gi
    if eps:
        inv = jax.lax.rsqrt(sq + eps)  # 1 / m, m = sqrt(|z|^2 + eps) >= sqrt(eps)
        m = (sq + eps) * inv
        inv_d = 1.0 / (m + eps)  # 1 / d, d = m + eps
        active = m + b > 0
        s = jnp.where(active, (m + b) * inv_d, 0.0)
        k = jnp.where(active, (eps - b) * inv_d * inv_d * inv * zg, 0.0)
        db = jnp.where(active, zg * inv_d, 0.0)
    else:
        nonzero = sq > 0
        inv = jax.lax.rsqrt(jnp.where(nonzero, sq, 1.0))  # 1 / |z|
        active = nonzero & (sq * inv + b > 0)
        s = jnp.where(active, 1.0 + b * inv, 0.0)
        k = jnp.where(active, -b * inv * inv * inv * zg, 0.0)
        db = jnp.where(active, zg * inv, 0.0)
    dz = jnp.concatenate([s * gr + k * re, s * gi + k * im], axis=-1)
    # Sum over the axes that broadcasting b against z added (time, batch).
    return dz.astype(z.dtype), _sum_to(db, b.shape).astype(b.dtype)


@functools.lru_cache(maxsize=None)
def mod_relu_with(eps: float = 0.0):
    """modReLU with the small ``eps`` of the authors' code, as a function ``phi(z, b)``.

    On the real form ``z = [Re, Im]`` ``(..., 2n)``: ``relu(m + b) z / (m + eps)`` with
    ``m = sqrt(|z|^2 + eps)`` per complex unit (the uRNN authors' layers use ``eps = 1e-5``).
    ``eps = 0`` is the exact formula ``relu(|z| + b) z / |z|`` (:func:`mod_relu`). The eps
    bounds the derivative: across a unit the Jacobian is at most ``|1 + b / m|`` and
    ``m >= sqrt(eps)``, where the exact formula's ``1 + b / |z|`` grows without bound as
    ``|z| -> 0`` when ``b > 0``. But at ``z = 0`` the eps form passes ``(sqrt(eps) + b) /
    (sqrt(eps) + eps)`` times the gradient back (the exact form nothing): a state resting at 0
    for many steps (a zero initial state and zero inputs) multiplies it by that at every step,
    and it overflows once ``b`` is a few times ``sqrt(eps)``.

    The backward pass is written out (a custom VJP): with ``d = m + eps``, on an active unit
    (``m + b > 0``) the output is ``r z`` with ``r = (m + b) / d``, and the cotangent ``g``
    gives ``dz = r g + ((eps - b) / (d^2 m)) (z . g) z`` per complex unit and
    ``db = (z . g) / d``; inactive units pass nothing (for ``eps = 0``: ``r = 1 + b / |z|``,
    ``(eps - b) / (d^2 m) = -b / |z|^3``). Equal to autodiff of the formula to rounding;
    autodiff took twice as long, and the uRNNs' backward time loop runs it at every step
    (6-10% of a restricted uRNN N = 470 copy train step here with both cores free, 12-20% on
    one core beside another job). One function object per ``eps`` (cached), so a compiled
    step is reused.
    """
    eps = float(eps)
    if not (eps >= 0 and np.isfinite(eps)):
        raise ValueError(f"modReLU eps must be a finite number >= 0, got {eps!r}")

    @jax.custom_vjp
    def phi(z: jax.Array, b: jax.Array) -> jax.Array:
        return _mod_relu_value(z, b, eps)

    phi.defvjp(lambda z, b: (_mod_relu_value(z, b, eps), (z, b)), functools.partial(_mod_relu_bwd_with, eps))
    return phi


#: modReLU exactly, ``relu(|z| + b) z / |z|`` (``eps = 0``). At ``z = 0`` the output is 0 (the
#: formula's limit when ``b <= 0``); ``where`` guards keep the value and the gradient finite there.
mod_relu = mod_relu_with(0.0)


def complex_to_real_block(w: jax.Array) -> jax.Array:
    """``(2n, 2n)`` real ``M`` with ``[Re h, Im h] @ M = [Re(W h), Im(W h)]`` for complex ``W (n, n)``."""
    wr, wi = w.real.T, w.imag.T
    return jnp.block([[wr, wi], [-wi, wr]])


def _row_constant(factor, theta: jax.Array, dtype):
    """What applying ``factor`` to many rows needs, computed once per sequence.

    Diagonal: ``exp(i w)``; reflection: ``u = sqrt(2) v / |v|`` (so ``R x = x - u (u^H x)``);
    fixed factors (DFT, permutation): nothing. Computed inside the time loop instead, XLA
    would fuse the ``exp`` into the product and recompute it for every row.
    """
    if isinstance(factor, Diagonal):
        return jnp.exp(1j * theta).astype(dtype)
    if isinstance(factor, Reflection):
        n = factor.n
        v = (theta[:n] + 1j * theta[n:]).astype(dtype)
        return v * jnp.sqrt(2.0 / jnp.vdot(v, v).real)
    if isinstance(factor, (DFT, Permutation)):
        return None
    raise TypeError(f"no row form for the factor {type(factor).__name__}")


def _apply_rows(factor, c, x: jax.Array) -> jax.Array:
    """``(F x_r)`` for every row ``x_r`` of ``x (..., n)``, with ``c`` from :func:`_row_constant`."""
    if isinstance(factor, Diagonal):
        return x * c
    if isinstance(factor, Reflection):
        return x - (x @ c.conj())[..., None] * c
    if isinstance(factor, DFT):
        return (jnp.fft.ifft if factor.inverse else jnp.fft.fft)(x, axis=-1, norm="ortho")
    return _permute(x, factor.perm)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _permute(x: jax.Array, perm: tuple[int, ...]) -> jax.Array:
    """``x[..., perm]`` whose transpose is the inverse permutation's gather (JAX's own
    transpose of a gather is a scatter-add, several times slower on CPU)."""
    return x[..., np.asarray(perm)]


def _permute_fwd(x, perm):
    return _permute(x, perm), None


def _permute_bwd(perm, _, g):
    return (g[..., np.argsort(perm)],)


_permute.defvjp(_permute_fwd, _permute_bwd)


@dataclass(frozen=True)
class UnitaryRNN(Cell):
    """What both uRNNs share: input ``V`` in real form ``(2n, n_in)`` (rows ``[Re V; Im V]``, so a
    real input drives both parts of the state), modReLU bias ``b``, readout of ``[Re h, Im h]``."""

    capacity: str = "full"
    structure_seed: int = 0
    #: modReLU's eps (:func:`mod_relu_with`): 0 is the exact formula, the authors' code 1e-5.
    modrelu_eps: float = 0.0
    #: Initial state: ``"zero"`` (fixed), or ``"learned"``: a trained leaf ``"h0"`` (the real form,
    #: ``2n`` entries) drawn uniform in ``+-sqrt(3 / (2n))``, as the authors' code, so that the
    #: state does not rest at 0 while the inputs are zero.
    h0: str = "zero"

    def __post_init__(self):
        mod_relu_with(self.modrelu_eps)  # a ValueError unless eps is finite and >= 0
        if self.h0 not in H0_CHOICES:
            raise UsageError(f"h0 must be one of {', '.join(H0_CHOICES)}, got {self.h0!r}")

    def __new__(cls, *args, **kwargs):
        if cls is UnitaryRNN:
            capacity = kwargs.get("capacity", args[3] if len(args) > 3 else "full")
            classes = {"full": FullURNN, "restricted": RestrictedURNN}
            if capacity not in classes:
                raise ValueError(f"capacity must be 'full' or 'restricted', got {capacity!r}")
            cls = classes[capacity]
        return super().__new__(cls)

    @property
    def state_size(self) -> int:
        return 2 * self.n

    @property
    def phi(self):
        """The cell's modReLU ``phi(z, b)``."""
        return mod_relu_with(self.modrelu_eps)

    def is_unitary(self) -> bool:
        return True

    def init_recurrent(self, key: jax.Array, dtype) -> Params:
        raise NotImplementedError

    def init(self, key, dtype=jnp.float32):
        kw, kv, ku = jax.random.split(key, 3)
        params = self.init_recurrent(kw, dtype)
        params["V"] = glorot(kv, (2 * self.n, self.n_in), dtype)
        params["b"] = jnp.zeros((self.n,), dtype)
        params["W_out"] = glorot(ku, (self.n_out, 2 * self.n), dtype)
        params["b_out"] = jnp.zeros((self.n_out,), dtype)
        if self.h0 == "learned":
            # Its own key (folded in), so the other leaves are those of the zero-h0 cell.
            bound = np.sqrt(3.0 / (2 * self.n))
            params["h0"] = jax.random.uniform(jax.random.fold_in(key, 1), (2 * self.n,), dtype, -bound, bound)
        return params

    def start_state(self, params, batch_shape, dtype):
        if self.h0 == "learned":
            return jnp.broadcast_to(params["h0"].astype(dtype), batch_shape + (2 * self.n,))
        return self.initial_state(batch_shape, dtype)

    def project_inputs(self, params, x):
        return x @ params["V"].T


@dataclass(frozen=True)
class FullURNN(UnitaryRNN):
    """Full-capacity uRNN: ``W`` a dense unitary leaf moved on U(N) by the Cayley step."""

    recurrent_leaf = "W"

    def __post_init__(self):
        super().__post_init__()
        if self.capacity != "full":
            raise ValueError(f"FullURNN has capacity 'full', got {self.capacity!r}")

    def init_recurrent(self, key, dtype):
        from rnnlab.analysis.unitary import haar_unitary

        return {"W": haar_unitary(key, self.n, complex_dtype(dtype))}

    def labels(self, params):
        return super().labels(params) | {"W": UNITARY}

    def num_params(self, params):
        # A unitary W has n^2 real degrees of freedom, not the 2 n^2 reals it is stored in.
        return sum(self.n * self.n if k == "W" else size(p) for k, p in params.items())

    def step_constants(self, params):
        return complex_to_real_block(params["W"]), params["b"]

    def step(self, consts, h, u):
        m, b = consts
        return self.phi(h @ m + u, b)

    def linear_form(self, params):
        m, b = self.step_constants(params)
        return m, b, self.phi


@dataclass(frozen=True)
class RestrictedURNN(UnitaryRNN):
    """Restricted-capacity uRNN (Arjovsky et al.): ``W(theta)``, 7N angles and reflection entries.

    ``path``: ``"dense"`` (form ``W`` once per sequence, one dense matmul per step),
    ``"fft"`` (apply the factors at every step) or ``"auto"`` (dense below :data:`FFT_FROM`).
    """

    capacity: str = "restricted"
    path: str = "auto"
    parameterization: object = field(default=None, compare=False, repr=False)

    recurrent_leaf = "theta"

    def __post_init__(self):
        super().__post_init__()
        if self.capacity != "restricted":
            raise ValueError(f"RestrictedURNN has capacity 'restricted', got {self.capacity!r}")
        if self.path not in ("auto", "dense", "fft"):
            raise ValueError(f"path must be 'auto', 'dense' or 'fft', got {self.path!r}")
        if self.parameterization is None:
            from rnnlab.capacity import get

            object.__setattr__(self, "parameterization", get("restricted")(self.n, structure_seed=self.structure_seed))

    @property
    def dense(self) -> bool:
        """Whether :meth:`apply` runs the dense path."""
        return self.path == "dense" or (self.path == "auto" and self.n < FFT_FROM)

    def init_recurrent(self, key, dtype):
        return {"theta": self.parameterization.init(key, dtype)}

    def recurrent_matrix(self, params):
        return self.parameterization.matrix(params["theta"])

    def row_constants(self, theta: jax.Array) -> tuple:
        """Per-factor constants of the FFT path (see :func:`_row_constant`), built once per sequence."""
        dtype = complex_dtype(theta.dtype)
        params = self.parameterization
        return tuple(_row_constant(f, theta[s], dtype) for f, s in zip(params.factors, params.slices()))

    def step_constants(self, params):
        return self.row_constants(params["theta"]), params["b"]

    def recur(self, consts: tuple, h: jax.Array) -> jax.Array:
        """``[Re, Im]`` of ``W h`` for the real-form state ``h (..., 2n)``, factor by factor.

        Row form, ``x @ W^T``: each factor acts along the last axis (an FFT along the last,
        contiguous axis is several times faster on CPU than along the first).
        """
        n = self.n
        x = (h[..., :n] + 1j * h[..., n:]).astype(complex_dtype(h.dtype))
        for f, c in zip(reversed(self.parameterization.factors), reversed(consts)):
            x = _apply_rows(f, c, x)
        return jnp.concatenate([x.real, x.imag], axis=-1).astype(h.dtype)

    def step(self, consts, h, u):
        rows, b = consts
        return self.phi(self.recur(rows, h) + u, b)

    def linear_form(self, params):
        if not self.dense:
            return None
        m = complex_to_real_block(self.recurrent_matrix(params)).astype(params["theta"].dtype)
        return m, params["b"], self.phi

    def recurrence_form(self, params):
        if self.dense:
            return super().recurrence_form(params)
        rows, b = self.step_constants(params)
        return self.recur, rows, b, self.phi
