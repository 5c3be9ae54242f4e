"""Per-model optimiser defaults: what a run uses when the user sets nothing."""

import pytest

from rnnlab.errors import UsageError
from rnnlab.training import cells, config


@pytest.mark.parametrize("model", ["irnn", "irnn-scaled", "np-rnn", "np-tanh-rnn", "relu-rnn", "tanh-rnn"])
def test_relu_and_tanh_rnns_default_to_clipped_adam(model):
    cfg = config.resolve({}, {"model": model})
    assert (cfg.optimiser, cfg.lr, cfg.clip) == ("adam", 1e-3, 1.0)
    assert config.to_toml(cfg.identity()).count('optimiser = "adam"') == 1  # saved explicitly


@pytest.mark.parametrize("model", ["lstm", "restricted-urnn", "full-urnn", "exp-rnn"])
def test_lstm_and_unitary_rnns_default_to_unclipped_rmsprop(model):
    cfg = config.resolve({}, {"model": model})
    assert (cfg.optimiser, cfg.lr, cfg.clip) == ("rmsprop", 1e-3, 0.0)


def test_every_registered_model_has_its_defaults_listed():
    listed = {name for names, _ in config._MODEL_DEFAULTS for name in names}
    assert listed == set(cells.names())


def test_file_and_flags_beat_the_model_defaults():
    cfg = config.resolve({"optimiser": "sgd", "clip": 5.0}, {"model": "np-rnn", "lr": 0.02})
    assert (cfg.optimiser, cfg.lr, cfg.clip) == ("sgd", 0.02, 5.0)


def test_on_nan_is_checked():
    with pytest.raises(UsageError, match="on_nan"):
        config.resolve({}, {"on_nan": "retry"})
