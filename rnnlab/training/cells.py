"""The registry of model names, and the cells it builds.

==================  =======================================================================
model               cell (module)
==================  =======================================================================
tanh-rnn            h = tanh(W h + U x + b), W from the dynamics registry (``simple_rnn``)
relu-rnn            h = relu(W h + U x + b), W from the dynamics registry (``simple_rnn``)
irnn                relu-rnn with W = I (Le et al. 2015)
irnn-scaled         relu-rnn with W = s I (iRNN)
np-rnn              relu-rnn with the np initialisation (Talathi & Vartak)
np-tanh-rnn         tanh-rnn with the np initialisation
lstm                standard LSTM, forget-gate bias 1 (``lstm``)
restricted-urnn     uRNN, W = D3 R2 F^-1 D2 Pi R1 F D1 (Arjovsky et al.; 7N parameters) (``urnn``)
full-urnn           uRNN, W a dense unitary optimised on U(N) by the Cayley step (``urnn``)
exp-rnn             orthogonal RNN, W = expm(S - S^T) (Lezcano-Casado & Martinez-Rubio 2019) (``exp_rnn``)
==================  =======================================================================

The interface of a cell is in :mod:`rnnlab.training.cell_base`, the whole-sequence kernels
with their custom backward passes in :mod:`rnnlab.training.recurrence`. Names used across
the package are re-exported here.

Parameter counts (``cell.num_params``) are real degrees of freedom: a dense unitary ``W``
counts ``N^2`` (the dimension of U(N)) although it is stored as ``2 N^2`` reals, and the
skew-symmetric generator of ``exp-rnn`` counts ``N (N - 1) / 2``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError
from rnnlab.registry import Registry
from rnnlab.training.cell_base import EUCLIDEAN, FROZEN, UNITARY, Cell, Params
from rnnlab.training.exp_rnn import ExpRNN
from rnnlab.training.lstm import LSTM
from rnnlab.training.recurrence import lstm_recurrence, recurrence
from rnnlab.training.simple_rnn import SimpleRNN
from rnnlab.training.urnn import FullURNN, RestrictedURNN, UnitaryRNN, complex_to_real_block, mod_relu, mod_relu_with

__all__ = [
    "EUCLIDEAN", "FROZEN", "UNITARY", "Cell", "Params", "ExpRNN", "LSTM", "SimpleRNN", "UnitaryRNN", "FullURNN",
    "RestrictedURNN", "complex_to_real_block", "mod_relu", "mod_relu_with", "recurrence", "lstm_recurrence", "ModelSpec",
    "REGISTRY", "names", "get", "make",
]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model name: how to build its cell, and which options it fixes."""

    name: str
    description: str
    build: Callable[..., Cell]
    fixed_init: str | None = None


def _simple(activation: str, fixed_init: str | None = None):
    def build(n, n_in, n_out, *, init=None, init_scale=None, alpha=initializers.DEFAULT_ALPHA, structure_seed=0,
              modrelu_eps=0.0, h0="zero"):
        _only_urnns(modrelu_eps, h0, f"{activation} RNNs")
        if fixed_init is not None and init not in (None, fixed_init):
            raise UsageError(f"this model fixes init={fixed_init!r}; use {activation}-rnn --init {init} instead")
        name = fixed_init or init or "orthogonal"
        initializers.get(name)  # unknown names fail here, as a usage error
        return SimpleRNN(n, n_in, n_out, activation, name, init_scale, alpha)

    return build


def _only_urnns(modrelu_eps, h0, what):
    if modrelu_eps:
        raise UsageError(f"modrelu_eps applies only to the uRNNs (restricted-urnn, full-urnn), not to the {what}")
    if h0 != "zero":
        raise UsageError(f"h0 = {h0!r} applies only to the uRNNs (restricted-urnn, full-urnn), not to the {what}")


def _no_init(cls, **fixed):
    def build(n, n_in, n_out, *, init=None, init_scale=None, alpha=None, structure_seed=0, modrelu_eps=0.0,
              h0="zero"):
        if init is not None:
            raise UsageError(f"init applies only to the tanh / relu RNNs, not to {cls.__name__}")
        if issubclass(cls, UnitaryRNN):  # the cell checks modrelu_eps and h0 itself
            extra = {"structure_seed": structure_seed, "modrelu_eps": float(modrelu_eps), "h0": h0}
        else:
            _only_urnns(modrelu_eps, h0, cls.__name__)
            extra = {}
        return cls(n, n_in, n_out, **fixed, **extra)

    return build


REGISTRY: Registry[ModelSpec] = Registry("model")
for _spec in [
    ModelSpec("tanh-rnn", "tanh RNN, W from --init (default orthogonal)", _simple("tanh")),
    ModelSpec("relu-rnn", "ReLU RNN, W from --init (default orthogonal)", _simple("relu")),
    ModelSpec("irnn", "ReLU RNN, W = I (Le et al. 2015)", _simple("relu", "identity"), "identity"),
    ModelSpec("irnn-scaled", "ReLU RNN, W = s I (iRNN)", _simple("relu", "scaled-identity"), "scaled-identity"),
    ModelSpec("np-rnn", "ReLU RNN, np init (R^T R / N + I) / e_max", _simple("relu", "np"), "np"),
    ModelSpec("np-tanh-rnn", "tanh RNN, np init", _simple("tanh", "np"), "np"),
    ModelSpec("lstm", "LSTM, forget bias 1", _no_init(LSTM)),
    ModelSpec("restricted-urnn", "uRNN, Arjovsky W = D3 R2 F^-1 D2 Pi R1 F D1 (7N)", _no_init(RestrictedURNN)),
    ModelSpec("full-urnn", "uRNN, dense W on U(N) by the Cayley step (N^2)", _no_init(FullURNN)),
    ModelSpec("exp-rnn", "orthogonal RNN, W = expm(S - S^T), modReLU", _no_init(ExpRNN)),
]:
    REGISTRY.add(_spec.name, _spec, _spec.description)


def names() -> list[str]:
    """Registered model names, in table order."""
    return REGISTRY.names()


def get(name: str) -> ModelSpec:
    """The model ``name`` (its description and builder); a UsageError naming the choices otherwise."""
    return REGISTRY.get(name)


def make(name: str, n: int, n_in: int, n_out: int, **options) -> Cell:
    """The cell of model ``name`` for ``n`` hidden units (options: init, init_scale, alpha, structure_seed,
    modrelu_eps, h0)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UsageError(f"n must be a positive integer, got {n!r}")
    return get(name).build(n, n_in, n_out, **options)
