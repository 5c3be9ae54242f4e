"""The training step, the compiled training chunk, and a run with checkpoints and metrics.

Building blocks (importable, e.g. by benchmarks)::

    exp = build(TrainConfig(task="copy", model="full-urnn", n=128, T=100))
    state = init_state(exp, jax.random.key(0))
    step = make_train_step(exp.cell, exp.task, exp.tx, exp.labels)  # jitted, donates state
    x, y = exp.task.sample(jax.random.key(1), 20)
    state, metrics = step(state, x, y)

- :func:`make_train_step` ``(cell, task, tx, labels) -> step(state, x, y) -> (state, metrics)``
  one jitted step (forward ``lax.scan`` over time, backward, optimiser update). Inputs
  are time-first, ``x (L, B, n_in)``; ``metrics`` holds ``loss``, ``grad_norm``,
  ``finite`` and the task's metrics. A non-finite loss or gradient leaves the state as it
  was (``finite`` is False).
- :func:`make_train_chunk` ``length`` steps in one compiled ``lax.scan``, data generated
  inside from ``fold_in(data_key, step)``, so a step's batch depends only on its number
  (which is what makes resumed runs identical to uninterrupted ones).
- :func:`run` the whole experiment of a :class:`TrainConfig`: ``seeds`` independent runs
  vmapped in one program, in a locked run folder (:mod:`run_folder`: metrics, data-only
  checkpoints, resume), NaN guard (stop or roll back), a checkpoint on SIGINT / SIGTERM,
  ``curves.png`` at the end.

Evaluation is in :mod:`~rnnlab.training.evaluation`, the seed axis in
:mod:`~rnnlab.training.seeds`, the run folder's files in :mod:`~rnnlab.training.run_folder`.
This module stays one file a little over 350 lines because :func:`run` is the building
blocks above put in order: read together, the step and the driver that checkpoints it explain
why a resumed run is identical to an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.analysis.unitary import polar_project, unitarity_error
from rnnlab.errors import UsageError
from rnnlab.files import atomic_write
from rnnlab.training import cells, curves, optim, probes, run_folder, sharding, tasks
from rnnlab.training.config import TrainConfig
from rnnlab.training.evaluation import empirical_baselines, make_eval, make_split_eval
from rnnlab.training.lock import FolderLock
from rnnlab.training.run_folder import CHECKPOINT, CONFIG, CURVES, METRICS, SUMMARY
from rnnlab.training.seeds import over_seeds, seed_keys

#: Factor applied to every learning rate at each ``--on-nan rollback``.
ROLLBACK_LR_FACTOR = 0.5


class TrainState(NamedTuple):
    """The state a training step carries.

    Attributes:
        params: the parameters, by leaf name.
        opt_state: the optimiser's state.
        step: the steps taken, an int32 scalar.
    """

    params: dict[str, jax.Array]
    opt_state: optax.OptState
    step: jax.Array  # int32 scalar: steps taken


@dataclass(frozen=True)
class Experiment:
    """What a config builds: the cell, the task, the optimiser and the leaf labels."""

    config: TrainConfig
    cell: cells.Cell
    task: tasks.Task
    labels: dict[str, str]
    tx: optax.GradientTransformation


def build(cfg: TrainConfig) -> Experiment:
    """The cell, task and optimiser of ``cfg``.

    Args:
        cfg: the run's config.

    Returns:
        The experiment: config, cell, task, leaf labels and optimiser.

    Raises:
        UsageError: an unknown model or task, or a model the task cannot train.
    """
    task = tasks.make(cfg.task, cfg.T, cfg.n, target=cfg.target, target_seed=cfg.target_seed,
                      permutation_seed=cfg.permutation_seed, data=cfg.data, train_subset=cfg.train_subset)
    cell = cells.make(cfg.model, cfg.n, task.n_in, task.n_out, **cfg.cell_options())
    task.check_model(cell)
    shapes = jax.eval_shape(cell.init, jax.random.key(0))
    labels = task.labels(cell, shapes)
    if cfg.reproject_every and cells.UNITARY not in labels.values():
        raise UsageError(f"reproject_every applies to models with a unitary W (full-urnn), not {cfg.model}")
    return Experiment(cfg, cell, task, labels, make_optimiser(cfg, labels))


def make_optimiser(cfg: TrainConfig, labels: dict[str, str], lr_scale: float = 1.0) -> optax.GradientTransformation:
    """The combined optimiser of ``cfg`` with every learning rate times ``lr_scale``."""
    euclid = optim.euclidean(cfg.optimiser, cfg.lr * lr_scale, cfg.clip, cfg.momentum, cfg.decay)
    unitary_lr = (cfg.lr if cfg.unitary_lr is None else cfg.unitary_lr) * lr_scale
    return optim.combined(labels, euclid, optim.cayley_unitary(unitary_lr, cfg.rms_normalise, cfg.decay,
                                                                 rms_reading=cfg.rms_reading))


def num_params(exp: Experiment) -> int:
    """Trainable real degrees of freedom (frozen leaves excluded; see :mod:`cells`)."""
    shapes = jax.eval_shape(exp.cell.init, jax.random.key(0))
    trainable = {k: v for k, v in shapes.items() if exp.labels[k] != cells.FROZEN}
    return exp.cell.num_params(trainable)


def init_state(exp: Experiment, key: jax.Array) -> TrainState:
    """A fresh training state: the cell's initial parameters and the optimiser's state at step 0.

    Args:
        exp: the experiment (:func:`build`).
        key: a JAX PRNG key.

    Returns:
        The state.
    """
    params = exp.task.prepare(exp.cell, exp.cell.init(key))
    return TrainState(params, exp.tx.init(params), jnp.zeros((), jnp.int32))


def _step_fn(cell: cells.Cell, task: tasks.Task, tx: optax.GradientTransformation, labels: dict[str, str]):
    def loss_fn(params, x, y):
        pred = cell.apply(params, x, task.all_steps)
        return task.loss(pred, y), pred

    def step(state: TrainState, x: jax.Array, y: jax.Array):
        (loss, pred), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, x, y)
        grad_norm = optax.tree.norm({k: g for k, g in grads.items() if labels[k] != cells.FROZEN})
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        new = TrainState(optax.apply_updates(state.params, updates), opt_state, state.step + 1)
        finite = jnp.isfinite(loss) & jnp.isfinite(grad_norm)
        # A bad step must not poison the state: keep the old one and report it.
        new = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, state)
        metrics = {"loss": loss, "grad_norm": grad_norm, "finite": finite, **task.metrics(pred, y)}
        return new, metrics

    return step


def make_train_step(cell: cells.Cell, task: tasks.Task, tx: optax.GradientTransformation,
                    labels: dict[str, str]):
    """One jitted training step ``(state, x (L, B, n_in), y) -> (state, metrics)``; ``state`` is donated.

    A step whose loss or gradient is not finite leaves the state as it was and reports
    ``finite = False`` in its metrics.

    Args:
        cell: the model.
        task: the task.
        tx: the optimiser.
        labels: the optimiser label of each parameter leaf.

    Returns:
        The jitted step.
    """
    return jax.jit(_step_fn(cell, task, tx, labels), donate_argnums=0)


def make_train_chunk(cell: cells.Cell, task: tasks.Task, tx: optax.GradientTransformation,
                     labels: dict[str, str], batch: int, length: int, split_batch: bool = False):
    """``(state, data_key) -> (state, metrics)``: ``length`` steps in one ``lax.scan``, not jitted
    (jit it, or vmap it over seeds first). ``metrics`` leaves have a leading ``(length,)`` axis.

    Args:
        cell: the model.
        task: the task.
        tx: the optimiser.
        labels: the optimiser label of each parameter leaf.
        batch: sequences per step.
        length: steps per chunk.
        split_batch: split each batch over the host devices (:mod:`sharding`).

    Returns:
        The chunk function.
    """
    step = _step_fn(cell, task, tx, labels)

    def chunk(state: TrainState, data_key: jax.Array):
        def body(s, _):
            x, y = task.sample_step(data_key, s.step, batch)
            if split_batch:
                x = sharding.split_batch(x, axis=1)
            return step(s, x, y)

        return jax.lax.scan(body, state, None, length=length)

    return chunk


# ---------------------------------------------------------------- run folder


def _json_value(x: Any) -> Any:
    x = np.asarray(x)
    if x.dtype == bool:
        return bool(x)
    value = float(x)
    return value if math.isfinite(value) else None


class _Signals:
    """SIGINT / SIGTERM during a run set :attr:`received`, so the loop can checkpoint at the end
    of the current chunk and stop; a second signal interrupts at once. Only in the main thread
    (Python delivers signals there); elsewhere nothing is installed."""

    def __init__(self):
        self.received: int | None = None
        self._old: dict[int, Any] = {}

    def _handle(self, signum, frame):
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


def resume_command(out: Path) -> str:
    """The shell command that continues the run in ``out``."""
    return f"rnnlab train --config {shlex.quote(str(out / CONFIG))} --out {shlex.quote(str(out))} --resume"


def _write_curves(out: Path) -> None:
    # The data are saved already; a picture that cannot be drawn must not fail the run.
    try:
        curves.write([out], out / CURVES)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"rnnlab train: warning: could not draw {out / CURVES}: {exc}", file=sys.stderr)


# ---------------------------------------------------------------- the run


def run(cfg: TrainConfig, log=print) -> int:
    """Train ``cfg`` in its run folder, holding the folder's lock throughout.

    Args:
        cfg: the run's config.
        log: receives the run's log lines.

    Returns:
        0 finished; 1 stopped by a non-finite value; 128 + the signal number if stopped by
        SIGINT / SIGTERM (after saving a checkpoint at the current step).

    Raises:
        UsageError: a bad config, or a run folder that is in use or holds another run.
    """
    exp = build(cfg)
    exp.task.check_batch(cfg.batch)
    out = cfg.run_dir()
    run_folder.check(cfg, out)  # refuse before the lock file lands in a folder that is not ours
    with FolderLock(out), _Signals() as signals:
        run_folder.claim(cfg, out)
        return _run_locked(cfg, exp, out, signals, log)


def _run_locked(cfg: TrainConfig, exp: Experiment, out: Path, signals: _Signals, log) -> int:
    exp.task.write_files(out)
    k = cfg.seeds
    init_keys, data_keys = seed_keys(cfg)
    fresh = jax.jit(jax.vmap(lambda key: init_state(exp, key)))(init_keys)
    like = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), fresh)

    ckpt_path, metrics_path = out / CHECKPOINT, out / METRICS
    step, elapsed_before, lr_scale, rollbacks = 0, 0.0, 1.0, 0
    if cfg.resume and ckpt_path.exists():
        state, meta = run_folder.load_checkpoint(ckpt_path, like, data_keys)
        step, elapsed_before = meta["step"], meta["elapsed"]
        lr_scale, rollbacks = meta["lr_scale"], meta["rollbacks"]
        lines = run_folder.read_metrics(metrics_path, step)
        atomic_write(metrics_path, "".join(line + "\n" for line in lines), durable=True)
        log(f"resuming {out} from step {step}" + (f" (learning rates x{lr_scale:g} after {rollbacks} rollback(s))"
                                                  if rollbacks else ""))
    else:
        if cfg.resume:
            log(f"{out} has no checkpoint yet: starting at step 0")
        state = fresh
        atomic_write(metrics_path, b"", durable=True)
        run_folder.save_checkpoint(ckpt_path, state, 0, 0.0, data_keys)
    if k > 1:
        state = sharding.place_seeds(state)
    if lr_scale != 1.0:
        exp = dataclasses.replace(exp, tx=make_optimiser(cfg, exp.labels, lr_scale))

    count = num_params(exp)
    split_batch = k == 1 and sharding.batch_split_pays(exp.cell.state_size, cfg.T, cfg.batch)
    split = sharding.describe(cfg.batch, k, split_batch)
    log(f"{cfg.model} on {cfg.task} (T={cfg.T}, n={cfg.n}): {count} parameters, {k} seed(s)"
        + (f", {split}" if split else "") + f", run folder {out}")
    if exp.task.baseline is not None:
        log(f"baseline loss (input-blind guess): {exp.task.baseline:.6g}")

    chunks: dict[int, Any] = {}

    def chunk_fn(length):
        if length not in chunks:
            # One seed: split its batch over the host devices if that pays; several: split the seeds.
            fn = make_train_chunk(exp.cell, exp.task, exp.tx, exp.labels, cfg.batch, length, split_batch=split_batch)
            chunks[length] = jax.jit(over_seeds(fn, k), donate_argnums=0)
        return chunks[length]

    if exp.task.eval_splits:
        evaluate_split = (exp.task.split_eval(exp.cell, cfg.eval_batch, k)
                          or make_split_eval(exp.cell, exp.task, cfg.eval_batch, k))

        def evaluate(params, final):
            val, test = exp.task.eval_splits
            metrics = {f"{val}_{name}": v for name, v in evaluate_split(params, val).items()}
            if final:
                metrics.update({f"{test}_{name}": v for name, v in evaluate_split(params, test).items()})
            return metrics
    else:
        # Generated tasks: the fixed validation batch at every evaluation, the test batch at the end.
        evaluate_batch = {split: jax.jit(over_seeds(make_eval(exp.cell, exp.task, cfg.eval_batch, split), k))
                          for split in ("val", "test")}

        def evaluate(params, final):
            splits = ("val", "test") if final else ("val",)
            return {f"{split}_{name}": v for split in splits for name, v in evaluate_batch[split](params).items()}
    unitarity = jax.jit(over_seeds(lambda p: unitarity_error(exp.cell.recurrent_matrix(p)), k))
    # Before the first chunk donates the initial state: the probes keep its recurrent matrix.
    probe = probes.make(exp.cell, exp.task, k, fresh.params) if cfg.probes else None
    unitary_keys = [name for name, label in exp.labels.items() if label == cells.UNITARY]
    reproject = jax.jit(
        over_seeds(lambda p: p | {name: polar_project(p[name]) for name in unitary_keys}, k)
    )

    from tqdm import tqdm

    bar = tqdm(total=cfg.steps, initial=min(step, cfg.steps), disable=not cfg.progress, file=sys.stderr,
               dynamic_ncols=True)
    start = time.perf_counter()
    last_lines: list[dict] = []
    saved_step = run_folder.checkpoint_step(ckpt_path)
    metrics_file = open(metrics_path, "a")
    try:
        while step < cfg.steps:
            length = min(cfg.log_every - step % cfg.log_every, cfg.steps - step)
            state, ms = chunk_fn(length)(state, data_keys)
            ms = jax.device_get(ms)
            bad = ~ms["finite"]  # (seeds, length)
            if bad.any():
                s, j = np.argwhere(bad)[0]
                where = f"non-finite loss or gradient at step {step + j + 1} (seed {cfg.seed + s})"
                if cfg.on_nan != "rollback" or rollbacks >= cfg.max_rollbacks:
                    bar.close()
                    spent = f" after {rollbacks} rollback(s)" if cfg.on_nan == "rollback" else ""
                    print(f"rnnlab train: {where}; stopped{spent}. The last good checkpoint is {ckpt_path} "
                          f"(step {saved_step}).", file=sys.stderr)
                    metrics_file.close()
                    _write_curves(out)
                    return 1
                rollbacks += 1
                lr_scale *= ROLLBACK_LR_FACTOR
                state, meta = run_folder.load_checkpoint(ckpt_path, like, data_keys)
                step = meta["step"]
                exp = dataclasses.replace(exp, tx=make_optimiser(cfg, exp.labels, lr_scale))
                chunks.clear()
                metrics_file.close()
                lines = run_folder.read_metrics(metrics_path, step)
                atomic_write(metrics_path, "".join(line + "\n" for line in lines), durable=True)
                metrics_file = open(metrics_path, "a")
                bar.n = step
                bar.refresh()
                print(f"rnnlab train: {where}; rollback {rollbacks} of {cfg.max_rollbacks}: back to step {step} "
                      f"with learning rates x{lr_scale:g}", file=sys.stderr)
                continue
            step += length
            if cfg.reproject_every and step % cfg.reproject_every == 0:
                state = state._replace(params=reproject(state.params))
            extra = {}
            if exp.cell.is_unitary():
                extra["unitarity_error"] = unitarity(state.params)
            if step % cfg.eval_every == 0 or step == cfg.steps:
                extra.update(evaluate(state.params, step == cfg.steps))
                if probe is not None:
                    extra.update(probe(state.params))
            extra = jax.device_get(extra)
            wall = elapsed_before + time.perf_counter() - start
            last_lines = []
            for s in range(k):
                line = {"step": step, "seed": cfg.seed + s}
                line.update({name: _json_value(v[s, -1]) for name, v in ms.items() if name != "finite"})
                line.update({name: _json_value(v[s]) for name, v in extra.items()})
                if lr_scale != 1.0:
                    line["lr_scale"] = lr_scale
                line["wall_time"] = round(wall, 3)
                last_lines.append(line)
                metrics_file.write(json.dumps(line) + "\n")
            metrics_file.flush()
            bar.update(length)
            bar.set_postfix(loss=f"{float(np.mean(ms['loss'][:, -1])):.4g}")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps or signals.received:
                run_folder.save_checkpoint(ckpt_path, state, step, wall, data_keys, lr_scale, rollbacks)
                saved_step = step
            if signals.received and step < cfg.steps:
                bar.close()
                name = signal.Signals(signals.received).name
                print(f"rnnlab train: {name} at step {step}; checkpoint saved at step {step}. "
                      f"Resume with: {resume_command(out)}", file=sys.stderr)
                metrics_file.close()
                _write_curves(out)
                return 128 + signals.received
    finally:
        metrics_file.close()
        bar.close()
    if not last_lines:  # resumed a finished run: report what it logged last
        last_lines = [row for row in map(json.loads, run_folder.read_metrics(metrics_path, step)) if row["step"] == step]
    wall = elapsed_before + time.perf_counter() - start
    summary = {"num_params": count, "steps": step, "wall_time": round(wall, 3), "baseline": exp.task.baseline,
               **({} if exp.task.eval_splits else empirical_baselines(exp.task, cfg.eval_batch)),
               "lr_scale": lr_scale, "rollbacks": rollbacks, "final": last_lines}
    atomic_write(out / SUMMARY, json.dumps(summary, indent=1) + "\n", durable=True)
    for line in last_lines:
        shown = ", ".join(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}"
                          for key, value in line.items())
        log(shown)
    _write_curves(out)
    log(f"done in {wall:.1f} s; metrics in {metrics_path}, curves in {out / CURVES}")
    return 0

