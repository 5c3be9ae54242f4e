"""Next-frame prediction of speech spectra (Wisdom et al.): the ``speech`` task and its
evaluation on whole utterances (MSE, SegSNR, STOI, PESQ)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UsageError
from rnnlab.training.seeds import over_seeds
from rnnlab.training.tasks.base import Task

SPEECH_SPLITS = ("train", "val", "test")


def _speech_extra_metrics_available() -> bool:
    try:
        import pesq  # noqa: F401
        import pystoi  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Speech(Task):
    """Next-frame prediction of STFT log-magnitudes (see the module table and docs/datasets.md).

    Targets ``y`` are a pair ``(frames (T, B, 129), mask (T, B))``: ``mask`` is False where
    the target frame lies past the end of its utterance (padding), and those frames count
    nowhere. The model's raw output ``z`` is in standardised units; its prediction of the
    log-magnitude is ``mean + std * z`` (:meth:`predict`), with the per-bin training-set
    statistics, so an untrained model starts near the mean frame.
    """

    data: str | None = None
    train_subset: int = 0

    name = "speech"
    description = ("next STFT log-magnitude frame (8 kHz, 129 bins; espeak corpus or --data TIMIT); "
                   "MSE, SegSNR, STOI/PESQ")
    n_in = 129
    n_out = 129
    all_steps = True
    eval_splits = ("val", "test")

    def corpus(self):
        """The :class:`~rnnlab.training.datasets.speech.SpeechCorpus` (cached per process)."""
        from rnnlab.training.datasets import speech_corpus

        return speech_corpus(self.data, self.train_subset)

    @property
    def baseline(self):
        # Predicting the training-set mean frame: the mean per-bin variance (on training data).
        return float(np.mean(self.corpus().std.astype(np.float64) ** 2))

    def check_batch(self, batch):
        n = len(self.corpus().lengths)
        if batch > n:
            raise UsageError(f"batch {batch} exceeds the {n} training utterances")

    def write_files(self, out):
        import json

        corpus = self.corpus()
        info: dict = {"source": corpus.source}
        info["utterances"] = {name: len(utts) for name, utts in corpus.splits.items()}
        if corpus.source == "espeak":
            from rnnlab.training.datasets import espeak_manifest

            manifests = {name: espeak_manifest(name) for name in SPEECH_SPLITS}
            info["espeak_ng"] = manifests["train"]["espeak_ng"]
            info["digests"] = {name: m["digest"] for name, m in manifests.items()}
        (out / "speech_data.json").write_text(json.dumps(info, indent=1) + "\n")

    def standardise(self, frames: jax.Array) -> jax.Array:
        c = self.corpus()
        return (frames - jnp.asarray(c.mean)) / jnp.asarray(c.std)

    def predict(self, out: jax.Array) -> jax.Array:
        """Model outputs (standardised units) -> predicted log-magnitudes."""
        c = self.corpus()
        return jnp.asarray(c.mean) + jnp.asarray(c.std) * out

    def crops(self, idx: jax.Array, key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        """``T + 1``-frame crops of the training utterances ``idx (B,)``: ``x (T, B, 129)`` and
        ``(targets (T, B, 129), mask (T, B))``. An utterance longer than ``T + 1`` frames is
        cropped at a start drawn uniformly from ``key``; a shorter one is zero-padded."""
        c = self.corpus()
        lengths = jnp.asarray(c.lengths)[idx]
        starts = jax.random.randint(key, idx.shape, 0, jnp.maximum(lengths - self.T, 1))
        t = jnp.arange(self.T + 1)
        within = starts[:, None] + t[None, :]  # (B, T + 1) frame index inside the utterance
        valid = within < lengths[:, None]
        rows = jnp.minimum(jnp.asarray(c.offsets)[idx][:, None] + within, len(c.frames) - 1)
        frames = jnp.where(valid[..., None], jnp.asarray(c.frames)[rows], 0.0)  # (B, T + 1, 129)
        x = jnp.where(valid[:, :-1, None], self.standardise(frames[:, :-1]), 0.0)
        return jnp.swapaxes(x, 0, 1), (jnp.swapaxes(frames[:, 1:], 0, 1), valid[:, 1:].T)

    def sample_step(self, data_key, step, batch):
        # As pixel MNIST: epoch e visits the utterances in the order permutation(fold_in(k0, e));
        # the crop starts of a step come from fold_in(k1, step). A function of the step alone.
        n = len(self.corpus().lengths)
        order_key, crop_key = jax.random.split(data_key)
        epoch, k = jnp.divmod(step, n // batch)
        order = jax.random.permutation(jax.random.fold_in(order_key, epoch), n)
        idx = jax.lax.dynamic_slice(order, (k * batch,), (batch,))
        return self.crops(idx, jax.random.fold_in(crop_key, step))

    def sample(self, key, batch):
        k1, k2 = jax.random.split(key)
        idx = jax.random.choice(k1, len(self.corpus().lengths), (batch,), replace=False)
        return self.crops(idx, k2)

    def loss(self, pred, y):
        targets, mask = y
        err = jnp.mean((self.predict(pred) - targets) ** 2, axis=-1)  # (T, B): mean over bins
        return jnp.sum(jnp.where(mask, err, 0.0)) / jnp.maximum(jnp.sum(mask), 1)

    def metrics(self, pred, y):
        return {"mse": self.loss(pred, y)}

    def split_eval(self, cell, chunk, k):
        """``(params, split) -> metrics`` on whole utterances of ``val`` / ``test`` (see
        :meth:`Task.split_eval`): ``mse`` (frame-weighted over the split, as the training
        loss), ``segsnr`` (mean over utterances, oracle phase), and on ``test`` ``stoi`` and
        ``pesq`` (means over utterances; PESQ ignores utterances where it is undefined) when
        pystoi and pesq import."""
        from rnnlab.training.datasets import evaluate_prediction

        c = self.corpus()
        # One padded length for both splits, so one compiled program serves every chunk.
        length = max(len(u.frames) for name in self.eval_splits for u in c.splits[name]) - 1

        def predict(params, x):
            return self.predict(cell.apply(params, x, True))

        mapped = jax.jit(over_seeds(predict, k, in_axes=(0, None)))
        extra = _speech_extra_metrics_available()
        if not extra:
            # Said when the run starts: the test split is scored only after the last step.
            print("rnnlab: pystoi / pesq not importable: test STOI and PESQ will be omitted "
                  "(make speech-metrics installs them)", file=sys.stderr)

        def evaluate(params, split):
            utts = c.splits[split]
            with_extra = extra and split == "test"
            sq, frames = np.zeros(k), 0
            per_utt: dict[str, list[list[float]]] = {}
            for start in range(0, len(utts), chunk):
                group = utts[start:start + chunk]
                x = np.zeros((length, chunk, self.n_in), np.float32)
                for b, u in enumerate(group):
                    x[: len(u.frames) - 1, b] = (u.frames[:-1] - c.mean) / c.std
                pred = np.asarray(jax.device_get(mapped(params, x)))  # (k, length, chunk, 129)
                for b, u in enumerate(group):
                    steps = len(u.frames) - 1
                    frames += steps
                    for s in range(k):
                        m = evaluate_prediction(u, pred[s, :steps, b], extra_metrics=with_extra)
                        sq[s] += m.pop("mse") * steps
                        for name, value in m.items():
                            per_utt.setdefault(name, [[] for _ in range(k)])[s].append(value)
            out = {"mse": sq / frames}
            for name, values in per_utt.items():
                arr = np.array(values, np.float64)
                out[name] = np.nanmean(arr, axis=1) if name == "pesq" else arr.mean(axis=1)
            return out

        return evaluate
