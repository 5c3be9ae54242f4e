"""What a trained network does: the fixed and slow points of its recurrent map (``rnnlab analyze``).

``analyze(run)`` (also ``rnnlab.training.analyze``; the module is not named after the function,
which would shadow it as an attribute of the package once imported) reads a run folder (or a record's point folder, or a :class:`TrainResult`),
runs the trained network on evaluation sequences of its task (drawn as the test batch is, from
:data:`~rnnlab.training.evaluation.TEST_SEED`), and for each *constant input* that matters to
the task (:func:`constant_inputs`: zero; addition / multiplication a value between the markers,
``x = (0.5, 0)``; copy the blank) studies the autonomous map ``F_x(h) = step(h, x)``:

- **ReLU models** (``relu-rnn``, ``irnn``, ``irnn-scaled``, ``np-rnn``): ``F_x(h) = relu(W h + b_x)``
  with ``b_x = W_in x + b`` is piecewise linear, and its fixed sets are found exactly by
  :func:`rnnlab.dynamics.fixed_points` (every point, line or higher-dimensional piece, with
  dimension and stability) among the supports ``{i : h_i > 0}`` that the evaluation
  trajectories visit, those where ``F_x`` run from sampled trajectory states settles, and for
  ``n <= exact_max_n`` (or ``all_supports``) every support. Each set's representative point is
  verified: ``|F_x(p) - p|`` per unit within ``10 n eps`` of the sizes involved
  (``|W| |p| + |b_x| + |p|``), plus, for a set of dimension >= 1, the eigenvalue tolerance that
  made it a set.
- **Every other cell** (tanh RNN, LSTM, the uRNNs, expRNN): slow points by minimising
  ``q(h) = |F_x(h) - h|^2 / 2`` from ``starts`` states sampled on the trajectories
  (:func:`rnnlab.dynamics.slow_points.slow_points`, Sussillo & Barak 2013), merged, with ``q``,
  the Jacobian's eigenvalues, the number of unstable directions and the tolerances used.

Every found point also carries the network's output there (the readout of the point), which
says what the point means for the task (for the flip-flop, which of the 8 memory states).
Everything is computed in float64 from the trained (float32) parameters.

The result, :class:`Analysis`, is data first (:meth:`Analysis.to_dict`, JSON-ready) and draws
two figures: the eigenvalues at each point against the unit circle, and the points with a few
trajectories on the top two principal components of the visited states.

Refused with a :class:`~rnnlab.errors.UsageError` before anything is computed: a folder without
a config or without parameters, parameters that are not finite (a diverged run), an unknown
model, ``all_supports`` for a non-ReLU model or above :data:`ALL_SUPPORTS_MAX_N` units.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.dynamics.fixed_points import EXACT_MAX_N, FixedSet, fixed_points, supports_of, unit_eigenvalue_tolerance
from rnnlab.dynamics.slow_points import SlowPoint, slow_points
from rnnlab.errors import UsageError, check_int
from rnnlab.training import cells, run_folder
from rnnlab.training.config import TrainConfig, load_toml
from rnnlab.training.evaluation import TEST_SEED
from rnnlab.training.probes import smooth_step
from rnnlab.training.result import TrainResult

#: Largest n for which ``all_supports`` enumerates every one of the 2^n supports.
ALL_SUPPORTS_MAX_N = 16
#: Evaluation trajectories are cut down so that their float64 states fit in this many bytes.
TRAJECTORY_BYTES = 2**28
#: Steps the constant-input ReLU map runs from each sampled state; the supports of the last
#: :data:`TAIL` of them are examined (where the map settles).
SETTLE_STEPS, TAIL = 300, 20
#: States (sampled from the trajectories) whose principal components the figure uses.
PCA_STATES = 20000
#: Trajectories drawn on the principal-component figure.
DRAWN_TRAJECTORIES = 12


def constant_inputs(task) -> dict[str, np.ndarray]:
    """The constant inputs whose autonomous maps matter for ``task``: always ``zero``; for
    addition and multiplication ``value-0.5`` (``x = (0.5, 0)``, a value between the
    markers); for copy ``blank`` (the one-hot blank symbol the inputs hold between the
    symbols and the marker)."""
    out = {"zero": np.zeros(task.n_in)}
    if task.name in ("addition", "multiplication"):
        out["value-0.5"] = np.array([0.5, 0.0])
    if task.name == "copy":
        out["blank"] = np.eye(task.n_in)[0]
    return out


def is_relu(cell: cells.Cell) -> bool:
    """Whether ``cell``'s step is ``relu(W h + W_in x + b)`` (exact fixed sets apply)."""
    return isinstance(cell, cells.SimpleRNN) and cell.activation == "relu"


