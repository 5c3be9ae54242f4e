"""Recurrent cells: their parameters, their recurrence, and the registry of model names.

A cell is a frozen dataclass holding only static configuration (sizes, names); its
parameters are a plain ``dict`` pytree made by ``cell.init(key)``. Everything is a pure
function of ``(params, inputs)``:

- ``cell.step(params, h, u) -> h`` one time step. ``u`` is the already-projected input
  (``x_t @ W_in + b``); ``h`` and ``u`` may be unbatched ``(H,)`` or batched ``(B, H)``
  because the step is written with right-multiplications ``h @ M``.
- ``cell.apply(params, x, all_steps) -> y`` runs a whole sequence ``x (T, B, n_in)`` with
  ``lax.scan`` and returns ``(T, B, n_out)`` outputs (``all_steps``) or ``(B, n_out)`` from
  the last step. The input projection of all ``T`` steps is one matmul done before the
  scan, and every matrix the recurrence needs (``W^T``, the real form of a complex ``W``)
  is built once per call, outside the scan.

==================  =======================================================================
model               cell
==================  =======================================================================
tanh-rnn            h = tanh(W h + U x + b), W from the dynamics registry (``init``)
relu-rnn            h = relu(W h + U x + b), W from the dynamics registry (``init``)
irnn                relu-rnn with W = I (Le et al. 2015)
irnn-scaled         relu-rnn with W = s I (iRNN)
np-rnn              relu-rnn with the np initialisation (Talathi & Vartak)
np-tanh-rnn         tanh-rnn with the np initialisation
lstm                standard LSTM, forget-gate bias 1
restricted-urnn     uRNN, W = D3 R2 F^-1 D2 Pi R1 F D1 (Arjovsky et al.; 7N parameters)
full-urnn           uRNN, W a dense unitary optimised on U(N) by the Cayley step
exp-rnn             orthogonal RNN, W = expm(S - S^T) (Lezcano-Casado & Martinez-Rubio 2019)
==================  =======================================================================

The uRNN hidden state is complex; it is carried as the real vector ``[Re h, Im h]`` of
length ``2N`` so that ``W h`` is one real matmul with the ``(2N, 2N)`` block matrix
``[[Re W^T, Im W^T], [-Im W^T, Re W^T]]`` (faster on CPU than complex arithmetic, and the
readout ``U [Re h; Im h]`` needs that vector anyway).

Parameter counts (``cell.num_params``) are real degrees of freedom: a dense unitary ``W``
counts ``N^2`` (the dimension of U(N)) although it is stored as ``2 N^2`` reals, and the
skew-symmetric generator of ``exp-rnn`` counts ``N (N - 1) / 2``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError

Params = dict[str, jax.Array]

#: Label of a leaf updated by the Cayley step on U(N) (see :mod:`rnnlab.training.optim`).
UNITARY = "unitary"
#: Label of a leaf updated by the Euclidean optimiser.
EUCLIDEAN = "euclidean"
#: Label of a leaf that is not trained (e.g. everything but W in system identification).
FROZEN = "frozen"

MODRELU_EPS = 1e-5


def _glorot(key: jax.Array, shape: tuple[int, int], dtype) -> jax.Array:
    return math.sqrt(2.0 / sum(shape)) * jax.random.normal(key, shape, dtype)


def _size(p: jax.Array) -> int:
    return int(math.prod(p.shape))


def _relu(z, b):
    return jax.nn.relu(z)


def _tanh(z, b):
    return jnp.tanh(z)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def linear_recurrence(phi, all_steps: bool, m, b, h0, u):
    """``h_t = phi(h_{t-1} @ m + u_t, b)`` over ``u (T, ..., S)``: all ``h_t`` (``all_steps``) or the last.

    ``phi`` acts elementwise along the batch axes (it may mix the state axis, as modReLU
    does), and ``b`` is its parameter (size 0 when it has none). The result and its
    gradients are those of the plain ``lax.scan``; only the backward pass is arranged
    differently (a custom VJP): the reverse scan does one matmul per step (``dz_t @ m^T``)
    and keeps every ``dz_t``, and the gradient of ``m`` is then one large contraction
    ``sum_t h_{t-1}^T dz_t`` over all steps and the batch instead of a small matmul and a
    ``(S, S)`` accumulation inside every step. On a CPU the large contraction runs near
    GEMM speed, where the per-step ones ran at a fraction of it.
    """

    def body(h, u_t):
        h = phi(h @ m + u_t, b)
        return h, (h if all_steps else None)

    h_last, hs = jax.lax.scan(body, h0, u)
    return hs if all_steps else h_last


def _linear_recurrence_fwd(phi, all_steps, m, b, h0, u):
    def body(h, u_t):
        z = h @ m + u_t
        h_new = phi(z, b)
        # The state each step starts from, kept as it is so that dm needs no shifted copy.
        return h_new, (z, h, h_new if all_steps else None)

    h_last, (zs, h_prev, hs) = jax.lax.scan(body, h0, u)
    return (hs if all_steps else h_last), (m, b, h0, zs, h_prev)


def _linear_recurrence_bwd(phi, all_steps, res, ct):
    m, b, h0, zs, h_prev = res
    mt = m.T

    def dz_of(z, g):
        return jax.vjp(lambda zz: phi(zz, b), z)[1](g)[0]

    # g_t = dL/dh_t (from the outputs and from step t+1); dz_t = phi'(z_t)^T g_t. The g_t are
    # kept only when phi has a parameter b (its gradient needs them).
    keep_g = b.size > 0
    if all_steps:
        def body(back, xs):
            z_t, ct_t = xs
            g = ct_t + back
            dz = dz_of(z_t, g)
            return dz @ mt, ((g if keep_g else None), dz)

        dh0, (gs, dzs) = jax.lax.scan(body, jnp.zeros_like(h0), (zs, ct), reverse=True)
    else:
        def body(g, z_t):
            dz = dz_of(z_t, g)
            return dz @ mt, ((g if keep_g else None), dz)

        dh0, (gs, dzs) = jax.lax.scan(body, ct, zs, reverse=True)
    # dm = sum_t h_{t-1}^T dz_t: one contraction over the time and batch axes.
    lead = tuple(range(dzs.ndim - 1))
    dm = jnp.tensordot(h_prev, dzs, axes=(lead, lead))
    if keep_g:
        db = jax.vjp(lambda bb: phi(zs, bb), b)[1](gs)[0]
    else:
        db = jnp.zeros_like(b)
    if dh0.shape != h0.shape:  # h0 was broadcast over the batch by the first step
        dh0 = jnp.sum(dh0, axis=tuple(range(dh0.ndim - h0.ndim)))
    return dm.astype(m.dtype), db, dh0, dzs


linear_recurrence.defvjp(_linear_recurrence_fwd, _linear_recurrence_bwd)


@dataclass(frozen=True)
class Cell:
    """Shared interface. ``n`` hidden units, ``n_in`` inputs, ``n_out`` outputs per step."""

    n: int
    n_in: int
    n_out: int

    #: Name of the parameter leaf holding (or generating) the recurrent matrix.
    recurrent_leaf = "W"

    def init(self, key: jax.Array, dtype=jnp.float32) -> Params:
        raise NotImplementedError

    def labels(self, params: Params) -> dict[str, str]:
        """Optimiser label of every leaf (all Euclidean unless the cell says otherwise)."""
        return {k: EUCLIDEAN for k in params}

    def num_params(self, params: Params) -> int:
        return sum(_size(p) for p in params.values())

    def recurrent_matrix(self, params: Params) -> jax.Array:
        """The ``(n, n)`` recurrent matrix ``W`` (complex for uRNNs)."""
        return params[self.recurrent_leaf]

    def is_unitary(self) -> bool:
        """Whether ``W`` is unitary by construction (its unitarity error is then logged)."""
        return False

    def initial_state(self, batch_shape: tuple[int, ...], dtype) -> jax.Array:
        return jnp.zeros(batch_shape + (self.state_size,), dtype)

    @property
    def state_size(self) -> int:
        return self.n

    def project_inputs(self, params: Params, x: jax.Array) -> jax.Array:
        """``x (..., n_in) -> (..., state or gate size)``, applied to all steps at once."""
        raise NotImplementedError

    def prepare(self, params: Params):
        """Per-sequence constants of the recurrence (e.g. ``W^T``), built outside the scan."""
        raise NotImplementedError

    def step(self, consts, h: jax.Array, u: jax.Array) -> jax.Array:
        raise NotImplementedError

    def linear_form(self, params: Params):
        """``(m, b, phi)`` when ``step`` is ``phi(h @ m + u, b)`` (then :func:`linear_recurrence`
        runs the sequence), else ``None`` (a plain ``lax.scan`` of ``step``)."""
        return None

    def features(self, h: jax.Array) -> jax.Array:
        """What the readout sees, ``(..., n_features)``."""
        return h

    def readout(self, params: Params, f: jax.Array) -> jax.Array:
        return f @ params["W_out"].T + params["b_out"]

    def apply(self, params: Params, x: jax.Array, all_steps: bool) -> jax.Array:
        """Run ``x (T, B, n_in)``; outputs ``(T, B, n_out)`` if ``all_steps`` else ``(B, n_out)``."""
        u = self.project_inputs(params, x)
        h0 = self.initial_state(x.shape[1:-1], u.dtype)
        form = self.linear_form(params)
        if form is not None:
            m, b, phi = form
            hs = linear_recurrence(phi, all_steps, m, b, h0, u)
            return self.readout(params, self.features(hs))
        consts = self.prepare(params)

        def body(h, u_t):
            h = self.step(consts, h, u_t)
            return h, (self.features(h) if all_steps else None)

        h_last, hs = jax.lax.scan(body, h0, u)
        return self.readout(params, hs if all_steps else self.features(h_last))


@dataclass(frozen=True)
class SimpleRNN(Cell):
    """``h_t = act(W h_{t-1} + W_in x_t + b)``, ``y_t = W_out h_t + b_out`` (np-RNN paper notation).

    ``W`` comes from the dynamics registry (``init``, with ``init_scale`` passed as the
    initialiser's ``scale`` or ``g``); ``W_in`` is the paper's ``alpha * N(0, 1/n)`` and
    ``W_out`` Glorot normal; biases are zero.
    """

    activation: str = "relu"
    init_name: str = "orthogonal"
    init_scale: float | None = None
    alpha: str | float = initializers.DEFAULT_ALPHA

    def init(self, key, dtype=jnp.float32):
        kw, ki, ko = jax.random.split(key, 3)
        options = {}
        if self.init_scale is not None:
            options = {"scaled-identity": {"scale": self.init_scale}, "gaussian": {"g": self.init_scale}}.get(
                self.init_name, {}
            )
            if not options:
                raise UsageError(f"init {self.init_name!r} takes no init_scale")
        return {
            "W": initializers.get(self.init_name)(kw, self.n, dtype=dtype, **options).astype(dtype),
            "W_in": initializers.input_weights(ki, self.n_in, self.n, alpha=self.alpha, dtype=dtype).astype(dtype),
            "b": jnp.zeros((self.n,), dtype),
            "W_out": initializers.output_weights(ko, self.n, self.n_out, dtype=dtype).astype(dtype),
            "b_out": jnp.zeros((self.n_out,), dtype),
        }

    def project_inputs(self, params, x):
        return x @ params["W_in"].T + params["b"]

    def prepare(self, params):
        return params["W"].T

    def step(self, w_t, h, u):
        z = h @ w_t + u
        return jax.nn.relu(z) if self.activation == "relu" else jnp.tanh(z)

    def linear_form(self, params):
        w_t = self.prepare(params)
        return w_t, jnp.zeros((0,), w_t.dtype), (_relu if self.activation == "relu" else _tanh)


@dataclass(frozen=True)
class LSTM(Cell):
    """Standard LSTM (gates i, f, g, o); state ``[h, c]`` of length ``2n``; forget bias 1."""

    recurrent_leaf = "W_h"

    @property
    def state_size(self) -> int:
        return 2 * self.n

    def init(self, key, dtype=jnp.float32):
        kx, kh, ko = jax.random.split(key, 3)
        # One orthogonal block per gate keeps the recurrent Jacobian well scaled at init.
        w_h = jnp.concatenate(
            [initializers.get("orthogonal")(k, self.n, dtype=dtype) for k in jax.random.split(kh, 4)], axis=1
        )
        b = jnp.zeros((4 * self.n,), dtype).at[self.n : 2 * self.n].set(1.0)
        return {
            "W_x": _glorot(kx, (self.n_in, 4 * self.n), dtype),
            "W_h": w_h.astype(dtype),
            "b": b,
            "W_out": _glorot(ko, (self.n_out, self.n), dtype),
            "b_out": jnp.zeros((self.n_out,), dtype),
        }

    def recurrent_matrix(self, params):
        return params["W_h"]

    def project_inputs(self, params, x):
        return x @ params["W_x"] + params["b"]

    def prepare(self, params):
        return params["W_h"]

    def step(self, w_h, hc, u):
        n = self.n
        h, c = hc[..., :n], hc[..., n:]
        gates = h @ w_h + u
        i, f, g, o = (gates[..., k * n : (k + 1) * n] for k in range(4))
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return jnp.concatenate([h, c], axis=-1)

    def features(self, hc):
        return hc[..., : self.n]


def mod_relu(z: jax.Array, b: jax.Array) -> jax.Array:
    """modReLU on the real form ``z = [Re, Im]`` ``(..., 2n)``: ``relu(|z| + b) z / |z|``."""
    n = b.shape[-1]
    # Viewing z as (..., 2, n) avoids slicing and re-concatenating inside the time loop.
    parts = z.reshape(z.shape[:-1] + (2, n))
    mod = jnp.sqrt(jnp.sum(parts * parts, axis=-2) + MODRELU_EPS)
    scale = jax.nn.relu(mod + b) / mod
    return (parts * scale[..., None, :]).reshape(z.shape)


def complex_to_real_block(w: jax.Array) -> jax.Array:
    """``(2n, 2n)`` real ``M`` with ``[Re h, Im h] @ M = [Re(W h), Im(W h)]`` for complex ``W (n, n)``."""
    wr, wi = w.real.T, w.imag.T
    return jnp.block([[wr, wi], [-wi, wr]])


@dataclass(frozen=True)
class UnitaryRNN(Cell):
    """uRNN: ``z_t = W h_{t-1} + V x_t``, ``h_t = modReLU(z_t, b)``, ``y_t = U [Re h_t; Im h_t] + c``.

    ``capacity="full"``: ``W`` is a dense complex unitary leaf ``"W"`` (Haar init), labelled
    for the Cayley step. ``capacity="restricted"``: ``W`` is the Arjovsky product of
    :func:`rnnlab.capacity.get` ``("restricted")``, parameter leaf ``"theta"`` (7N reals),
    trained by the Euclidean optimiser. ``V`` is stored in real form ``(2n, n_in)`` (rows
    ``[Re V; Im V]``), so a real input drives both parts of the state.
    """

    capacity: str = "full"
    structure_seed: int = 0
    parameterization: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.capacity == "restricted" and self.parameterization is None:
            from rnnlab.capacity import get

            object.__setattr__(self, "parameterization", get("restricted")(self.n, structure_seed=self.structure_seed))

    @property
    def recurrent_leaf(self) -> str:  # type: ignore[override]
        return "W" if self.capacity == "full" else "theta"

    @property
    def state_size(self) -> int:
        return 2 * self.n

    def is_unitary(self) -> bool:
        return True

    def init(self, key, dtype=jnp.float32):
        kw, kv, ku = jax.random.split(key, 3)
        params = {}
        if self.capacity == "full":
            from rnnlab.analysis.unitary import haar_unitary

            cdtype = jnp.complex128 if dtype == jnp.float64 else jnp.complex64
            params["W"] = haar_unitary(kw, self.n, cdtype)
        else:
            params["theta"] = self.parameterization.init(kw, dtype)
        params["V"] = _glorot(kv, (2 * self.n, self.n_in), dtype)
        params["b"] = jnp.zeros((self.n,), dtype)
        params["W_out"] = _glorot(ku, (self.n_out, 2 * self.n), dtype)
        params["b_out"] = jnp.zeros((self.n_out,), dtype)
        return params

    def labels(self, params):
        labels = super().labels(params)
        if self.capacity == "full":
            labels["W"] = UNITARY
        return labels

    def num_params(self, params):
        # A unitary W has n^2 real degrees of freedom, not the 2 n^2 reals it is stored in.
        return sum(self.n * self.n if k == "W" else _size(p) for k, p in params.items())

    def recurrent_matrix(self, params):
        if self.capacity == "full":
            return params["W"]
        return self.parameterization.matrix(params["theta"])

    def project_inputs(self, params, x):
        return x @ params["V"].T

    def prepare(self, params):
        if self.capacity == "full":
            return complex_to_real_block(params["W"]), params["b"]
        return params["theta"], params["b"]

    def recur(self, w, h: jax.Array) -> jax.Array:
        """``[Re, Im]`` of ``W h`` for the real-form state ``h (..., 2n)``."""
        if self.capacity == "full":
            return h @ w
        n = self.n
        cdtype = jnp.complex128 if h.dtype == jnp.float64 else jnp.complex64
        hc = (h[..., :n] + 1j * h[..., n:]).astype(cdtype)
        # The parameterization applies W to columns: transpose the batch in and out.
        wh = self.parameterization.apply(w, hc.reshape(-1, n).T).T.reshape(hc.shape)
        return jnp.concatenate([wh.real, wh.imag], axis=-1).astype(h.dtype)

    def step(self, consts, h, u):
        w, b = consts
        return mod_relu(self.recur(w, h) + u, b)

    def linear_form(self, params):
        if self.capacity != "full":
            return None
        w, b = self.prepare(params)
        return w, b, mod_relu


@dataclass(frozen=True)
class ExpRNN(Cell):
    """Orthogonal RNN ``h_t = modReLU(W h_{t-1} + W_in x_t, b)`` with ``W = expm(S - S^T)``.

    ``S`` (leaf ``"S"``, only its strict upper triangle matters) is trained by the
    Euclidean optimiser, so ``W`` stays orthogonal to rounding at every step. Init: the
    block-diagonal 2x2 rotations of Henaff et al. with angles uniform in ``[-pi, pi]``.
    """

    recurrent_leaf = "S"

    def is_unitary(self) -> bool:
        return True

    def init(self, key, dtype=jnp.float32):
        ks, ki, ko = jax.random.split(key, 3)
        angles = jax.random.uniform(ks, (self.n // 2,), dtype, -jnp.pi, jnp.pi)
        idx = jnp.arange(self.n // 2) * 2
        # S - S^T then has the blocks [[0, a], [-a, 0]], whose exponential rotates by a.
        s = jnp.zeros((self.n, self.n), dtype).at[idx, idx + 1].set(angles)
        return {
            "S": s,
            "W_in": _glorot(ki, (self.n, self.n_in), dtype),
            "b": jnp.zeros((self.n,), dtype),
            "W_out": _glorot(ko, (self.n_out, self.n), dtype),
            "b_out": jnp.zeros((self.n_out,), dtype),
        }

    def num_params(self, params):
        return sum(self.n * (self.n - 1) // 2 if k == "S" else _size(p) for k, p in params.items())

    def recurrent_matrix(self, params):
        s = jnp.triu(params["S"], 1)
        return jax.scipy.linalg.expm(s - s.T)

    def project_inputs(self, params, x):
        return x @ params["W_in"].T

    def prepare(self, params):
        return self.recurrent_matrix(params).T, params["b"]

    def step(self, consts, h, u):
        w_t, b = consts
        z = h @ w_t + u
        return jnp.sign(z) * jax.nn.relu(jnp.abs(z) + b)


@dataclass(frozen=True)
class ModelSpec:
    """A registered model name: how to build its cell, and which options it fixes."""

    name: str
    description: str
    build: Callable[..., Cell]
    fixed_init: str | None = None


def _simple(activation: str, fixed_init: str | None = None):
    def build(n, n_in, n_out, *, init=None, init_scale=None, alpha=initializers.DEFAULT_ALPHA, structure_seed=0):
        if fixed_init is not None and init not in (None, fixed_init):
            raise UsageError(f"this model fixes init={fixed_init!r}; use {activation}-rnn --init {init} instead")
        name = fixed_init or init or "orthogonal"
        initializers.get(name)  # unknown names fail here, as a usage error
        return SimpleRNN(n, n_in, n_out, activation, name, init_scale, alpha)

    return build


def _no_init(cls, **fixed):
    def build(n, n_in, n_out, *, init=None, init_scale=None, alpha=None, structure_seed=0):
        if init is not None:
            raise UsageError(f"init applies only to the tanh / relu RNNs, not to {cls.__name__}")
        extra = {"structure_seed": structure_seed} if cls is UnitaryRNN else {}
        return cls(n, n_in, n_out, **fixed, **extra)

    return build


REGISTRY: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec("tanh-rnn", "tanh RNN, W from --init (default orthogonal)", _simple("tanh")),
        ModelSpec("relu-rnn", "ReLU RNN, W from --init (default orthogonal)", _simple("relu")),
        ModelSpec("irnn", "ReLU RNN, W = I (Le et al. 2015)", _simple("relu", "identity"), "identity"),
        ModelSpec("irnn-scaled", "ReLU RNN, W = s I (iRNN)", _simple("relu", "scaled-identity"), "scaled-identity"),
        ModelSpec("np-rnn", "ReLU RNN, np init (R^T R / N + I) / e_max", _simple("relu", "np"), "np"),
        ModelSpec("np-tanh-rnn", "tanh RNN, np init", _simple("tanh", "np"), "np"),
        ModelSpec("lstm", "LSTM, forget bias 1", _no_init(LSTM)),
        ModelSpec("restricted-urnn", "uRNN, Arjovsky W = D3 R2 F^-1 D2 Pi R1 F D1 (7N)", _no_init(UnitaryRNN, capacity="restricted")),
        ModelSpec("full-urnn", "uRNN, dense W on U(N) by the Cayley step (N^2)", _no_init(UnitaryRNN, capacity="full")),
        ModelSpec("exp-rnn", "orthogonal RNN, W = expm(S - S^T), modReLU", _no_init(ExpRNN)),
    ]
}


def names() -> list[str]:
    """Registered model names, in table order."""
    return list(REGISTRY)


def get(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}") from None


def make(name: str, n: int, n_in: int, n_out: int, **options) -> Cell:
    """The cell of model ``name`` for ``n`` hidden units (options: init, init_scale, alpha, structure_seed)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UsageError(f"n must be a positive integer, got {n!r}")
    return get(name).build(n, n_in, n_out, **options)
