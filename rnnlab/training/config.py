"""Every option of a training run, as one dataclass; TOML files; the resolved config.

Precedence: dataclass defaults < ``--config FILE.toml`` < command-line flags. Every field
is both a TOML key (``unitary_lr = 1e-3``) and a flag (``--unitary-lr 1e-3``); booleans
also take ``--no-FLAG``. The resolved config is saved as ``config.toml`` in the run folder
(without the run-control keys ``out``, ``resume``, ``progress``) and can be passed back
with ``--config``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.errors import UsageError


def _opt(default, help: str, **kw):
    return field(default=default, metadata={"help": help, **kw})


#: Optimiser defaults per model family. The ReLU and tanh RNNs of the np-RNN paper diverge
#: under unclipped RMSprop (addition, T = 100: a non-finite loss at step 7662); Adam lr 1e-3
#: with global-norm clip 1 trains them (configs/addition-np-rnn.toml). The LSTM and the
#: unitary / orthogonal RNNs keep the full-capacity uRNN paper's RMSprop lr 1e-3.
_MODEL_DEFAULTS = (
    (("irnn", "irnn-scaled", "np-rnn", "np-tanh-rnn", "relu-rnn", "tanh-rnn"),
     {"optimiser": "adam", "lr": 1e-3, "clip": 1.0}),
    (("lstm", "restricted-urnn", "full-urnn", "exp-rnn"), {"optimiser": "rmsprop", "lr": 1e-3, "clip": 0.0}),
)
_OTHER_DEFAULTS = {"optimiser": "rmsprop", "lr": 1e-3, "clip": 0.0}


#: Estimated float operations of a run (:func:`probes_pay`) from which probes are on by default:
#: about 40 s of training at 5 GFLOP/s, so that compiling the probes (1-3 s, measured on tiny
#: runs of 2 cores) costs under 5% of the run. Every paper-size run is far above it (addition
#: T = 150, n = 100: 2e11 after 1100 of its 5 x 10^4 steps); tests and --quick runs are below.
PROBES_AUTO_WORK = 2e11


def probes_pay(cfg) -> bool:
    """Whether probes are on by default for ``cfg``: ``6 steps T batch n^2`` (a forward and a
    backward pass's recurrent matmuls) at least :data:`PROBES_AUTO_WORK`."""
    return 6.0 * cfg.steps * cfg.T * cfg.batch * cfg.n**2 >= PROBES_AUTO_WORK


def _show(defaults: dict[str, Any]) -> str:
    return " ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in defaults.items())


def model_defaults(model: str) -> dict[str, Any]:
    """The ``optimiser``, ``lr`` and ``clip`` a run of ``model`` uses unless told otherwise."""
    for names, defaults in _MODEL_DEFAULTS:
        if model in names:
            return dict(defaults)
    return dict(_OTHER_DEFAULTS)


@dataclass(frozen=True)
class TrainConfig:
    """One training run (or ``seeds`` runs in one program). See ``docs/training.md``.

    Every field is a TOML key of a config file and a flag of ``rnnlab train``; its meaning
    and default are in the field's ``help`` (the table below on the API page). Types are
    checked when the config is built; unset optimiser keys take the model's defaults.

    Raises:
        UsageError: a field of the wrong type.
    """

    task: str = _opt("addition", "task name (rnnlab tasks)")
    model: str = _opt("np-rnn", "model name (rnnlab models); it sets the defaults of --optimiser, --lr and "
                      "--clip: " + "; ".join(f"{', '.join(m)}: {_show(d)}" for m, d in _MODEL_DEFAULTS))
    n: int = _opt(100, "hidden units")
    T: int = _opt(100, "task length option (copy: delay; speech: frames per training crop; others: sequence length)")
    steps: int = _opt(1000, "training steps (may be changed on --resume)")
    batch: int = _opt(20, "sequences per step")
    optimiser: str | None = _opt(None, "Euclidean optimiser: sgd, rmsprop or adam (default: per model, "
                                 "see --model)", type=str)
    lr: float | None = _opt(None, "learning rate of the Euclidean optimiser (default: per model)", type=float)
    unitary_lr: float | None = _opt(None, "learning rate of the Cayley step (default: lr)", type=float)
    rms_normalise: bool = _opt(False, "RMS-normalise G before the Cayley step (natGradRMS)")
    rms_reading: str = _opt("parts", "how --rms-normalise reads natGradRMS: parts (Re and Im by their own RMS, the authors' code) or modulus (each entry by the RMS of |G|)")
    clip: float | None = _opt(None, "global-norm clipping of the Euclidean gradients, 0: none (default: per model)",
                              type=float)
    momentum: float = _opt(0.0, "momentum of sgd / rmsprop")
    decay: float = _opt(0.9, "RMS decay of rmsprop and of --rms-normalise")
    init: str | None = _opt(None, "recurrent initialiser of tanh-rnn / relu-rnn (dynamics registry)", type=str)
    init_scale: float | None = _opt(None, "scale of scaled-identity / g of gaussian init", type=float)
    alpha: str = _opt("sussillo-abbott", "input-weight scale of the RNNs: a reading's name or a number")
    structure_seed: int = _opt(0, "seed of the restricted uRNN's fixed permutation")
    modrelu_eps: float = _opt(0.0, "uRNNs: modReLU relu(m + b) z / (m + eps) with m = sqrt(|z|^2 + eps), "
                              "as in the authors' code (1e-5 there); 0: the exact relu(|z| + b) z / |z|")
    h0: str = _opt("zero", "uRNNs: initial state, zero, or learned (a trained parameter drawn uniform in "
                   "+-sqrt(3 / (2N)), as in the authors' code)")
    target: str = _opt("full", "system-id target: full or restricted")
    target_seed: int = _opt(0, "system-id target's seed")
    permutation_seed: int = _opt(0, "pmnist: seed of the fixed pixel order (saved as permutation.npy)")
    data: str | None = _opt(None, "mnist / pmnist: folder of MNIST IDX files (default: the embedded copy); "
                            "speech: your TIMIT folder or 'synthetic' (default: the espeak-ng corpus)", type=str)
    train_subset: int = _opt(0, "mnist / pmnist / speech: train on the first K training images "
                             "(speech: utterances) only (0: all)")
    seed: int = _opt(0, "first seed; run k uses seed + k")
    seeds: int = _opt(1, "independent seeds trained together (vmap)")
    log_every: int = _opt(10, "steps per metrics line (and per compiled chunk)")
    eval_every: int = _opt(100, "steps between test-batch evaluations (multiple of log_every)")
    eval_batch: int = _opt(256, "sequences in the fixed test batch")
    checkpoint_every: int = _opt(1000, "steps between checkpoints (multiple of log_every)")
    reproject_every: int = _opt(0, "polar re-projection of a unitary W onto U(N) every K steps (0: never)")
    on_nan: str = _opt("stop", "on a non-finite loss or gradient: stop, or rollback (reload the last checkpoint "
                       "and go on with half the learning rates)")
    max_rollbacks: int = _opt(3, "rollbacks allowed in one run with --on-nan rollback before it stops")
    probes: bool | None = _opt(None, "log probes of the recurrent dynamics at every evaluation (probe_* "
                               "metrics: spectrum and singular values of W, distance from the initial W, largest "
                               "Lyapunov exponent, gradient-norm ratio first / last step, fraction of units on); "
                               "default: on for runs of at least 2e11 estimated operations (6 steps T batch n^2), "
                               "where their compilation (1-3 s) costs under 5 percent", type=bool)
    out: str | None = _opt(None, "run folder (default runs/TASK-MODEL-nN-TT-sSEED)", type=str)
    resume: bool = _opt(False, "continue the run in --out from its last checkpoint")
    progress: bool = _opt(True, "show a progress bar")

    def __post_init__(self):
        # Types are checked here, where a notebook's TrainConfig(n="8") is built, not deep inside
        # training; numbers of another kind (an int lr, numpy's integers) become the field's type.
        for name in FIELDS:
            value = getattr(self, name)
            coerced = _coerce(name, value, "TrainConfig field")
            if coerced is not value:
                object.__setattr__(self, name, coerced)
        # Unset optimiser keys take the model's defaults, so the saved config is explicit.
        for key, value in model_defaults(self.model).items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        if self.probes is None:
            object.__setattr__(self, "probes", probes_pay(self))

    def run_dir(self) -> Path:
        """The run folder: ``out``, or ``runs/<task>-<model>-n<n>-T<T>-s<seed>``.

        Returns:
            The folder's path.
        """
        return Path(self.out or f"runs/{self.task}-{self.model}-n{self.n}-T{self.T}-s{self.seed}")

    def cell_options(self) -> dict[str, Any]:
        """The keyword options of ``cells.make`` that this config sets (all but the sizes).

        Returns:
            The options.
        """
        return {"init": self.init, "init_scale": self.init_scale, "alpha": alpha_value(self.alpha),
                "structure_seed": self.structure_seed, "modrelu_eps": self.modrelu_eps, "h0": self.h0}

    def identity(self) -> dict[str, Any]:
        """The keys that define the run (what ``config.toml`` holds): all but run control.

        Returns:
            ``{field: value}`` without ``out``, ``resume`` and ``progress``.
        """
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in RUN_CONTROL}


