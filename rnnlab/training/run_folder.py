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
import math
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnlab.errors import UsageError
from rnnlab.files import atomic_write
from rnnlab.training import config as config_mod
from rnnlab.training.config import TrainConfig

# JAX loads in the checkpoint functions only: reading metrics (rnnlab plot) and checking a
# folder need none of it, and importing it takes seconds.
if TYPE_CHECKING:
    import jax

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
    import jax

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


def _damaged(path: Path, why: str) -> UsageError:
    return UsageError(f"checkpoint {path} is damaged ({why}); "
                      f"rerun in a new folder, or delete it to restart this run from step 0")


#: What reading a damaged ``.npz`` archive raises: zipfile's errors for a broken directory, an
#: unsupported zip version or compression method (NotImplementedError), an encryption flag
#: (RuntimeError), a broken deflate stream (zlib.error); numpy's for a bad ``.npy`` header;
#: MemoryError, should an array slip past the header checks with a shape too large to allocate.
ARCHIVE_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, MemoryError,
                  NotImplementedError, RuntimeError, OverflowError, zlib.error)
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def array_headers(path: Path, *, whole: bool = True) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of every array in the ``.npz`` archive ``path`` (name without
    ``.npy``), from the ``.npy`` headers alone, before any array is allocated. Raises one of
    :data:`ARCHIVE_ERRORS` for a damaged archive or a member that is not an array; ``whole``:
    also for a header that declares more data than its member holds (a huge shape over a few
    bytes), which a reader would otherwise allocate before finding the data short. Object
    arrays are left to ``np.load(allow_pickle=False)``, which refuses them."""
    found = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"{info.filename} is not an array")
            with archive.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version not in _HEADER_READERS:
                    raise ValueError(f"{info.filename} has .npy format version {version}")
                shape, _, dtype = _HEADER_READERS[version](fh)
                held = info.file_size - fh.tell()
            if whole and not dtype.hasobject and (any(d < 0 for d in shape)
                                                  or math.prod(shape) * dtype.itemsize > held):
                raise ValueError(f"{info.filename} declares shape {tuple(shape)} of {dtype} but holds {held} bytes")
            found[info.filename.removesuffix(".npy")] = (tuple(shape), dtype)
    return found


def _headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """:func:`array_headers` of a checkpoint, a damaged one refused (:class:`UsageError`). Its
    entries' shapes are compared with the run's own (and the counters' with scalars) before
    any is read, which says more than the data's length would."""
    try:
        return array_headers(path, whole=False)
    except ARCHIVE_ERRORS as exc:
        raise _damaged(path, _reason(exc)) from None


def _read(path: Path, names) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the archive (their headers already checked)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in names}
    except (*ARCHIVE_ERRORS, KeyError) as exc:
        raise _damaged(path, _reason(exc)) from None


#: The counters of a checkpoint and the kinds of number each may be (i, u: integer; f: float).
_META = {"meta.version": "iu", "meta.step": "iu", "meta.elapsed": "iuf", "meta.lr_scale": "iuf",
         "meta.rollbacks": "iu"}


def _meta(headers: dict, path: Path) -> dict[str, float | int]:
    for name, kinds in _META.items():  # the version first: another format is not damage
        if name not in headers:
            raise _damaged(path, f"missing entry {name!r}")
        shape, dtype = headers[name]
        if shape != () or dtype.kind not in kinds:
            raise _damaged(path, f"entry {name!r} is not {'an integer' if kinds == 'iu' else 'a number'}")
        if name == "meta.version":
            version = int(_read(path, [name])[name])
            if version != CHECKPOINT_VERSION:
                raise UsageError(f"checkpoint {path} has format version {version}; "
                                 f"this rnnlab reads version {CHECKPOINT_VERSION}")
    blob = _read(path, _META)
    meta = {"step": int(blob["meta.step"]), "elapsed": float(blob["meta.elapsed"]),
            "lr_scale": float(blob["meta.lr_scale"]), "rollbacks": int(blob["meta.rollbacks"])}
    if not (math.isfinite(meta["elapsed"]) and meta["elapsed"] >= 0):
        raise _damaged(path, f"wall time {meta['elapsed']}")
    if not (math.isfinite(meta["lr_scale"]) and 0 < meta["lr_scale"] <= 1) or meta["rollbacks"] < 0:
        raise _damaged(path, f"learning-rate scale {meta['lr_scale']} after {meta['rollbacks']} rollback(s)")
    _check_step(path, meta["step"])
    return meta