# ---------------------------------------------------------------- reading a run


_PARAM_KEY = re.compile(r"^state\.params\['(.+)'\]$")


def _checkpoint_params(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            params = {m.group(1): archive[k] for k in archive.files if (m := _PARAM_KEY.match(k))}
    except (OSError, ValueError, EOFError, MemoryError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise UsageError(f"checkpoint {path} is damaged ({' '.join(str(exc).split()) or type(exc).__name__})") from None
    if not params:
        raise UsageError(f"checkpoint {path} holds no parameters")
    return params


def read_params(folder: Path) -> dict[str, np.ndarray]:
    """The trained parameters of a run folder (its checkpoint: the latest, which for a finished
    run is the final one) or of a record's point (:func:`rnnlab.training.records.load_params`),
    as NumPy arrays; :class:`UsageError` if there are none."""
    if (folder / run_folder.CHECKPOINT).is_file():
        return _checkpoint_params(folder / run_folder.CHECKPOINT)
    from rnnlab.training import records

    if (folder / records.PARAMS).is_file() or (folder.parent / "record.json").is_file():
        return records.load_params(folder)
    raise UsageError(f"{folder} holds no trained parameters (no {run_folder.CHECKPOINT}, no {records.PARAMS})")


def _with_seed_axis(cell, params: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    shapes = jax.eval_shape(cell.init, jax.random.key(0))
    if set(params) != set(shapes):
        raise UsageError(f"{where}: the saved parameters ({', '.join(sorted(params))}) are not those of "
                         f"this model ({', '.join(sorted(shapes))})")
    out = {}
    for name, like in shapes.items():
        a = np.asarray(params[name])
        if a.shape == like.shape:
            a = a[None]
        elif a.shape[1:] != like.shape:
            raise UsageError(f"{where}: parameter {name} has shape {a.shape}, the model's is {like.shape}")
        out[name] = a
    if len({a.shape[0] for a in out.values()}) != 1:
        raise UsageError(f"{where}: the parameters disagree in their number of seeds")
    return out


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class InputAnalysis:
    """The fixed (or slow) points of the map at one constant input ``x``."""

    name: str
    x: np.ndarray
    method: str  # "exact" (ReLU fixed sets) or "slow-points"
    points: list  # FixedSet (exact) or SlowPoint (slow-points)
    outputs: np.ndarray  # (len(points), n_out): the readout at each point
    residuals: np.ndarray  # (len(points),): max |F_x(p) - p| at each point
    tolerances: np.ndarray  # (len(points),): the residual each point was checked against
    settings: dict = field(default_factory=dict)

    @property
    def verified(self) -> np.ndarray:
        return self.residuals <= self.tolerances

    def stable_points(self) -> list[int]:
        """Indices of the attracting isolated fixed points (0-dimensional; for slow points: fixed)."""
        if self.method == "exact":
            return [i for i, p in enumerate(self.points) if p.dimension == 0 and p.stability == "attracting"]
        return [i for i, p in enumerate(self.points) if p.fixed and p.stability == "attracting"]

    def summary(self) -> dict[str, int]:
        """Counts of the points by kind, e.g. ``{"attracting point": 8, "saddle": 19}``. Exact sets:
        ``<stability> point | line | k-dimensional set``; slow points: ``attracting`` or
        ``marginal fixed point``, ``saddle`` (some directions unstable), ``source`` (all), and
        ``slow point`` (a minimum of q above the fixed-point tolerance)."""
        counts: dict[str, int] = {}
        for p in self.points:
            if self.method == "exact":
                shape = {0: "point", 1: "line"}.get(p.dimension, f"{p.dimension}-dimensional set")
                kind = f"{p.stability} {shape}"
            elif not p.fixed:
                kind = "slow point"
            elif p.unstable == 0:
                kind = f"{p.stability} fixed point"
            else:
                kind = "saddle" if p.unstable < len(p.eigenvalues) else "source"
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def to_dict(self) -> dict:
        points = []
        for p, y, r, t in zip(self.points, self.outputs, self.residuals, self.tolerances):
            d = p.to_dict()
            d.update({"output": y.tolist(), "verify_residual": float(r), "verify_tolerance": float(t),
                      "verified": bool(r <= t)})
            points.append(d)
        return {"name": self.name, "x": self.x.tolist(), "method": self.method, "summary": self.summary(),
                "settings": self.settings, "points": points}


@dataclass(frozen=True)
class SeedAnalysis:
    """One seed's analysis: per constant input, and the visited states on their top principal components."""

    seed: int
    inputs: list[InputAnalysis]
    pca_mean: np.ndarray  # (S,)
    pca_axes: np.ndarray  # (2, S)
    explained: np.ndarray  # (2,) fraction of the states' variance on each axis
    trajectories: np.ndarray  # (k, L, S) a few evaluation trajectories, for the figure

    def project(self, h: np.ndarray) -> np.ndarray:
        return (np.asarray(h) - self.pca_mean) @ self.pca_axes.T

    def to_dict(self) -> dict:
        return {"seed": self.seed, "inputs": [a.to_dict() for a in self.inputs],
                "pca": {"explained_variance_ratio": self.explained.tolist(),
                        "axes": self.pca_axes.tolist(), "mean": self.pca_mean.tolist(),
                        "trajectories": self.project(self.trajectories).tolist()}}


@dataclass(frozen=True)
class Analysis:
    """:func:`analyze`'s result: the run, what was analysed, and one :class:`SeedAnalysis` per seed."""

    run: str | None
    config: dict[str, Any]
    method: str
    trajectories: int
    length: int
    seeds: list[SeedAnalysis]

    def to_dict(self) -> dict:
        return {"run": self.run, "model": self.config["model"], "task": self.config["task"],
                "n": self.config["n"], "T": self.config["T"], "method": self.method,
                "method_reference": ("exact fixed sets of the piecewise-linear map (rnnlab.dynamics.fixed_points)"
                                     if self.method == "exact" else
                                     "slow points, minimising q = |F(h) - h|^2 / 2 (Sussillo & Barak 2013)"),
                "trajectories": self.trajectories, "length": self.length, "config": self.config,
                "seeds": [s.to_dict() for s in self.seeds]}

    def lines(self) -> list[str]:
        """The findings, one line per seed and input (what ``rnnlab analyze`` prints)."""
        out = [f"{self.config['model']} on {self.config['task']} (n={self.config['n']}, T={self.config['T']}): "
               + ("exact fixed sets" if self.method == "exact" else "slow points")
               + f" from {self.trajectories} evaluation trajectories of {self.length} steps"]
        for s in self.seeds:
            for a in s.inputs:
                counts = ", ".join(f"{v} {k}{'s' if v > 1 else ''}" for k, v in a.summary().items()) or "none found"
                bad = int(np.sum(~a.verified))
                check = f"all {len(a.points)} verified" if not bad else f"{bad} of {len(a.points)} NOT verified"
                x = ", ".join(f"{v:g}" for v in a.x)
                out.append(f"seed {s.seed}, input {a.name} (x = ({x})): {counts}; {check}")
        return out

    def eigenvalue_figure(self, seed_index: int = 0):
        """Eigenvalues of the Jacobian at each found point against the unit circle, one panel per input."""
        from matplotlib.figure import Figure

        s = self.seeds[seed_index]
        fig = Figure(figsize=(4 * len(s.inputs), 4), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(s.inputs)))
        colours = {"attracting": "tab:green", "marginal": "tab:orange", "repelling": "tab:red"}
        t = np.linspace(0, 2 * np.pi, 400)
        for ax, a in zip(axes, s.inputs):
            ax.plot(np.cos(t), np.sin(t), color="gray", lw=0.8)
            seen = set()
            for p in a.points:
                e = p.eigenvalues
                label = p.stability if p.stability not in seen else None
                seen.add(p.stability)
                ax.scatter(e.real, e.imag, s=8, color=colours[p.stability], alpha=0.6, label=label)
            ax.set_aspect("equal")
            ax.set(title=f"{a.name}: {len(a.points)} point(s)", xlabel="Re $\\lambda$", ylabel="Im $\\lambda$")
            if a.points:
                ax.legend(fontsize=7)
        fig.suptitle(f"{self.config['model']} on {self.config['task']}, seed {s.seed}: Jacobian eigenvalues "
                     + ("(W on the support)" if self.method == "exact" else "at the slow points"), fontsize=9)
        return fig

    def state_figure(self, seed_index: int = 0):
        """Found points and a few evaluation trajectories on the top two principal components."""
        from matplotlib.figure import Figure

        s = self.seeds[seed_index]
        fig = Figure(figsize=(4.5 * len(s.inputs), 4.2), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(s.inputs)))
        markers = {"attracting": ("o", "tab:green"), "marginal": ("s", "tab:orange"), "repelling": ("x", "tab:red")}
        traj = s.project(s.trajectories)
        for ax, a in zip(axes, s.inputs):
            for line in traj:
                ax.plot(line[:, 0], line[:, 1], color="tab:blue", lw=0.5, alpha=0.4)
            for p in a.points:
                z = s.project(p.point)
                marker, colour = markers[p.stability]
                ax.scatter([z[0]], [z[1]], marker=marker, color=colour, s=40, zorder=3)
            pc1, pc2 = s.explained
            ax.set(title=f"{a.name}", xlabel=f"PC1 ({100 * pc1:.0f}%)", ylabel=f"PC2 ({100 * pc2:.0f}%)")
        fig.suptitle(f"{self.config['model']} on {self.config['task']}, seed {s.seed}: points "
                     "(green o attracting, orange square marginal, red x repelling) and trajectories", fontsize=9)
        return fig


# ---------------------------------------------------------------- the analysis


def _states(cell, params, x):
    """States ``(L, B, S)`` of ``cell`` along inputs ``x (L, B, n_in)`` (a plain scan of ``cell.step``)."""
    u = cell.project_inputs(params, x)
    h0 = cell.start_state(params, x.shape[1:-1], u.dtype)
    consts = cell.step_constants(params)

    def body(h, u_t):
        h = cell.step(consts, h, u_t)
        return h, h

    return jax.lax.scan(body, h0, u)[1]


def _supports_in_order(states: np.ndarray) -> list[tuple[int, ...]]:
    """The distinct supports of the rows of ``states``, in order of first appearance."""
    on = states > 0
    _, first = np.unique(np.packbits(on, axis=1), axis=0, return_index=True)
    return [tuple(int(i) for i in np.flatnonzero(on[j])) for j in np.sort(first)]


def _readout(cell, params, h):
    return np.asarray(cell.readout(params, cell.features(jnp.asarray(h))))


def _pca(states: np.ndarray):
    mean = states.mean(axis=0)
    _, sv, vt = np.linalg.svd(states - mean, full_matrices=False)
    var = sv**2
    k = min(2, vt.shape[0])
    axes = np.zeros((2, states.shape[1]))
    axes[:k] = vt[:k]
    explained = np.zeros(2)
    explained[:k] = var[:k] / max(var.sum(), 1e-300)
    return mean, axes, explained


def _exact(cell, params, x, name, states, sample, *, tol, exact_max_n, max_supports):
    w = np.asarray(params["W"], np.float64)
    b = np.asarray(params["W_in"], np.float64) @ x + np.asarray(params["b"], np.float64)
    n = w.shape[0]
    # Supports where the constant-input map settles (run from the sampled states), then those of
    # the trajectories, nearest to being fixed under F_x first.
    h = sample.copy()
    tails = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(SETTLE_STEPS):
            h = np.maximum(h @ w.T + b, 0.0)
            if t >= SETTLE_STEPS - TAIL:
                tails.append(h[np.all(np.isfinite(h), axis=1)])
        speed = np.max(np.abs(np.maximum(states @ w.T + b, 0.0) - states), axis=1)
    visited = _supports_in_order(states[np.argsort(speed, kind="stable")])
    ordered = list(dict.fromkeys(supports_of(np.concatenate(tails)) + visited))
    examined = ordered[:max_supports]
    sets = fixed_points(w, b, tol=tol, exact_max_n=exact_max_n, supports=examined)
    eps = float(np.finfo(np.float64).eps)
    residuals, tolerances = [], []
    for f in sets:
        p = f.point
        residuals.append(float(np.max(np.abs(np.maximum(w @ p + b, 0.0) - p))))
        # Rounding of the float64 arithmetic, plus what the eigenvalue tolerance allows: a
        # singular value of W_SS - I up to tol counts as 0 (that is what makes a line).
        size = np.abs(w) @ np.abs(p) + np.abs(b) + np.abs(p)
        tolerances.append(10 * n * eps * float(np.max(size)) + tol * (1.0 + np.linalg.norm(p) + np.linalg.norm(b)))
    outputs = _readout(cell, params, np.stack([f.point for f in sets])) if sets else np.zeros((0, cell.n_out))
    settings = {"tol": tol, "tol_meaning": "an eigenvalue within tol of 1 counts as 1 (default 100 n eps(float64) "
                "max(1, ||W||): the trained weights taken as exact numbers)", "supports_visited": len(ordered), "supports_examined": len(examined)
                if n > exact_max_n else 2**n, "all_supports": n <= exact_max_n, "settle_steps": SETTLE_STEPS,
                "tail": TAIL, "starts": len(sample)}
    return InputAnalysis(name, x, "exact", sets, outputs, np.array(residuals), np.array(tolerances), settings)


def _slow(cell, params, x, name, sample, options):
    u = cell.project_inputs(params, jnp.asarray(x)[None])[0]
    one_step = smooth_step(cell, params)

    def step(h):
        return one_step(h, u)

    found = slow_points(step, sample, **options)
    pts = found.points
    outputs = _readout(cell, params, np.stack([p.point for p in pts])) if pts else np.zeros((0, cell.n_out))
    residuals = np.array([p.residual for p in pts])
    tolerances = np.full(len(pts), found.settings["tol"])
    # A slow point is not meant to be fixed: it is "verified" against its own residual.
    tolerances = np.where([p.fixed for p in pts], tolerances, residuals) if pts else tolerances
    return InputAnalysis(name, x, "slow-points", pts, outputs, residuals, tolerances,
                         found.settings | {"starts": found.starts})


def _config_of(run) -> tuple[TrainConfig, str | None]:
    if isinstance(run, TrainResult):
        return run.config, (None if run.run_dir is None else str(run.run_dir))
    folder = Path(run)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder (give a run folder or a record's point folder)")
    if not (folder / run_folder.CONFIG).is_file():
        raise UsageError(f"{folder} is not a run folder (no {run_folder.CONFIG})")
    return TrainConfig(**load_toml(folder / run_folder.CONFIG)), str(folder)


def analyze(
    run, *, inputs: dict[str, Any] | None = None, seed: int | None = None, trajectories: int = 1000,
    starts: int = 1024, noise: float = 0.5, all_supports: bool = False, max_supports: int = 20000, tol: float | None = None,
    slow_options: dict | None = None,
) -> Analysis:
    """Fixed points (ReLU: exact fixed sets) or slow points of the trained network in ``run``.

    Args:
        run: a run folder, a record's point folder, or a :class:`~rnnlab.training.result.TrainResult`.
        inputs: ``{name: x}``, the constant inputs to analyse (default :func:`constant_inputs`
            of the run's task).
        seed: analyse only this seed of a multi-seed run (default every seed).
        trajectories: evaluation sequences to draw (fewer if their states would pass
            :data:`TRAJECTORY_BYTES`).
        starts: states sampled from them: the slow-point starts, or for ReLU the starts of
            the settling runs.
        noise: slow points: Gaussian noise added to each start, times the RMS of the
            sampled states.
        all_supports: ReLU: examine all ``2^n`` supports (``n <=`` :data:`ALL_SUPPORTS_MAX_N`).
        max_supports: ReLU: at most this many supports are examined otherwise.
        tol: ReLU: an eigenvalue within ``tol`` of 1 counts as 1 (default
            :func:`~rnnlab.dynamics.fixed_points.unit_eigenvalue_tolerance` in float64: the
            trained weights are taken as exact numbers, so a line needs an eigenvalue of
            ``W_SS`` within about ``1e-12`` of 1; pass e.g. ``1 / T`` to ask for lines that hold
            over the task's length).
        slow_options: keywords of :func:`rnnlab.dynamics.slow_points.slow_points`.

    Returns:
        An :class:`Analysis`: per seed and constant input, the points found, the network's
        output at each, their verification, and the settings that decided them.

    Raises:
        UsageError: before anything is computed, for the bad input the module docstring lists.
    """
    from rnnlab.training import loop

    check_int(trajectories, "trajectories")
    check_int(starts, "starts")
    check_int(max_supports, "max_supports")
    if not (math.isfinite(noise) and noise >= 0):
        raise UsageError(f"noise must be a finite number >= 0, got {noise!r}")
    cfg, where = _config_of(run)
    where_text = where or "the run"
    exp = loop.build(cfg)
    cell, task = exp.cell, exp.task
    relu = is_relu(cell)
    if all_supports:
        if not relu:
            raise UsageError(f"all_supports applies to ReLU models only (exact fixed sets), not {cfg.model}")
        if cfg.n > ALL_SUPPORTS_MAX_N:
            raise UsageError(f"all_supports: 2^{cfg.n} supports are too many to enumerate (at most "
                             f"n = {ALL_SUPPORTS_MAX_N}); leave it out to take the supports the trajectories visit")
    raw = run.params if isinstance(run, TrainResult) else read_params(Path(run))
    params = _with_seed_axis(cell, {k: np.asarray(v) for k, v in raw.items()}, where_text)
    k = next(iter(params.values())).shape[0]
    chosen = list(range(k))
    if seed is not None:
        if not cfg.seed <= seed < cfg.seed + k:
            raise UsageError(f"seed {seed} is not in this run (seeds {cfg.seed} to {cfg.seed + k - 1})")
        chosen = [seed - cfg.seed]
    for i in chosen:
        bad = [name for name, a in params.items() if not np.all(np.isfinite(a[i]))]
        if bad:
            raise UsageError(f"{where_text}: seed {cfg.seed + i}'s parameters are not finite ({', '.join(bad)}): "
                             "the run diverged; there is no map to analyse")
    named = constant_inputs(task) if inputs is None else dict(inputs)
    xs = {}
    for name, x in named.items():
        x = np.asarray(x, np.float64).reshape(-1)
        if x.shape != (task.n_in,) or not np.all(np.isfinite(x)):
            raise UsageError(f"input {name!r} must be {task.n_in} finite numbers (the task's input size), got {x.tolist()}")
        xs[name] = x
    if not xs:
        raise UsageError("no constant inputs to analyse")
    state_bytes = task.length * cell.state_size * 8
    m = max(1, min(trajectories, TRAJECTORY_BYTES // state_bytes))
    x_eval = np.asarray(jax.jit(task.sample, static_argnums=1)(jax.random.key(TEST_SEED), m)[0], np.float64)

    results = []
    with jax.enable_x64(True):
        run_states = jax.jit(lambda p, x: _states(cell, p, x))
        for i in chosen:
            p64 = {name: np.asarray(a[i], np.float64) for name, a in params.items()}
            states = np.asarray(run_states(p64, x_eval))  # (L, m, S)
            flat = states.reshape(-1, states.shape[-1])
            flat = flat[np.all(np.isfinite(flat), axis=1)]
            if not len(flat):
                raise UsageError(f"{where_text}: seed {cfg.seed + i}'s states are not finite on the evaluation "
                                 "sequences; there is nothing to sample starts from")
            rng = np.random.default_rng(0)
            sample = flat[rng.choice(len(flat), size=min(starts, len(flat)), replace=False)]
            # Starts off the trajectories too (FixedPointFinder's noise_scale): the states a
            # trained network visits sit mostly at its attractors, from where descent finds
            # little else; the saddles between them need starts in between.
            rms = float(np.sqrt(np.mean(sample**2)))
            noisy = sample + noise * rms * rng.standard_normal(sample.shape)
            per_input = []
            for name, x in xs.items():
                if relu:
                    w_tol = tol if tol is not None else unit_eigenvalue_tolerance(p64["W"], np.float64)
                    exact_max_n = cfg.n if all_supports else EXACT_MAX_N
                    per_input.append(_exact(cell, p64, x, name, flat, sample, tol=w_tol, exact_max_n=exact_max_n,
                                            max_supports=max_supports))
                else:
                    per_input.append(_slow(cell, p64, x, name, noisy, dict(slow_options or {})))
            mean, axes, explained = _pca(flat[rng.choice(len(flat), size=min(PCA_STATES, len(flat)), replace=False)])
            shown = states[:, :DRAWN_TRAJECTORIES].transpose(1, 0, 2)
            results.append(SeedAnalysis(cfg.seed + i, per_input, mean, axes, explained, shown))
    return Analysis(where, cfg.identity(), "exact" if relu else "slow-points", m, task.length, results)