MNIST_TASKS = ("mnist", "pmnist")
MNIST_LENGTH = 784
#: Default T of the speech task, in frames per training crop: longer than every utterance of
#: the espeak corpus (at most 282 frames, 4.5 s), which is thus never cropped; 4.8 s random
#: crops of TIMIT's longer utterances.
SPEECH_LENGTH = 300

RUN_CONTROL = ("out", "resume", "progress")
#: Keys a resumed run may change without becoming a different run.
RESUMABLE_CHANGES = ("steps", "on_nan", "max_rollbacks", "probes")
ON_NAN = ("stop", "rollback")

FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def field_type(name: str) -> type:
    f = FIELDS[name]
    return f.metadata.get("type") or type(f.default)


def _coerce(name: str, value: Any, what: str = "config key") -> Any:
    """``value`` as field ``name`` takes it; a :class:`UsageError` naming ``what`` and the field if
    its type is wrong (a bool is not a number, a number is not a string)."""
    if name not in FIELDS:
        raise UsageError(f"unknown config key {name!r}")
    if value is None:
        return None
    kind = field_type(name)
    if name == "alpha":
        if isinstance(value, bool) or not isinstance(value, (str, numbers.Real)):
            raise UsageError(f"{what} {name} must be a reading's name or a number, got {value!r}")
        return value if isinstance(value, str) else str(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{what} {name} must be true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise UsageError(f"{what} {name} must be an integer, got {value!r}")
        return value if type(value) is int else int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise UsageError(f"{what} {name} must be a number, got {value!r}")
        return value if type(value) is float else float(value)
    if not isinstance(value, str):
        raise UsageError(f"{what} {name} must be a string, got {value!r}")
    return value


def read_toml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """A TOML file's raw contents; :class:`UsageError` naming ``what`` if missing or malformed."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{what} {str(path)!r} not found") from None
    except OSError as exc:  # unreadable: permissions, a folder, an I/O error
        raise UsageError(f"cannot read {what} {str(path)!r}: {exc.strerror or type(exc).__name__}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {str(path)!r}: {exc}") from None


def load_toml(path: str | Path) -> dict[str, Any]:
    """The keys of a TOML config file (dashes in keys read as underscores); a
    :class:`UsageError` naming the file for an unknown key or a value of the wrong type."""
    raw = read_toml(path)
    try:
        return {k.replace("-", "_"): _coerce(k.replace("-", "_"), v) for k, v in raw.items()}
    except UsageError as exc:
        raise UsageError(f"config file {str(path)!r}: {exc}") from None


def resolve(file_values: dict[str, Any], flag_values: dict[str, Any]) -> TrainConfig:
    """Defaults, then the file, then the flags that were given (not None); validated."""
    values = {**file_values, **{k: _coerce(k, v) for k, v in flag_values.items() if v is not None}}
    if values.get("task") in MNIST_TASKS and "T" not in values:
        values["T"] = MNIST_LENGTH  # the other tasks' default T (100) is not a pixel count
    if values.get("task") == "speech" and "T" not in values:
        values["T"] = SPEECH_LENGTH
    cfg = TrainConfig(**values)
    validate(cfg)
    return cfg


def validate(cfg: TrainConfig) -> None:
    """Size and schedule checks (names are checked by the registries when building)."""
    for name, low in (("n", 1), ("T", 1), ("steps", 1), ("batch", 1), ("seeds", 1), ("log_every", 1),
                      ("eval_every", 1), ("eval_batch", 1), ("checkpoint_every", 1), ("reproject_every", 0),
                      ("permutation_seed", 0), ("structure_seed", 0), ("train_subset", 0), ("max_rollbacks", 0)):
        value = getattr(cfg, name)
        if value < low:
            raise UsageError(f"{name} must be >= {low}, got {value}")
    for name in ("eval_every", "checkpoint_every", "reproject_every"):
        if getattr(cfg, name) % cfg.log_every:
            raise UsageError(f"{name} ({getattr(cfg, name)}) must be a multiple of log_every ({cfg.log_every})")
    for name in ("lr", "clip", "momentum", "decay", "modrelu_eps"):
        if not math.isfinite(getattr(cfg, name)) or getattr(cfg, name) < 0:
            raise UsageError(f"{name} must be a finite number >= 0, got {getattr(cfg, name)}")
    for name in ("momentum", "decay"):  # the weight of the past in a running average
        if getattr(cfg, name) >= 1:
            raise UsageError(f"{name} must be below 1 (it weighs the running average's past), got {getattr(cfg, name)}")
    if cfg.out is not None and not cfg.out.strip():
        raise UsageError("out must name a folder, got an empty string (leave it out for runs/TASK-MODEL-...)")
    if cfg.on_nan not in ON_NAN:
        raise UsageError(f"on_nan must be one of {', '.join(ON_NAN)}, got {cfg.on_nan!r}")
    if cfg.unitary_lr is not None and (not math.isfinite(cfg.unitary_lr) or cfg.unitary_lr < 0):
        raise UsageError(f"unitary_lr must be a finite number >= 0, got {cfg.unitary_lr}")
    from rnnlab.training.optim import RMS_READINGS

    if cfg.rms_reading not in RMS_READINGS:
        raise UsageError(f"rms_reading must be one of {', '.join(RMS_READINGS)}, got {cfg.rms_reading!r}")


def alpha_value(alpha: str) -> str | float:
    """``alpha`` as the initialisers take it: a reading's name, or a number."""
    try:
        return float(alpha)
    except ValueError:
        return alpha


def to_toml(values: dict[str, Any]) -> str:
    """Flat TOML for scalar values; None values are left out (TOML has no null)."""
    lines = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = json.dumps(value)  # a JSON string is a valid TOML basic string
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def from_saved(path: Path) -> dict[str, Any]:
    """A saved ``config.toml`` as a full identity dict (missing keys: defaults)."""
    saved = load_toml(path)
    return TrainConfig(**saved).identity()
