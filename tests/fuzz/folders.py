"""Real files to damage: a finished run folder, a finished sweep folder and its record, each
written by rnnlab's own writers (``save_checkpoint``, ``to_toml``, ``gather``, ``summarize``,
``records.export``) without training, so a fuzz example costs milliseconds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rnnlab.training import config as config_mod
from rnnlab.training import records, run_folder
from rnnlab.training.sweep import grid, results
from tests.fuzz.damage import jsonl

TINY = dict(task="addition", model="relu-rnn", n=2, T=2, steps=10, batch=2, log_every=5, eval_every=5,
            checkpoint_every=5, eval_batch=2)

SWEEP = """\
task = "addition"
model = "relu-rnn"
n = 2
T = 2
steps = 10
batch = 2
log_every = 5
eval_every = 5
checkpoint_every = 5
eval_batch = 2
[grid]
seed = [0, 1]
"""


def data_keys(seed: int = 0):
    import jax

    return jax.random.split(jax.random.key(seed), 1)


class TrainState(NamedTuple):
    """The fields of :class:`rnnlab.training.loop.TrainState`, whose pytree paths name a
    checkpoint's entries (``state.params['W']``), without importing the training loop."""

    params: dict
    opt_state: dict
    step: Any


def train_state(seed: int = 0) -> TrainState:
    """A training state of the shape rnnlab saves (parameters, optimiser state, step)."""
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    params = {"W": jnp.asarray(rng.normal(size=(1, 2, 2)), jnp.float32),
              "b": jnp.asarray(rng.normal(size=(1, 2)), jnp.float32)}
    return TrainState(params, {"mu": {k: jnp.zeros_like(v) for k, v in params.items()}},
                      jnp.asarray(10, jnp.int32))


def like():
    import jax

    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), train_state())


def run(folder: Path, cfg: config_mod.TrainConfig | None = None) -> Path:
    """A finished run folder: config, metrics at every ``log_every`` step, summary, and a
    checkpoint at the last step."""
    cfg = cfg or config_mod.TrainConfig(**TINY)
    folder.mkdir(parents=True)
    (folder / run_folder.CONFIG).write_text(config_mod.to_toml(cfg.identity()))
    lines = [{"step": s, "seed": cfg.seed, "loss": 1.0 / s, "val_mse": 2.0 / s, "wall_time": 0.1 * s}
             for s in range(cfg.log_every, cfg.steps + 1, cfg.log_every)]
    lines[-1]["test_mse"] = 0.5
    (folder / run_folder.METRICS).write_text(jsonl(lines))
    final = {k: v for k, v in lines[-1].items()}
    (folder / run_folder.SUMMARY).write_text(json.dumps({
        "num_params": 6, "steps": cfg.steps, "wall_time": 1.0, "baseline": 1 / 6, "lr_scale": 1.0,
        "rollbacks": 0, "final": [final]}, indent=1))
    run_folder.save_checkpoint(folder / run_folder.CHECKPOINT, train_state(cfg.seed), cfg.steps, 1.0,
                               data_keys(cfg.seed))
    return folder


def sweep(out: Path) -> tuple[Path, list[grid.Point]]:
    """A finished two-point sweep folder ``out`` (its file beside it) as ``rnnlab sweep`` leaves it."""
    out.mkdir(parents=True)
    spec = out.parent / f"{out.name}.toml"
    spec.write_text(SWEEP)
    pts = grid.points(grid.load(spec), build=False)
    for p in pts:
        run(out / p.name, p.config)
        (out / f"{p.name}.toml").write_text(config_mod.to_toml(p.config.identity()))
        (out / f"{p.name}.log").write_text("--- a run\n")
    results.gather(out, pts)
    results.summarize(out, pts)
    call = {"file": str(spec), "quick": False, "overrides": {}, "where": {}, "backend": "local",
            "points": [p.name for p in pts]}
    (out / "sweep.json").write_text(json.dumps({**call, "id": "0", "calls": [call]}, indent=1))
    return spec, pts


def record(sweep_folder: Path, dest: Path) -> Path:
    records.export([sweep_folder], dest)
    return dest


def copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest
