"""Probes of the recurrent dynamics during training: ``probe_*`` metrics at every evaluation.

What a run's losses cannot say, measured on the network as it trains (every seed of a run at
once; the names are the keys of the ``metrics.jsonl`` lines, all flat scalars):

==========================  ==================================================================
``probe_spectral_radius``   largest ``|eigenvalue|`` of the recurrent matrix ``W`` (complex for
                            the uRNNs; expRNN's ``expm(S - S^T)``); LSTM: of the state Jacobian
                            (below)
``probe_eig{i}_abs``,       modulus and phase (radians, in ``(-pi, pi]``) of the ``i``-th
``probe_eig{i}_phase``      eigenvalue by modulus, ``i < TOP_EIGENVALUES``
``probe_sv_max``,           largest and smallest singular value of ``W`` (LSTM: of ``W_h``,
``probe_sv_min``            ``n x 4n``)
``probe_w_distance``        ``||W - W_0||_F / ||W_0||_F``, from the run's initial ``W_0``
``probe_lyapunov``          largest Lyapunov exponent along the probe sequences: the QR method
                            (:func:`rnnlab.dynamics.propagation.lyapunov_exponents`) with one
                            tangent vector per sequence, natural log per step, mean over them
``probe_grad_ratio``        ``|dL/dh_1| / |dL/dh_T|``: the loss's gradient with respect to the
                            state at the first and at the last step, measured by
                            differentiating the loss with respect to a zero added to each state
                            (norms over the probe batch); far below 1: vanishing gradients,
                            far above: exploding
``probe_active_fraction``   fraction of the units on over the probe sequences' states (ReLU:
                            ``h_i > 0``; modReLU cells: ``|h_i| > 0`` per complex unit / unit)
==========================  ==================================================================

The LSTM has no recurrent matrix acting on its state ``[h, c]``; its eigenvalues are those of
the mean state Jacobian ``d[h_t, c_t] / d[h_{t-1}, c_{t-1}]`` over the probe sequences' last
steps. The probe sequences are the first :data:`PROBE_SEQUENCES` of the task's validation
draw (:data:`~rnnlab.training.evaluation.VAL_SEED`). The unitarity error of a unitary ``W``
is logged at every line already (``unitarity_error``).

Cost: one forward and backward pass over the probe sequences with one tangent (jitted, a
few percent of a training step at the paper's batch sizes) and an eigendecomposition and an
SVD of ``W`` in NumPy on the host, at each evaluation only; ``benchmarks/probes.py`` measures
it against the training between two evaluations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.dynamics.propagation import lyapunov_exponents
from rnnlab.training import cells
from rnnlab.training.evaluation import VAL_SEED
from rnnlab.training.seeds import over_seeds
from rnnlab.training.urnn import _mod_relu_value

PREFIX = "probe_"
#: Eigenvalues logged by modulus and phase.
TOP_EIGENVALUES = 3
#: Sequences the trajectory probes run on.
PROBE_SEQUENCES = 16


def _is_lstm(cell) -> bool:
    return isinstance(cell, cells.LSTM)


def active_units(cell, hs: jax.Array) -> jax.Array | None:
    """Boolean ``(..., units)`` of the units on in states ``hs``, or None for cells without off units."""
    if isinstance(cell, cells.SimpleRNN):
        return hs > 0 if cell.activation == "relu" else None
    if isinstance(cell, cells.UnitaryRNN):
        n = cell.n
        return hs[..., :n] ** 2 + hs[..., n:] ** 2 > 0
    if isinstance(cell, cells.ExpRNN):
        return hs != 0
    return None


def smooth_step(cell, params) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """``(h, u) -> h``: one step of ``cell`` with ``params`` that forward-mode autodiff can go
    through. The uRNNs' modReLU (and the restricted uRNN's permutation) carry custom VJPs for
    training speed, which JAX cannot push tangents through; here a uRNN steps by its dense real
    form ``[Re h, Im h] @ M`` and the plain modReLU formula: the same map."""
    if isinstance(cell, cells.UnitaryRNN):
        b, eps = params["b"], cell.modrelu_eps
        m = cells.complex_to_real_block(cell.recurrent_matrix(params)).astype(b.dtype)
        return lambda h, u: _mod_relu_value(h @ m + u, b, eps)
    consts = cell.step_constants(params)
    return lambda h, u: cell.step(consts, h, u)


def trajectory_probes(cell, task, params, x, y, v0):
    """The probes measured along sequences ``x (L, B, n_in)`` with targets ``y``, for one seed.

    ``v0 (B, S)``: the unit tangent vector each sequence's Lyapunov exponent starts from.
    Returns a dict of scalars: ``lyapunov``, ``grad_ratio``, ``active_fraction`` (where the cell
    has off units) and, for the LSTM, ``jacobian (S, S)`` (the mean state Jacobian at the last step).
    """
    u = cell.project_inputs(params, x)
    h0 = cell.start_state(params, x.shape[1:-1], u.dtype)
    step = smooth_step(cell, params)

    def loss_of(e):
        def body(h, xs):
            u_t, e_t = xs
            h = step(h, u_t) + e_t
            return h, h

        _, hs = jax.lax.scan(body, h0, (u, e))
        feats = cell.features(hs)
        pred = cell.readout(params, feats if task.all_steps else feats[-1])
        return task.loss(pred, y), hs

    zeros = jnp.zeros(u.shape[:-1] + (cell.state_size,), u.dtype)
    g, hs = jax.grad(loss_of, has_aux=True)(zeros)
    norms = jnp.sqrt(jnp.sum(g * g, axis=tuple(range(1, g.ndim))))
    out = {"grad_ratio": norms[0] / norms[-1]}
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    # One tangent per sequence: the step acts on each row of the batch alone, so a batched JVP
    # carries each sequence's own tangent.
    out["lyapunov"] = jnp.mean(lyapunov_exponents(step, h_prev, u, v0[..., None]))
    on = active_units(cell, hs)
    if on is not None:
        out["active_fraction"] = jnp.mean(on.astype(u.dtype))
    if _is_lstm(cell):
        jac = jax.vmap(jax.jacfwd(step), in_axes=(0, 0))(h_prev[-1], u[-1])
        out["jacobian"] = jnp.mean(jac, axis=0)
    return out


def _matrix_probes(m: np.ndarray, m0: np.ndarray, eig_of: np.ndarray) -> dict[str, float]:
    eig = np.linalg.eigvals(eig_of)
    eig = eig[np.argsort(-np.abs(eig), kind="stable")]
    sv = np.linalg.svd(m, compute_uv=False)
    out = {"spectral_radius": float(np.abs(eig[0]))}
    for i in range(TOP_EIGENVALUES):
        if i < len(eig):
            out[f"eig{i}_abs"] = float(np.abs(eig[i]))
            out[f"eig{i}_phase"] = float(np.angle(eig[i]))
    out["sv_max"], out["sv_min"] = float(sv[0]), float(sv[-1])
    with np.errstate(divide="ignore", invalid="ignore"):  # W_0 = 0: no relative distance (NaN)
        out["w_distance"] = float(np.linalg.norm(m - m0) / np.linalg.norm(m0))
    return out


def _programs(cell, task, k: int):
    """``(matrix, along)``: the jitted recurrent matrix and trajectory probes of a model and task,
    each ``params -> (k, ...)``."""
    matrix = jax.jit(over_seeds(cell.recurrent_matrix, k))
    rng = np.random.default_rng(0)
    v0 = rng.standard_normal((PROBE_SEQUENCES, cell.state_size))
    v0 /= np.linalg.norm(v0, axis=-1, keepdims=True)
    if task.eval_splits:
        # A dataset task's sampler indexes its whole training set: traced, it would make that a
        # constant of the program, so the probe batch is drawn once, op by op.
        x, y = task.sample(jax.random.key(VAL_SEED), PROBE_SEQUENCES)
        along = jax.jit(over_seeds(lambda p, x, y: trajectory_probes(cell, task, p, x, y, jnp.asarray(v0, x.dtype)),
                                   k, in_axes=(0, None, None)))
        return matrix, lambda p: along(p, x, y)

    def probe_batch(p):
        # A generated task's batch is drawn inside the program: one compilation, not two.
        x, y = task.sample(jax.random.key(VAL_SEED), PROBE_SEQUENCES)
        return trajectory_probes(cell, task, p, x, y, jnp.asarray(v0, x.dtype))

    return matrix, jax.jit(over_seeds(probe_batch, k))


_cached_programs = functools.lru_cache(maxsize=8)(_programs)


def _compiled(cell, task, k: int):
    # Runs of one model and task in one process (a sweep's points, resumed runs, tests) share
    # their compiled probes: cells and tasks are frozen dataclasses, equal when they run alike.
    try:
        return _cached_programs(cell, task, k)
    except TypeError:  # a task holding something unhashable
        return _programs(cell, task, k)


def make(cell, task, k: int, initial_params) -> Callable[[dict], dict[str, np.ndarray]]:
    """``params -> {probe_name: (k,) array}`` for ``k`` seeds (params with a leading seed axis).

    ``initial_params``: the run's parameters at step 0 (seed axis too); their recurrent matrices
    are copied to the host now, so the caller may donate the arrays afterwards.
    """
    matrix, along = _compiled(cell, task, k)
    w0 = np.asarray(jax.device_get(matrix(initial_params)))

    def probe(params) -> dict[str, np.ndarray]:
        measured = jax.device_get(along(params))
        w = np.asarray(jax.device_get(matrix(params)))
        rows = []
        for s in range(k):
            if not np.all(np.isfinite(w[s])):
                rows.append({})  # a diverged seed: its probes are missing, not wrong
                continue
            eig_of = measured["jacobian"][s] if "jacobian" in measured else w[s]
            rows.append(_matrix_probes(w[s], w0[s], eig_of) if np.all(np.isfinite(eig_of)) else {})
        names = sorted({name for row in rows for name in row})
        out = {PREFIX + name: np.array([row.get(name, np.nan) for row in rows]) for name in names}
        out.update({PREFIX + name: np.asarray(v) for name, v in measured.items() if name != "jacobian"})
        return out

    return probe
