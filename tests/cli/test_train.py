"""Bad arguments: one line on stderr, exit status 2; listings."""

import pytest

from rnnlab.cli import main

OK = ["train", "--task", "addition", "--model", "np-rnn", "--n", "3", "--T", "4", "--steps", "10", "--no-progress"]


def _replace(args, flag, value):
    args = list(args)
    args[args.index(flag) + 1] = value
    return args


@pytest.mark.parametrize(
    "args,fragment",
    [
        (_replace(OK, "--task", "sorting"), "unknown task"),
        (_replace(OK, "--model", "gru"), "unknown model"),
        (_replace(OK, "--T", "0"), "T must be"),
        (_replace(OK, "--n", "0"), "n must be"),
        (_replace(OK, "--model", "lstm") + ["--task", "system-id"], "uRNN"),
        (OK + ["--init", "identity"], "fixes init"),
        (OK + ["--checkpoint-every", "7"], "multiple of log_every"),
        (OK + ["--config", "/nonexistent.toml"], "not found"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, fragment, tmp_path, capsys):
    assert main(args + ["--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and err.startswith("rnnlab train: error:")


def test_folder_holding_a_different_run(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text('task = "copy"\nmodel = "full-urnn"\nn = 8\nT = 5\n')
    assert main(OK + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "different run" in err and err.count("\n") == 1
    assert main(OK + ["--out", str(out), "--resume"]) == 2


def test_unknown_config_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("hidden_units = 3\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "unknown config key 'hidden_units'" in capsys.readouterr().err


def test_listings(capsys):
    assert main(["tasks"]) == 0
    assert "system-id" in capsys.readouterr().out
    assert main(["models", "--task", "system-id", "--n", "16", "--T", "5"]) == 0
    out = capsys.readouterr().out
    assert "full-urnn" in out and " 256 " in out  # only W is trained: N^2 = 256


def test_models_with_missing_data_is_one_error_not_one_per_model(tmp_path, capsys):
    assert main(["models", "--task", "action", "--data", str(tmp_path / "nonexistent")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "is not a folder" in err, (out, err)


@pytest.mark.parametrize("lr", ["nan", "inf", "0", "-1e-3"])
def test_cayley_drift_refuses_a_learning_rate_that_is_not_a_positive_number(lr, capsys):
    assert main(["cayley-drift", "--n", "2", "--steps", "1", f"--lr={lr}"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "--lr must be a finite number > 0" in err, (out, err)


def test_cayley_drift_in_python_names_its_argument():
    from rnnlab.errors import UsageError
    from rnnlab.training import cayley_drift

    with pytest.raises(UsageError, match="lr must be a finite number > 0, got nan"):
        cayley_drift(2, 1, float("nan"))
    with pytest.raises(UsageError, match="report_every must be a positive integer"):
        cayley_drift(2, 1, 1e-3, report_every=0)
