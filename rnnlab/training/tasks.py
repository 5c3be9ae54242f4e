"""Synthetic sequence tasks, generated in JAX from a key (deterministic, jit-friendly).

``make(name, T, n, **options)`` builds a :class:`Task`; ``task.sample(key, batch)`` returns
inputs ``x (L, batch, n_in)`` (time first, as the cells scan over it) and targets ``y``.

=============  ========================================================================
name           task
=============  ========================================================================
addition       L = T, inputs [value ~ U[0,1], marker]; one marker in each half;
               target = sum of the two marked values at the last step; MSE.
               Baseline (predict 1): Var = 1/6 ~ 0.167.
multiplication same inputs, target = their product; baseline (predict 1/4): 7/144.
copy           L = T + 20: 10 symbols from {1..8}, T - 1 blanks (0), the marker 9,
               10 blanks; output: blanks, then the 10 symbols in the last 10 steps.
               One-hot inputs (10), 9 output classes; cross-entropy averaged over all
               L steps; baseline 10 log(8) / (T + 20) (blanks known, symbols guessed).
mnist          pixel MNIST: one pixel (in [0, 1]) per step, L = T = 784 by default
               (T = 196, 49, 16, 4 or 1: images block-averaged to 14x14, 7x7, ... for
               quick runs); 10 classes read out at the last step; cross-entropy and
               accuracy. Training batches come from the 55k training images, validation
               metrics (``val_*``) from the 5k held-out ones, test metrics from the 10k.
pmnist         the same with the pixel order fixed by ``permutation_seed``.
speech         next-frame prediction on 8 kHz STFT log-magnitudes (129 bins; Wisdom et al.):
               the input at step t is frame t (standardised per bin with training-set
               statistics), the target frame t + 1 (raw log-magnitude), read out at every
               step; MSE over the valid (unpadded) frames. Training sequences are crops of
               T + 1 frames of whole utterances (a random start when an utterance is
               longer, zero padding and a mask when shorter); ``val_*`` / ``test_*`` metrics
               use whole utterances: MSE, oracle-phase SegSNR, and on test STOI / PESQ when
               pystoi and pesq are installed. Data: the espeak-ng corpus, or ``data`` = a
               TIMIT folder, or ``"synthetic"``: a small generated corpus (tests).
system-id      a target uRNN with a random unitary W (``target="full"``: Haar;
               ``"restricted"``: the Arjovsky product at a random point, seeded by
               ``target_seed``), V = U = I, h0 = 0, hidden bias -0.1; inputs unit-variance
               circular complex Gaussian as [Re x, Im x]; outputs [Re h_t, Im h_t] at
               every step; MSE. Only the learner's W is trained (uRNN models only).
=============  ========================================================================
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UsageError
from rnnlab.registry import Registry
from rnnlab.training import cells as cells_mod

COPY_SYMBOLS = 8
COPY_LENGTH = 10
SYSTEM_ID_BIAS = -0.1


@dataclass(frozen=True)
class Task:
    """Shared interface; ``T`` is the task's length option, ``length`` the sequence length."""

    T: int

    name = ""
    description = ""
    n_in = 0
    n_out = 0
    #: Whether the model emits an output at every step (else only at the last).
    all_steps = False

    @property
    def length(self) -> int:
        return self.T

    @property
    def baseline(self) -> float | None:
        """The loss of the best input-blind guess, for comparison (None if not defined)."""
        return None

    def sample(self, key: jax.Array, batch: int) -> tuple[jax.Array, jax.Array]:
        raise NotImplementedError

    def sample_step(self, data_key: jax.Array, step: jax.Array, batch: int) -> tuple[jax.Array, jax.Array]:
        """The training batch of step ``step`` (a function of the step number alone)."""
        return self.sample(jax.random.fold_in(data_key, step), batch)

    #: Splits of a fixed dataset evaluated during (``"val"``) and at the end of (``"test"``)
    #: a run; empty for generated tasks, which use one fixed sampled test batch.
    eval_splits = ()

    def check_batch(self, batch: int) -> None:
        """Raise :class:`UsageError` if ``batch`` cannot be drawn (datasets too small)."""

    def write_files(self, out: Path) -> None:
        """Files the task leaves in the run folder (pmnist: ``permutation.npy``)."""

    def loss(self, pred: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean((pred - y) ** 2)

    def metrics(self, pred: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
        """Scalar metrics of one batch (the loss included, under its task's name)."""
        return {"mse": self.loss(pred, y)}

    def check_model(self, cell: cells_mod.Cell) -> None:
        """Raise :class:`UsageError` if the task cannot train this cell."""

    def prepare(self, cell: cells_mod.Cell, params: dict) -> dict:
        """Parameters the task fixes before training (identity by default)."""
        return params

    def labels(self, cell: cells_mod.Cell, params: dict) -> dict[str, str]:
        return cell.labels(params)

    def split_eval(self, cell: cells_mod.Cell, chunk: int, k: int):
        """A task's own ``(params, split) -> {metric: (k,) array}`` for its ``eval_splits``
        (``params`` with a leading ``(k,)`` seed axis, ``chunk`` examples at a time), or None
        for the classification evaluation of :func:`rnnlab.training.loop.make_split_eval`."""
        return None


@dataclass(frozen=True)
class _MarkedPair(Task):
    """Addition / multiplication: two marked values, one in each half of the sequence."""

    n_in = 2
    n_out = 1

    def combine(self, a, b):
        raise NotImplementedError

    def sample(self, key, batch):
        kv, k1, k2 = jax.random.split(key, 3)
        values = jax.random.uniform(kv, (self.T, batch))
        half = self.T // 2
        p1 = jax.random.randint(k1, (batch,), 0, half)
        p2 = jax.random.randint(k2, (batch,), half, self.T)
        t = jnp.arange(self.T)[:, None]
        markers = ((t == p1) | (t == p2)).astype(values.dtype)
        cols = jnp.arange(batch)
        y = self.combine(values[p1, cols], values[p2, cols])[:, None]
        return jnp.stack([values, markers], axis=-1), y


@dataclass(frozen=True)
class Addition(_MarkedPair):
    name = "addition"
    description = "sum of two marked values in [0, 1] (np-RNN paper); MSE, baseline 1/6"

    @property
    def baseline(self):
        return 1.0 / 6.0  # Var(U1 + U2), the MSE of predicting the mean 1

    def combine(self, a, b):
        return a + b


@dataclass(frozen=True)
class Multiplication(_MarkedPair):
    name = "multiplication"
    description = "product of two marked values in [0, 1]; MSE, baseline 7/144"

    @property
    def baseline(self):
        return 7.0 / 144.0  # Var(U1 U2) = E[U^2]^2 - E[U]^4 = 1/9 - 1/16

    def combine(self, a, b):
        return a * b


@dataclass(frozen=True)
class Copy(Task):
    name = "copy"
    description = "recall 10 symbols after a delay T (uRNN papers); cross-entropy, baseline 10 log 8 / (T + 20)"
    n_in = COPY_SYMBOLS + 2  # blank 0, symbols 1..8, marker 9
    n_out = COPY_SYMBOLS + 1  # blank, symbols
    all_steps = True

    @property
    def length(self):
        return self.T + 2 * COPY_LENGTH

    @property
    def baseline(self):
        return COPY_LENGTH * math.log(COPY_SYMBOLS) / self.length

    def sample(self, key, batch):
        symbols = jax.random.randint(key, (COPY_LENGTH, batch), 1, COPY_SYMBOLS + 1)
        blanks = jnp.zeros((self.T - 1, batch), symbols.dtype)
        marker = jnp.full((1, batch), COPY_SYMBOLS + 1, symbols.dtype)
        tail = jnp.zeros((COPY_LENGTH, batch), symbols.dtype)
        tokens = jnp.concatenate([symbols, blanks, marker, tail])
        targets = jnp.concatenate([jnp.zeros((self.T + COPY_LENGTH, batch), symbols.dtype), symbols])
        return jax.nn.one_hot(tokens, self.n_in), targets

    def loss(self, pred, y):
        logp = jax.nn.log_softmax(pred, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=-1))

    def metrics(self, pred, y):
        xent = self.loss(pred, y)
        recalled = jnp.argmax(pred[-COPY_LENGTH:], axis=-1) == y[-COPY_LENGTH:]
        return {"xent": xent, "xent_over_baseline": xent / self.baseline, "accuracy": jnp.mean(recalled)}


@dataclass(frozen=True)
class SystemID(Task):
    """System identification of a uRNN with ``n`` hidden units (see the module table)."""

    n: int = 16
    target: str = "full"
    target_seed: int = 0

    name = "system-id"
    description = "fit the W of a random target uRNN (option target: full or restricted); MSE"
    all_steps = True

    @property
    def n_in(self):  # type: ignore[override]
        return 2 * self.n

    @property
    def n_out(self):  # type: ignore[override]
        return 2 * self.n

    def target_model(self) -> tuple[cells_mod.UnitaryRNN, dict]:
        """The target cell and its parameters (a pure function of ``target_seed``)."""
        cell = cells_mod.UnitaryRNN(self.n, self.n_in, self.n_out, capacity=self.target)
        # The third key of the split, so a learner started from key(seed) never starts at the target.
        params = self.prepare(cell, cell.init(jax.random.split(jax.random.key(self.target_seed), 3)[2]))
        return cell, params

    def sample(self, key, batch):
        # Circular complex Gaussian of unit variance: Re and Im each N(0, 1/2).
        x = jax.random.normal(key, (self.T, batch, self.n_in)) * math.sqrt(0.5)
        cell, params = self.target_model()
        return x, cell.apply(params, x, all_steps=True)

    def check_model(self, cell):
        if not isinstance(cell, cells_mod.UnitaryRNN):
            raise UsageError("system-id trains only the W of a uRNN: use restricted-urnn or full-urnn")

    def prepare(self, cell, params):
        dtype = params["b"].dtype
        # Two separate arrays: a train step donates its state, and one buffer cannot be donated twice.
        return params | {
            "V": jnp.eye(2 * self.n, dtype=dtype),
            "W_out": jnp.eye(2 * self.n, dtype=dtype),
            "b": jnp.full((self.n,), SYSTEM_ID_BIAS, dtype),
            "b_out": jnp.zeros((2 * self.n,), dtype),
        }

    def labels(self, cell, params):
        labels = cell.labels(params)
        return {k: (v if k == cell.recurrent_leaf else cells_mod.FROZEN) for k, v in labels.items()}


@dataclass(frozen=True)
class PixelMNIST(Task):
    """Sequential (optionally permuted) pixel MNIST; see the module table."""

    permuted: bool = False
    permutation_seed: int = 0
    data: str | None = None
    train_subset: int = 0

    name = "mnist"
    description = "pixel MNIST, one pixel per step (T = 784; 196, 49, ... pool the image); cross-entropy, accuracy"
    n_in = 1
    n_out = 10
    eval_splits = ("val", "test")

    @property
    def baseline(self):
        return math.log(10.0)  # uniform guess

    @property
    def order(self) -> np.ndarray | None:
        """Pixel order ``(T,)`` of pmnist (step t sees pixel ``order[t]``); None for mnist."""
        if not self.permuted:
            return None
        from rnnlab.training.datasets import permutation

        return permutation(self.permutation_seed, self.T)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Images ``(n, T) uint8`` (pixel order applied) and labels ``(n,)`` of a split."""
        from rnnlab.training.datasets import pooled_splits

        x, y = pooled_splits(self.data, self.T)[name]
        if name == "train" and self.train_subset:
            x, y = x[: self.train_subset], y[: self.train_subset]
        order = self.order
        return (x if order is None else x[:, order]), y

    def check_batch(self, batch):
        n = len(self.split("train")[0])
        if batch > n:
            raise UsageError(f"batch {batch} exceeds the {n} training images")

    def write_files(self, out):
        if self.permuted:
            np.save(out / "permutation.npy", self.order)

    @staticmethod
    def to_sequences(images: jax.Array) -> jax.Array:
        """``(B, T) uint8 -> (T, B, 1)`` float32 in [0, 1], time first."""
        return (images.astype(jnp.float32) / 255.0).T[:, :, None]

    def sample_step(self, data_key, step, batch):
        # Epoch e visits the training images in the order permutation(fold_in(key, e)); the
        # batch of a step is its slice of that order, so it depends on the step number alone.
        images, labels = self.split("train")
        n = len(images)
        per_epoch = n // batch
        epoch, k = jnp.divmod(step, per_epoch)
        order = jax.random.permutation(jax.random.fold_in(data_key, epoch), n)
        idx = jax.lax.dynamic_slice(order, (k * batch,), (batch,))
        return self.to_sequences(jnp.asarray(images)[idx]), jnp.asarray(labels)[idx]

    def sample(self, key, batch):
        images, labels = self.split("train")
        idx = jax.random.choice(key, len(images), (batch,), replace=False)
        return self.to_sequences(jnp.asarray(images)[idx]), jnp.asarray(labels)[idx]

    def loss(self, pred, y):
        logp = jax.nn.log_softmax(pred, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))

    def metrics(self, pred, y):
        return {"xent": self.loss(pred, y), "accuracy": jnp.mean(jnp.argmax(pred, axis=-1) == y)}


@dataclass(frozen=True)
class PermutedMNIST(PixelMNIST):
    name = "pmnist"
    description = "permuted pixel MNIST (pixel order from permutation_seed, saved as permutation.npy)"


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

        mapped = jax.jit(jax.vmap(predict, in_axes=(0, None)) if k > 1 else
                         lambda p, x: predict(jax.tree.map(lambda a: a[0], p), x)[None])
        extra = _speech_extra_metrics_available()
        noted = []

        def evaluate(params, split):
            utts = c.splits[split]
            with_extra = extra and split == "test"
            if split == "test" and not extra and not noted:
                print("rnnlab: pystoi / pesq not importable: test STOI and PESQ omitted "
                      "(make speech-metrics installs them)", file=sys.stderr)
                noted.append(True)
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


REGISTRY: Registry[type[Task]] = Registry("task")
for _task in (Addition, Multiplication, Copy, SystemID, PixelMNIST, PermutedMNIST, Speech):
    REGISTRY.add(_task.name, _task, _task.description)
MIN_T = {"addition": 2, "multiplication": 2, "copy": 1, "system-id": 1}
SYSTEM_ID_TARGETS = ("full", "restricted")


def names() -> list[str]:
    return REGISTRY.names()


def get(name: str) -> type[Task]:
    """The task class ``name``; a UsageError naming the choices otherwise."""
    return REGISTRY.get(name)


def make(name: str, T: int, n: int, *, target: str = "full", target_seed: int = 0,
         permutation_seed: int = 0, data: str | None = None, train_subset: int = 0) -> Task:
    """The task ``name`` with length option ``T``; ``n``, ``target`` and ``target_seed`` are for
    system-id; ``permutation_seed`` (pmnist), ``data`` (an IDX folder) and ``train_subset``
    (first K training images, 0: all) for mnist / pmnist; for speech ``data`` is a TIMIT folder
    (default: the espeak corpus) and ``train_subset`` the first K training utterances."""
    get(name)  # an unknown name fails here, naming the choices
    if name in ("mnist", "pmnist"):
        from rnnlab.training.datasets.mnist import MNIST_LENGTHS

        if T not in MNIST_LENGTHS:
            raise UsageError(f"T must be one of {', '.join(map(str, MNIST_LENGTHS))} for {name}, got {T!r}")
        if data is not None and not Path(data).expanduser().is_dir():
            raise UsageError(f"--data {data!r} is not a folder of MNIST IDX files")
        return get(name)(T, permuted=name == "pmnist", permutation_seed=permutation_seed,
                              data=data, train_subset=train_subset)
    if name == "action":
        from rnnlab.training.action_task import make as make_action

        return make_action(T, data)
    if name == "speech":
        if isinstance(T, bool) or not isinstance(T, int) or T < 1:
            raise UsageError(f"T (frames per training crop) must be an integer >= 1 for speech, got {T!r}")
        if data not in (None, "espeak", "synthetic") and not Path(data).expanduser().is_dir():
            raise UsageError(f"--data {data!r} is not a folder (speech: your TIMIT directory, "
                             "or 'synthetic' for the small generated corpus)")
        return Speech(T, data=data, train_subset=train_subset)
    if isinstance(T, bool) or not isinstance(T, int) or T < MIN_T[name]:
        raise UsageError(f"T must be an integer >= {MIN_T[name]} for {name}, got {T!r}")
    if name == "system-id":
        if target not in SYSTEM_ID_TARGETS:
            raise UsageError(f"unknown system-id target {target!r}; choose from {', '.join(SYSTEM_ID_TARGETS)}")
        return SystemID(T, n, target, target_seed)
    return get(name)(T)


# The action-recognition task lives in its own module, which adds itself to REGISTRY.
from rnnlab.training import action_task  # noqa: E402,F401
