"""Gradient propagation and input sensitivity of a ReLU RNN at initialisation.

The network is the np-RNN paper's ``h_t = relu(W h_{t-1} + W_hx x_t)`` (zero bias, ``h_0 =
0``) with ``W`` from an initialiser of :mod:`rnnlab.dynamics.initializers`, ``W_hx`` from
:func:`~rnnlab.dynamics.initializers.input_weights` and random inputs (:data:`INPUTS`).
Along each driven trajectory we measure

- the Jacobian ``dh_t/dh_0 = D_t W ... D_1 W`` (``D_t`` keeps the units active at step
  ``t``): its 2-norm and singular values at checkpoints ``t``. The product is carried
  rescaled (its log-scale kept apart), so vanishing to 1e-300 and exploding to 1e300 are
  both measured, in float64;
- the largest Lyapunov exponents ``lim (1/t) log sigma_i(dh_t/dh_0)``, by the QR method
  (re-orthonormalise ``k`` tangent vectors every step and average ``log |R_ii|``);
- the sensitivity to a small input perturbation (the np-RNN paper's hypothesis: with
  ``W = I`` a perturbation persists, with np it decays except along the line attractor):
  ``||dh_t/dx_1 d||`` for a random unit direction ``d``, carried rescaled like the
  Jacobian, and as a check the finite difference ``||h_t(x + eps d) - h_t(x)|| / eps``
  from running the network twice (which sees units switching, but bottoms out at rounding,
  about ``1e-16 ||h_t|| / eps``).

ReLU switches units off, and a unit off at step ``t`` kills its row of the product, so
``dh_t/dh_0`` often has exact zeros among its singular values: they are reported as
``-inf`` in log10 (``None`` in JSON).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError, check_int


#: Input distributions: zero-mean noise, or the addition task's values (non-negative).
INPUTS = {
    "gaussian": "x_t ~ N(0, I)",
    "uniform": "x_t ~ U[0, 1] in each input",
}


def checkpoints(t_max: int, count: int = 24) -> np.ndarray:
    """About ``count`` log-spaced distinct steps from 1 to ``t_max`` inclusive."""
    return np.unique(np.round(np.logspace(0, math.log10(t_max), count)).astype(int))


@dataclass(frozen=True)
class Propagation:
    """Measurements over ``trials`` driven trajectories of one initialiser and size (:func:`propagate`).

    Attributes:
        init: the recurrent initialiser's name.
        n: the hidden size.
        T: the number of steps.
        trials: the number of trajectories.
        steps: ``(K,)``, the checkpoint steps t.
        log10_norm: ``(trials, K)``, ``log10 ||dh_t/dh_0||_2``.
        log10_singular_values: ``(trials, K, n)``, descending, ``-inf`` for exact zeros.
        lyapunov: ``(trials, k)``, the largest Lyapunov exponents, natural log per step.
        log10_sensitivity: ``(trials, K)``, ``log10 ||dh_t/dx_1 d||``, ``-inf`` if exactly 0.
        sensitivity_fd: ``(trials, K)``, ``||h_t(x + eps d) - h_t(x)|| / eps``.
        active_fraction: ``(trials,)``, the mean fraction of units on.
        state_norm: ``(trials,)``, ``||h_T||``.
        config: what was measured, JSON-ready.
    """

    init: str
    n: int
    T: int
    trials: int
    steps: np.ndarray  # (K,) checkpoint steps t
    log10_norm: np.ndarray  # (trials, K) log10 ||dh_t/dh_0||_2
    log10_singular_values: np.ndarray  # (trials, K, n) descending, -inf for exact zeros
    lyapunov: np.ndarray  # (trials, k) largest exponents, natural log per step
    log10_sensitivity: np.ndarray  # (trials, K) log10 ||dh_t/dx_1 d||, -inf if exactly 0
    sensitivity_fd: np.ndarray  # (trials, K) ||h_t(x + eps d) - h_t(x)|| / eps
    active_fraction: np.ndarray  # (trials,) mean fraction of units on
    state_norm: np.ndarray  # (trials,) ||h_T||
    config: dict = field(default_factory=dict)

    def resolved(self) -> np.ndarray:
        """Which singular values are above ``10 n eps sigma_max``: the carried product is
        rescaled to norm 1, so anything smaller is rounding, not signal (the exact zeros that
        switched-off units create come out as such rounding).

        Returns:
            ``(trials, K, n)``, a boolean mask.
        """
        s = self.log10_singular_values
        floor = math.log10(10 * self.n * float(np.finfo(np.float64).eps))
        return s > s[..., :1] + floor

    def rank(self) -> np.ndarray:
        """The numerical rank of ``dh_t/dh_0``: the count of resolved singular values.

        Returns:
            ``(trials, K)``.
        """
        return np.sum(self.resolved(), axis=-1)

    def to_dict(self) -> dict:
        """A JSON-ready summary: per checkpoint, medians over trials, each trial's norm and the
        count of trials whose product is exactly zero.

        A log of an exact zero is ``-inf``, so a mean over trials would turn one zero trial
        into ``-inf`` for all; the median is ``None`` (``-inf``) only when at least half of
        the trials are exactly zero.

        Returns:
            The summary, with the config.
        """

        def fin(x):
            x = float(x)
            return x if math.isfinite(x) else None

        def resolved_stat(stat, j):
            vals = [stat(s[m]) if np.any(m) else -np.inf
                    for s, m in zip(self.log10_singular_values[:, j], self.resolved()[:, j])]
            return fin(np.median(vals))

        rows = []
        rank = self.rank()
        for j, t in enumerate(self.steps):
            rows.append({
                "t": int(t),
                "log10_norm": fin(np.median(self.log10_norm[:, j])),
                "log10_norm_trials": [fin(v) for v in self.log10_norm[:, j]],
                "zero_trials": int(np.sum(np.isneginf(self.log10_norm[:, j]))),
                "log10_sigma_median_resolved": resolved_stat(np.median, j),
                "log10_sigma_min_resolved": resolved_stat(np.min, j),
                "rank": float(np.median(rank[:, j])),
                "log10_sensitivity": fin(np.median(self.log10_sensitivity[:, j])),
                "log10_sensitivity_fd": fin(np.median(_log10(self.sensitivity_fd[:, j]))),
            })
        return {
            "config": self.config,
            "checkpoints": rows,
            "lyapunov": [fin(v) for v in np.median(self.lyapunov, axis=0)],
            "lyapunov_trials": [[fin(v) for v in row] for row in self.lyapunov],
            "active_fraction": float(np.mean(self.active_fraction)),
            "state_norm": float(np.mean(self.state_norm)),
        }


def _log10(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log10(x)


def measure_trajectory(w, u, xs, d, eps, q0, is_checkpoint):
    """Measure one driven trajectory of ``h_t = relu(W h_{t-1} + U x_t)`` from ``h_0 = 0``.

    Args:
        w: ``(n, n)``, the recurrent weights.
        u: ``(n, n_in)``, the input weights.
        xs: ``(T, n_in)``, the inputs.
        d: ``(n_in,)``, a unit perturbation direction of ``x_1``.
        eps: the finite-difference size of that perturbation.
        q0: ``(n, k)``, orthonormal tangent vectors (for the Lyapunov exponents).
        is_checkpoint: ``(T,)``, bool, the steps where singular values are computed.

    Returns:
        ``(log10_s, lsum, log10_sens, fd, active, h_T)``: ``log10`` singular values of
        ``dh_t/dh_0`` ``(T, n)`` (zeros off checkpoints), the sums of ``log |R_ii|``
        ``(k,)``, ``log10 ||dh_t/dx_1 d||`` ``(T,)``, the finite-difference sensitivity
        ``(T,)``, the active count ``(T,)`` and the last state ``(n,)``.
    """
    n = w.shape[0]

    def step(carry, inp):
        h, hp, m, logc, q, lsum, v, logv = carry
        x, first, check = inp
        pre = w @ h + u @ x
        on = (pre > 0).astype(w.dtype)
        h = jnp.maximum(pre, 0.0)
        hp = jnp.maximum(w @ hp + u @ (x + first * eps * d), 0.0)
        # Tangent of the input perturbation: enters at step 1, then follows D_t W.
        v = on * (w @ v + first * (u @ d))
        nv = jnp.linalg.norm(v)
        v = v / jnp.where(nv > 0, nv, 1.0)
        logv = logv + jnp.log(nv)
        m = on[:, None] * (w @ m)
        c = jnp.linalg.norm(m)
        # A product that is exactly zero stays zero; keep the carried matrix finite.
        m = m / jnp.where(c > 0, c, 1.0)
        logc = logc + jnp.log(c)
        z = on[:, None] * (w @ q)
        q, r = jnp.linalg.qr(z)
        lsum = lsum + jnp.log(jnp.abs(jnp.diagonal(r)))
        # The SVD is the expensive part: only at checkpoints (a real branch, not a select).
        s = jax.lax.cond(check, lambda a: jnp.linalg.svd(a, compute_uv=False),
                         lambda a: jnp.zeros(n, a.dtype), m)
        log10_s = jnp.log10(s) + logc / jnp.log(10.0)
        return (h, hp, m, logc, q, lsum, v, logv), (
            log10_s, logv / jnp.log(10.0), jnp.linalg.norm(hp - h) / eps, jnp.sum(on))

    t_max = xs.shape[0]
    first = (jnp.arange(t_max) == 0).astype(w.dtype)
    zero = jnp.zeros((), w.dtype)
    init = (jnp.zeros(n, w.dtype), jnp.zeros(n, w.dtype), jnp.eye(n, dtype=w.dtype), zero, q0,
            jnp.zeros(q0.shape[1], w.dtype), jnp.zeros(n, w.dtype), zero)
    (h, _, _, _, _, lsum, _, _), (log10_s, log10_sens, fd, active) = jax.lax.scan(
        step, init, (xs, first, is_checkpoint))
    return log10_s, lsum, log10_sens, fd, active, h


_measure_jit = jax.jit(measure_trajectory)


def lyapunov_exponents(step, states: jax.Array, inputs: jax.Array, q0: jax.Array) -> jax.Array:
    """The largest Lyapunov exponents of ``h_t = step(h_{t-1}, u_t)`` along a given trajectory,
    by the QR method (as :func:`measure_trajectory` does for the ReLU map): carry ``k``
    orthonormal tangent vectors, map them by the step's Jacobian at each state
    (forward-mode, a Jacobian-vector product per vector: the Jacobian is never formed),
    re-orthonormalise, and average ``log |R_ii|`` over the steps.

    Args:
        step: ``(h, u) -> h``, JAX-traceable; it may act on a batch of independent rows
            ``h (..., S)``, each row with its own tangents.
        states: ``(T, ..., S)``, the state each step starts from (``h_{t-1}`` for step ``t``).
        inputs: ``(T, ..., U)``, the input of each step.
        q0: ``(..., S, k)``, orthonormal starting tangents (``k = 1``: a unit vector).

    Returns:
        ``(..., k)``: the exponents in natural log per step, largest first for ``k > 1``;
        ``-inf`` where every tangent was switched off (a ReLU with all units off).
    """

    def body(carry, xs):
        q, total = carry
        h, u = xs
        push = jax.vmap(lambda v: jax.jvp(lambda hh: step(hh, u), (h,), (v,))[1], in_axes=-1, out_axes=-1)
        z = push(q)
        if z.shape[-1] == 1:
            norm = jnp.linalg.norm(z, axis=-2)
            q = z / jnp.where(norm > 0, norm, 1.0)[..., None, :]
            growth = norm
        else:
            q, r = jnp.linalg.qr(z)
            growth = jnp.abs(jnp.diagonal(r, axis1=-2, axis2=-1))
        return (q, total + jnp.log(growth)), None

    zero = jnp.zeros(q0.shape[:-2] + q0.shape[-1:], q0.dtype)
    (_, total), _ = jax.lax.scan(body, (q0, zero), (states, inputs))
    return total / states.shape[0]


def propagate(
    key: jax.Array, init: str, n: int, T: int, *, trials: int = 4, n_in: int = 2,
    alpha: str | float = initializers.DEFAULT_ALPHA, lyapunov: int = 8, eps: float = 1e-6,
    inputs: str = "gaussian", init_options: dict | None = None, progress: bool = False,
) -> Propagation:
    """Measure gradient propagation and input sensitivity for ``trials`` trajectories.

    Each trajectory is ``h_t = relu(W h_{t-1} + W_hx x_t)`` from ``h_0 = 0`` with zero bias,
    driven by random inputs. Everything runs in float64.

    Args:
        key: a JAX PRNG key.
        init: a recurrent initialiser's name.
        n: the hidden size.
        T: the number of steps.
        trials: the number of trajectories (each its own W and inputs).
        n_in: the number of inputs.
        alpha: the input-weight scale (see :func:`input_alpha`).
        lyapunov: how many Lyapunov exponents to estimate (at most ``n``).
        eps: the size of the input perturbation.
        inputs: a key of :data:`INPUTS` (``gaussian`` or ``uniform``).
        init_options: keyword options of the initialiser.
        progress: show a progress bar on stderr.

    Returns:
        The measurements at checkpoint steps.

    Raises:
        UsageError: a bad size or name.
    """
    make = initializers.get(init)
    for name, value in (("n", n), ("T", T), ("trials", trials), ("n_in", n_in), ("lyapunov", lyapunov)):
        check_int(value, name)
    if inputs not in INPUTS:
        raise UsageError(f"unknown inputs {inputs!r}; choose from {', '.join(INPUTS)}")
    if not (math.isfinite(eps) and eps > 0):
        raise UsageError(f"eps must be a positive number, got {eps!r}")
    k = min(lyapunov, n)
    steps = checkpoints(T)
    mask = np.zeros(T, bool)
    mask[steps - 1] = True
    options = dict(init_options or {})
    config = dict(init=init, n=n, T=T, trials=trials, n_in=n_in, lyapunov=k, eps=eps,
                  init_options=options, alpha=alpha, alpha_value=initializers.input_alpha(n, alpha),
                  inputs=inputs, model=f"h_t = relu(W h_t-1 + W_hx x_t), {INPUTS[inputs]}, h_0 = 0, zero bias")
    out = {name: [] for name in ("s", "lyap", "sens", "fd", "active", "norm")}
    trial_keys = jax.random.split(key, trials)
    iterator = range(trials)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=f"propagate {init} n={n} T={T}", unit="trial", leave=False)
    with jax.enable_x64(True):
        for i in iterator:
            kw, ku, kx, kd, kq = jax.random.split(trial_keys[i], 5)
            w = make(kw, n, dtype=jnp.float64, **options)
            u = initializers.input_weights(ku, n_in, n, alpha=alpha, dtype=jnp.float64)
            if inputs == "gaussian":
                xs = jax.random.normal(kx, (T, n_in), jnp.float64)
            else:
                xs = jax.random.uniform(kx, (T, n_in), jnp.float64)
            d = jax.random.normal(kd, (n_in,), jnp.float64)
            d = d / jnp.linalg.norm(d)
            q0, _ = jnp.linalg.qr(jax.random.normal(kq, (n, k), jnp.float64))
            log10_s, lsum, sens, fd, active, h = _measure_jit(
                w, u, xs, d, jnp.float64(eps), q0, jnp.asarray(mask))
            out["s"].append(np.asarray(log10_s)[steps - 1])
            out["lyap"].append(np.asarray(lsum) / T)
            out["sens"].append(np.asarray(sens)[steps - 1])
            out["fd"].append(np.asarray(fd)[steps - 1])
            out["active"].append(float(np.mean(active)) / n)
            out["norm"].append(float(jnp.linalg.norm(h)))
    s = np.stack(out["s"])
    return Propagation(
        init=init, n=n, T=T, trials=trials, steps=steps, log10_norm=s[:, :, 0],
        log10_singular_values=s, lyapunov=np.stack(out["lyap"]),
        log10_sensitivity=np.stack(out["sens"]), sensitivity_fd=np.stack(out["fd"]),
        active_fraction=np.array(out["active"]), state_norm=np.array(out["norm"]), config=config,
    )


def propagation_figure(results: list[Propagation]):
    """Two panels: ``log10 ||dh_t/dh_0||`` and ``log10`` sensitivity against ``t``, one
    line per result (median over trials; band: smallest resolved to largest singular value).

    Args:
        results: the measurements to draw.

    Returns:
        A matplotlib Figure (made with pyplot).
    """
    import matplotlib.pyplot as plt

    from rnnlab.plotting import integer_ticks

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for r in results:
        label = f"{r.init}, n={r.n}"
        zeros = np.sum(np.isneginf(r.log10_norm), axis=0)
        if zeros.any():
            # -inf cannot be drawn: say when the first trial and when every trial hit zero.
            first = r.steps[np.flatnonzero(zeros)[0]]
            every = np.flatnonzero(zeros == r.trials)
            label += f" (exactly 0: first trial t={first}"
            label += f", all t={r.steps[every[0]]})" if every.size else ")"
        line, = a.plot(r.steps, np.median(r.log10_norm, axis=0), "-o", ms=3, label=label)
        s = r.log10_singular_values
        low = np.median(np.min(np.where(r.resolved(), s, np.inf), axis=-1), axis=0)
        if np.all(np.isfinite(low)):
            a.fill_between(r.steps, low, np.median(s[..., 0], axis=0), color=line.get_color(), alpha=0.12)
        b.plot(r.steps, np.median(r.log10_sensitivity, axis=0), "-o", ms=3,
               color=line.get_color(), label=label)
    a.set_xscale("log")
    a.set_xlabel("steps t")
    a.set_ylabel("$\\log_{10} \\|\\partial h_t / \\partial h_0\\|_2$")
    a.set_title("gradient norm (band: smallest resolved to largest singular value)", fontsize=9)
    a.axhline(0, color="k", lw=0.6)
    b.set_xscale("log")
    b.set_xlabel("steps t")
    b.set_ylabel("$\\log_{10} \\|\\partial h_t / \\partial x_1 \\, d\\|$")
    b.set_title("sensitivity to a perturbation of the first input", fontsize=9)
    b.axhline(0, color="k", lw=0.6)
    steps = [t for r in results for t in r.steps]
    for ax in (a, b):
        integer_ticks(ax, steps)
    a.legend(fontsize=8)
    fig.tight_layout()
    return fig
