"""Non-train commands and output paths of the training CLI; help text of every command."""

import argparse
import json

import pytest

from rnnlab.cli import build_parser, main
from tests.cli.one_line import one_line_exit_2


def test_models_with_an_unknown_task(capsys):
    one_line_exit_2(capsys, ["models", "--task", "nosuch"], "unknown task 'nosuch'")


def test_models_at_a_size_that_cannot_fit(capsys):
    one_line_exit_2(capsys, ["models", "--n", "1000000"], "needs about")


def test_train_at_a_size_that_cannot_fit_is_refused_before_building(capsys, tmp_path):
    one_line_exit_2(capsys, ["train", "--task", "copy", "--model", "full-urnn", "--n", "100000", "--T", "5",
                             "--steps", "10", "--out", str(tmp_path / "run")], "needs about")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [
    ["train", "--task", "copy", "--model", "full-urnn", "--n", "4", "--T", "5", "--steps", "1", "--out"],
    ["sweep", "configs/np-rnn-addition.toml", "--out"],
    ["demo", "--out"],
])
def test_unwritable_outputs_are_refused_first(capsys, tmp_path, argv):
    afile = tmp_path / "afile"
    afile.write_text("")
    one_line_exit_2(capsys, argv + [str(afile / "x")], "is a file, not a folder")
    one_line_exit_2(capsys, argv + ["/proc/x"], "cannot write /proc/x")


def test_plot_out_is_checked_like_every_picture(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    one_line_exit_2(capsys, ["plot", str(tmp_path), "--out", str(afile / "c.png")], "is a file, not a folder")
    one_line_exit_2(capsys, ["plot", str(tmp_path), "--out", str(tmp_path / "c.txt")], "unsupported extension")


def test_json_prints_on_stdout_and_the_old_file_form_is_refused(capsys, tmp_path):
    one_line_exit_2(capsys, ["cayley-drift", "--n", "4", "--steps", "1", "--json", str(tmp_path / "d.json")],
                    "--json takes no FILE")
    assert main(["cayley-drift", "--n", "4", "--steps", "2", "--report-every", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)  # stdout holds the JSON and nothing else
    assert [row["step"] for row in data["rows"]] == [0, 1, 2]
    assert all(0 <= row["unitarity_error"] < 4 * 16 * 1.2e-7 for row in data["rows"])


def _subcommands():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_every_option_of_every_command_has_help():
    for name, parser in _subcommands().items():
        assert parser.description, name
        for action in parser._actions:
            where = f"{name} {action.option_strings or action.dest}"
            assert action.help, where
            if action.default not in (None, False, argparse.SUPPRESS):
                assert "default" in action.help, where  # a value used unless given is said


def test_train_help_shows_defaults_and_sweep_help_the_file_format():
    train = _subcommands()["train"].format_help()
    assert "hidden units (default 100)" in " ".join(train.split())
    sweep = _subcommands()["sweep"].format_help()
    assert "[grid]" in sweep and "[quick]" in sweep


def test_train_bar_follows_the_progress_policy(capsys, tmp_path, monkeypatch):
    import rnnlab.training.loop

    runs = []
    monkeypatch.setattr(rnnlab.training.loop, "run", lambda cfg: runs.append(cfg) or 0)
    argv = ["train", "--task", "addition", "--model", "np-rnn", "--n", "3", "--T", "4", "--steps", "10",
            "--out", str(tmp_path / "run")]
    assert main(argv) == 0  # stderr is not a terminal here: no bar
    assert main(argv + ["--progress"]) == 0  # unless asked for
    assert [cfg.progress for cfg in runs] == [False, True]
