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


@pytest.mark.parametrize("values,fragment", [
    ({"n": "8"}, "TrainConfig field n must be an integer, got '8'"),
    ({"steps": 10.0}, "steps must be an integer"),
    ({"lr": "1e-3"}, "lr must be a number"),
    ({"resume": 1}, "resume must be true or false"),
    ({"task": 3}, "task must be a string"),
])
def test_field_types_are_checked_where_the_config_is_built(values, fragment):
    with pytest.raises(UsageError, match=fragment):
        config.TrainConfig(**values)


def test_numbers_of_another_kind_take_the_field_type():
    import numpy as np

    cfg = config.TrainConfig(n=np.int64(8), lr=1, alpha=1.5)
    assert (type(cfg.n), cfg.n, type(cfg.lr), cfg.alpha) == (int, 8, float, "1.5")
    assert config.to_toml(cfg.identity()).count("n = 8\n") == 1


@pytest.mark.parametrize("flags,fragment", [
    ({"decay": 5.0}, "decay must be below 1"),
    ({"decay": 1.0}, "decay must be below 1"),
    ({"momentum": 1.5}, "momentum must be below 1"),
    ({"out": ""}, "out must name a folder"),
    ({"out": "  "}, "out must name a folder"),
])
def test_values_that_would_run_wrongly_are_refused(flags, fragment):
    with pytest.raises(UsageError, match=fragment):
        config.resolve({}, flags)


def test_an_unreadable_config_file_is_one_usage_error(tmp_path, monkeypatch):
    path = tmp_path / "run.toml"
    path.write_text("n = 4\n")
    real_open = open

    def denied(file, *args, **kwargs):  # as chmod 000 does for anyone but root
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    with pytest.raises(UsageError, match="cannot read config file .*run.toml.*Permission denied"):
        config.load_toml(path)
    path.write_bytes(b"\xff\xfe\x00binary")
    monkeypatch.undo()
    with pytest.raises(UsageError, match="run.toml"):
        config.load_toml(path)