def _check_step(path: Path, step: int) -> None:
    """A checkpoint is saved where a metrics line is logged, every ``log_every`` steps, or at
    the last step of a run (which may end between two: ``steps`` need not be a multiple of
    ``log_every``). Any other step, read from the run folder the checkpoint is in, means the
    file was not written by this run."""
    if step < 0:
        raise _damaged(path, f"step {step} is negative")
    config = path.parent / CONFIG
    if not config.is_file():  # a checkpoint outside a run folder: no schedule to check against
        return
    saved = config_mod.from_saved(config)
    if saved["log_every"] < 1:  # no run is logged so: the config is damaged, not the checkpoint
        raise UsageError(f"{config} is damaged: log_every = {saved['log_every']}, a run's is >= 1")
    if step % saved["log_every"] == 0:
        return
    ends = {saved["steps"]}
    try:
        ends.add(json.loads((path.parent / SUMMARY).read_text())["steps"])
    except (OSError, ValueError, KeyError, TypeError):  # no summary yet, or a damaged one
        pass
    if step not in ends:
        raise _damaged(path, f"step {step} is neither a multiple of log_every ({saved['log_every']}) "
                       f"nor the last step of the run")


def read_checkpoint_meta(path: Path) -> dict[str, float | int]:
    """``step``, ``elapsed``, ``lr_scale``, ``rollbacks`` of a checkpoint (refuses a damaged file)."""
    return _meta(_headers(path), path)


def load_checkpoint(path: Path, like, data_keys: jax.Array):
    """``(state, meta)``: the state saved in ``path``, with the tree structure, shapes and dtypes
    of ``like`` (arrays or ``jax.ShapeDtypeStruct``), and :func:`read_checkpoint_meta`'s
    counters. Refuses a damaged file and a checkpoint of another run, comparing the arrays'
    headers with ``like`` before any array is read."""
    import jax
    import jax.numpy as jnp

    headers = _headers(path)
    meta = _meta(headers, path)
    leaves_with_paths, treedef = jax.tree_util.tree_flatten_with_path(like)
    expected = {"state" + jax.tree_util.keystr(p): leaf for p, leaf in leaves_with_paths}
    saved = {k: v for k, v in headers.items() if k.startswith("state")}
    if saved.keys() != expected.keys() or any(
        saved[k] != (tuple(v.shape), np.dtype(v.dtype)) for k, v in expected.items()
    ):
        raise UsageError(f"checkpoint {path} does not match this run's model")
    keys = np.asarray(jax.random.key_data(data_keys))
    if headers.get("rng.data_keys") != (keys.shape, keys.dtype) or not np.array_equal(
        _read(path, ["rng.data_keys"])["rng.data_keys"], keys
    ):
        raise UsageError(f"checkpoint {path} was written with other data seeds than this run's")
    blob = _read(path, expected)
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(blob[k]) for k in expected]), meta


def checkpoint_step(path: Path) -> int | None:
    """The step of the checkpoint in ``path``, or None if there is none."""
    return read_checkpoint_meta(path)["step"] if path.exists() else None


def read_metrics(path: Path, up_to: int | None = None) -> list[str]:
    """Lines of ``metrics.jsonl`` (with ``step <= up_to`` if given). Each must be a JSON object
    with an integer ``step``; only the last may be torn (cut short by a killed run), and is
    dropped. Anything else (a binary file, a bad line before the last) is a
    :class:`UsageError` naming the file and the line."""
    if not path.exists():
        return []
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is damaged: not a metrics log (not UTF-8 text)") from None
    numbered = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    kept = []
    for i, line in numbered:
        try:
            row = json.loads(line)
        except ValueError:
            if i == numbered[-1][0]:  # torn by a kill mid-write
                break
            raise UsageError(f"{path} is damaged at line {i}: not JSON") from None
        step = row.get("step") if isinstance(row, dict) else None
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise UsageError(f"{path} is damaged at line {i}: not a JSON object with an integer \"step\" >= 0")
        if up_to is None or step <= up_to:
            kept.append(line)
    return kept


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """The metrics of a run folder as dicts; :class:`UsageError` if it is not a run folder."""
    if not (folder / METRICS).is_file():
        raise UsageError(f"{folder} is not a run folder (no {METRICS})")
    return [json.loads(line) for line in read_metrics(folder / METRICS)]


def _logged_step(out: Path) -> int:
    """The step a run folder's ``summary.json`` (else its last metrics line) says it reached."""
    try:
        steps = json.loads((out / SUMMARY).read_bytes().decode())["steps"]
        if isinstance(steps, int):
            return steps
    except (OSError, ValueError, KeyError, TypeError):
        pass
    lines = read_metrics(out / METRICS)
    return json.loads(lines[-1])["step"] if lines else 0


def check(cfg: TrainConfig, out: Path) -> None:
    """Refuse (:class:`UsageError`) unless ``out`` may take this run: a new or empty folder, or
    with ``--resume`` a folder of the same run. Also refused: ``--resume`` with nothing to
    resume, ``--steps`` below the step the run has reached (its records would disagree), a checkpoint of the
    old executable format, ``--resume`` of a run that logged metrics or finished but whose checkpoint is
    gone (it would start again from step 0 over its results). Reads only; run it before taking the lock and again under it."""
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
        if not (out / CHECKPOINT).exists() and ((out / SUMMARY).exists() or read_metrics(out / METRICS)):
            # Starting again from step 0 would discard the results it holds.
            raise UsageError(f"{out} holds a run that got to step {_logged_step(out)} but its {CHECKPOINT} is "
                             f"missing, so --resume cannot continue it; rerun it in a new --out")
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
