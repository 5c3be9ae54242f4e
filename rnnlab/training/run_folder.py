"""The run folder: its files, data-only checkpoints, the metrics log, and the resume rules.

A run folder holds

- ``config.toml``: the resolved config (loadable with ``--config``);
- ``metrics.jsonl``: one JSON line per seed every ``log_every`` steps;
- ``checkpoint.npz``: the latest checkpoint, a plain ``.npz`` archive of arrays (no code is
  run on loading, ``allow_pickle=False``): the training state keyed by its pytree paths
  (``state.params['W']``, ``state.opt_state...``), the step, the wall time so far, the
  learning-rate scale left by ``--on-nan rollback``, and the data keys (the run's RNG);
- ``summary.json``, ``curves.png`` at the end; ``.lock`` while a process trains in it.

Every file is written to ``NAME.tmp``, fsynced and renamed, so a killed run leaves either the
old file or the new one.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UsageError
from rnnlab.files import atomic_write
from rnnlab.training import config as config_mod
from rnnlab.training.config import TrainConfig

CHECKPOINT = "checkpoint.npz"
#: The executable checkpoint format of rnnlab 0.1.0 runs, refused on resume.
OLD_CHECKPOINT = "checkpoint.pkl"
METRICS = "metrics.jsonl"
CONFIG = "config.toml"
SUMMARY = "summary.json"
CURVES = "curves.png"
LOCK = ".lock"
CHECKPOINT_VERSION = 2


def save_checkpoint(path: Path, state, step: int, elapsed: float, data_keys: jax.Array,
                    lr_scale: float = 1.0, rollbacks: int = 0) -> None:
    """Write ``state`` (any pytree of arrays) and the run's counters to ``path`` atomically."""
    arrays = {"state" + jax.tree_util.keystr(p): np.asarray(leaf)
              for p, leaf in jax.tree_util.tree_flatten_with_path(state)[0]}
    arrays.update({
        "meta.version": np.asarray(CHECKPOINT_VERSION), "meta.step": np.asarray(step, np.int64),
        "meta.elapsed": np.asarray(elapsed, np.float64), "meta.lr_scale": np.asarray(lr_scale, np.float64),
        "meta.rollbacks": np.asarray(rollbacks, np.int64), "rng.data_keys": np.asarray(jax.random.key_data(data_keys)),
    })
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write(path, buffer.getvalue(), durable=True)


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(f"checkpoint {path} is damaged ({why}); "
                         f"rerun in a new folder, or delete it to restart this run from step 0") from None


def _meta(blob: dict[str, np.ndarray], path: Path) -> dict[str, float | int]:
    try:
        version = int(blob["meta.version"])
        if version != CHECKPOINT_VERSION:
            raise UsageError(f"checkpoint {path} has format version {version}; "
                             f"this rnnlab reads version {CHECKPOINT_VERSION}")
        return {"step": int(blob["meta.step"]), "elapsed": float(blob["meta.elapsed"]),
                "lr_scale": float(blob["meta.lr_scale"]), "rollbacks": int(blob["meta.rollbacks"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"checkpoint {path} is damaged (missing or bad entry {exc}); "
                         f"rerun in a new folder, or delete it to restart this run from step 0") from None


def read_checkpoint_meta(path: Path) -> dict[str, float | int]:
    """``step``, ``elapsed``, ``lr_scale``, ``rollbacks`` of a checkpoint (refuses a damaged file)."""
    return _meta(_read(path), path)


def load_checkpoint(path: Path, like, data_keys: jax.Array):
    """``(state, meta)``: the state saved in ``path``, with the tree structure, shapes and dtypes
    of ``like`` (arrays or ``jax.ShapeDtypeStruct``), and :func:`read_checkpoint_meta`'s
    counters. Refuses a damaged file and a checkpoint of another run."""
    blob = _read(path)
    meta = _meta(blob, path)
    leaves_with_paths, treedef = jax.tree_util.tree_flatten_with_path(like)
    expected = {"state" + jax.tree_util.keystr(p): leaf for p, leaf in leaves_with_paths}
    saved = {k: v for k, v in blob.items() if k.startswith("state")}
    if saved.keys() != expected.keys() or any(
        saved[k].shape != tuple(v.shape) or saved[k].dtype != v.dtype for k, v in expected.items()
    ):
        raise UsageError(f"checkpoint {path} does not match this run's model")
    if not np.array_equal(blob.get("rng.data_keys"), np.asarray(jax.random.key_data(data_keys))):
        raise UsageError(f"checkpoint {path} was written with other data seeds than this run's")
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(saved[k]) for k in expected]), meta


def checkpoint_step(path: Path) -> int | None:
    """The step of the checkpoint in ``path``, or None if there is none."""
    return read_checkpoint_meta(path)["step"] if path.exists() else None


def read_metrics(path: Path, up_to: int | None = None) -> list[str]:
    """Lines of ``metrics.jsonl`` (with ``step <= up_to`` if given; a torn last line is dropped)."""
    if not path.exists():
        return []
    kept = []
    for line in path.read_text().splitlines():
        try:
            if up_to is None or json.loads(line)["step"] <= up_to:
                kept.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return kept


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """The metrics of a run folder as dicts; :class:`UsageError` if it is not a run folder."""
    if not (folder / METRICS).is_file():
        raise UsageError(f"{folder} is not a run folder (no {METRICS})")
    return [json.loads(line) for line in read_metrics(folder / METRICS)]


def check(cfg: TrainConfig, out: Path) -> None:
    """Refuse (:class:`UsageError`) unless ``out`` may take this run: a new or empty folder, or
    with ``--resume`` a folder of the same run. Also refused: ``--resume`` with nothing to
    resume, ``--steps`` below the step the run has reached (its records would disagree), a checkpoint of the
    old executable format. Reads only; run it before taking the lock and again under it."""
    saved = out / CONFIG
    if (out / OLD_CHECKPOINT).exists() and not (out / CHECKPOINT).exists():
        raise UsageError(f"{out} holds a checkpoint of rnnlab 0.1.0 ({OLD_CHECKPOINT}), a format that can run "
                         f"code on loading and is no longer read; rerun it in a new folder, or finish it "
                         f"with rnnlab 0.1.0")
    if saved.exists():
        previous = config_mod.from_saved(saved)
        current = cfg.identity()
        differs = [k for k in current if k not in config_mod.RESUMABLE_CHANGES and previous.get(k) != current[k]]
        if differs:
            raise UsageError(f"{out} holds a different run (differs in {', '.join(differs)}); choose another --out")
        if not cfg.resume:
            raise UsageError(f"{out} already holds this run; pass --resume to continue it or choose another --out")
        reached = checkpoint_step(out / CHECKPOINT) or 0
        if cfg.steps < reached:
            raise UsageError(f"{out} holds a run at step {reached}; --steps may not go below it on --resume "
                             f"(got {cfg.steps})")
    elif cfg.resume:
        raise UsageError(f"--resume: {out} holds no run to resume (no {CONFIG}); leave out --resume to start one")
    elif out.is_dir() and any(p.name != LOCK for p in out.iterdir()):
        raise UsageError(f"{out} exists and is not a run folder; choose another --out")
    elif out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder; choose another --out")


def claim(cfg: TrainConfig, out: Path) -> None:
    """:func:`check`, then write ``config.toml``; the caller holds the folder's lock."""
    check(cfg, out)
    atomic_write(out / CONFIG, config_mod.to_toml(cfg.identity()), durable=True)
