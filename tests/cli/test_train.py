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
