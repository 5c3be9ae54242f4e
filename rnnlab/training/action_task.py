"""Action recognition from per-frame features (np-RNN paper, UCF-101): the ``action`` task.

Each clip is a sequence of feature vectors of its own length; the class is read out at the
clip's **last valid step**: the model emits an output at every step, and the loss and the
accuracy take, for clip ``b``, the output at step ``last[b] = min(length_b, L) - 1``. A
recurrent cell is causal, so the zero frames padded after a clip cannot change that output:
padding changes neither the loss nor the prediction of any clip (tested).

Batches pad to one fixed length ``L = min(T, longest clip of the data)`` (a fixed shape,
so one compiled program serves every batch); a clip longer than ``T`` is cut to its first
``T`` frames. Targets are pairs ``(labels (B,), last (B,))``.

Data: ``data`` = a feature folder (layout: :mod:`rnnlab.training.datasets.actions`,
docs/datasets.md). Without it, the task trains on the generated set of
:func:`~rnnlab.training.datasets.actions.write_generated` at its default settings (written
to a temporary folder and read back through the same loader), which says nothing about
UCF-101: the paper's number needs the user's own UCF-101 features.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UsageError
from rnnlab.training import tasks
from rnnlab.training.datasets.actions import GENERATED_RECORD, ActionData, GeneratedSpec, load_actions, write_generated


@functools.lru_cache(maxsize=2)
def action_data(data: str | None) -> ActionData:
    """The checked feature set of folder ``data``, or the default generated set (None)."""
    if data is not None:
        return load_actions(data)
    spec = GeneratedSpec()
    print(f"rnnlab: action task without --data: using the generated feature set ({spec.features} "
          f"features, {spec.classes} classes), not UCF-101", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="rnnlab-actions-") as tmp:
        return load_actions(write_generated(Path(tmp) / "generated"))


def pad_clips(frames: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
              length: int) -> tuple[np.ndarray, np.ndarray]:
    """Clips packed back to back -> time-first ``x (length, n, features)`` zero-padded (or cut
    to ``length`` frames) and ``last (n,)``, the index of each clip's last kept frame."""
    kept = np.minimum(lengths, length)
    x = np.zeros((length, len(lengths), frames.shape[1]), np.float32)
    for b, (start, count) in enumerate(zip(offsets, kept)):
        x[:count, b] = frames[start:start + count]
    return x, (kept - 1).astype(np.int32)


def last_step(pred: jax.Array, last: jax.Array) -> jax.Array:
    """``pred (L, B, K)`` -> ``(B, K)``: each clip's output at its step ``last[b]``."""
    return pred[last, jnp.arange(pred.shape[1])]


@dataclass(frozen=True)
class ActionRecognition(tasks.Task):
    """Clip classification from per-frame features; see the module docstring."""

    data: str | None = None

    name = "action"
    description = ("action recognition from per-frame features (np-RNN paper, UCF-101): --data DIR "
                   "(default: a generated set); cross-entropy, accuracy at each clip's last frame")
    all_steps = True
    eval_splits = ("val", "test")

    def dataset(self) -> ActionData:
        return action_data(self.data)

    @property
    def n_in(self):  # type: ignore[override]
        return self.dataset().feature_dim

    @property
    def n_out(self):  # type: ignore[override]
        return len(self.dataset().classes)

    @property
    def length(self):
        return min(self.T, self.dataset().longest)

    @property
    def baseline(self):
        # The best input-blind guess: the training-set class frequencies; loss = their entropy.
        counts = np.bincount(self.dataset().splits["train"].labels, minlength=self.n_out)
        p = counts[counts > 0] / counts.sum()
        return float(-(p * np.log(p)).sum())

    def check_batch(self, batch):
        n = len(self.dataset().splits["train"].clips)
        if batch > n:
            raise UsageError(f"batch {batch} exceeds the {n} training clips")

    def write_files(self, out):
        d = self.dataset()
        info = {
            "source": "generated" if self.data is None else str(Path(self.data).expanduser()),
            "classes": list(d.classes),
            "feature_dim": d.feature_dim,
            "clips": {name: len(s.clips) for name, s in d.splits.items()},
            "padded_length": self.length,
            "clips_cut": {name: int(np.sum(s.lengths > self.length)) for name, s in d.splits.items()},
        }
        info["digest"] = d.digest()
        if self.data is None:
            info["generated"] = dataclasses.asdict(GeneratedSpec())
        elif (record := Path(self.data).expanduser() / GENERATED_RECORD).is_file():
            info["generated"] = json.loads(record.read_text())
        (out / "action_data.json").write_text(json.dumps(info, indent=1) + "\n")

    def batch(self, split: str, idx: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        """Clips ``idx (B,)`` of ``split``, padded on device: ``x (L, B, F)``, ``(labels, last)``."""
        s = self.dataset().splits[split]
        lengths = jnp.asarray(s.lengths)[idx]
        t = jnp.arange(self.length)
        valid = t[None, :] < lengths[:, None]  # (B, L)
        rows = jnp.minimum(jnp.asarray(s.offsets)[idx][:, None] + t[None, :], len(s.frames) - 1)
        x = jnp.where(valid[..., None], jnp.asarray(s.frames)[rows], 0.0)
        last = jnp.minimum(lengths, self.length) - 1
        return jnp.swapaxes(x, 0, 1), (jnp.asarray(s.labels)[idx], last)

    def sample_step(self, data_key, step, batch):
        # As pixel MNIST: epoch e visits the training clips in the order permutation(fold_in(key, e)).
        n = len(self.dataset().splits["train"].clips)
        epoch, k = jnp.divmod(step, n // batch)
        order = jax.random.permutation(jax.random.fold_in(data_key, epoch), n)
        return self.batch("train", jax.lax.dynamic_slice(order, (k * batch,), (batch,)))

    def sample(self, key, batch):
        n = len(self.dataset().splits["train"].clips)
        return self.batch("train", jax.random.choice(key, n, (batch,), replace=False))

    def loss(self, pred, y):
        labels, last = y
        logp = jax.nn.log_softmax(last_step(pred, last), axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))

    def metrics(self, pred, y):
        labels, last = y
        return {"xent": self.loss(pred, y), "accuracy": jnp.mean(jnp.argmax(last_step(pred, last), -1) == labels)}

    def split_eval(self, cell, chunk, k):
        """``(params, split) -> {"xent", "accuracy"}``, means over every clip of the split."""
        d = self.dataset()
        chunk = min(chunk, max(len(d.splits[name].clips) for name in self.eval_splits))

        def sums(params, x, labels, last, mask):
            logits = last_step(cell.apply(params, x, True), last)
            nll = -jnp.take_along_axis(jax.nn.log_softmax(logits, -1), labels[:, None], -1)[:, 0]
            correct = jnp.argmax(logits, -1) == labels
            return jnp.sum(jnp.where(mask, nll, 0.0)), jnp.sum(jnp.where(mask, correct, 0))

        mapped = jax.jit(jax.vmap(sums, in_axes=(0, None, None, None, None)) if k > 1 else
                         lambda p, *a: jax.tree.map(lambda v: v[None], sums(jax.tree.map(lambda v: v[0], p), *a)))

        def evaluate(params, split):
            s = self.dataset().splits[split]
            n = len(s.clips)
            nll, correct = np.zeros(k), np.zeros(k)
            for start in range(0, n, chunk):
                idx = np.arange(start, min(start + chunk, n))
                # Pad the last chunk with copies of clip 0 (masked out): one program for all chunks.
                full = np.concatenate([idx, np.zeros(chunk - len(idx), idx.dtype)])
                x, last = pad_clips(s.frames, s.offsets[full], s.lengths[full], self.length)
                a, b = jax.device_get(mapped(params, x, s.labels[full], last, np.arange(chunk) < len(idx)))
                nll += a
                correct += b
            return {"xent": nll / n, "accuracy": correct / n}

        return evaluate


def make(T: int, data: str | None) -> ActionRecognition:
    """The ``action`` task: ``T`` caps the padded length, ``data`` is the feature folder."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise UsageError(f"T (most frames kept per clip) must be an integer >= 1 for action, got {T!r}")
    if data is not None and not Path(data).expanduser().is_dir():
        raise UsageError(f"--data {data!r} is not a folder (action: your per-clip feature folder, "
                         f"docs/datasets.md; `rnnlab action-data --out DIR` writes a generated one)")
    return ActionRecognition(T, data=data)


# Registration: tasks.py imports this module at its end, so the registry lists the task.
tasks.REGISTRY.add(ActionRecognition.name, ActionRecognition, ActionRecognition.description)
