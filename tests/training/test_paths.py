"""Names read from files and used as paths stay inside their folder: plain names, links that
do not lead out, and a config file's ``out`` below the current folder (sweeps and records
test their own files in test_sweep.py and test_records.py)."""

import os

import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.file_names import MAX_NAME_BYTES, inside, plain_name, relative_out


@pytest.mark.parametrize("name", ["..", ".", "../x", "/etc", "a/b", "a\\b", "", ".lock", "a\0b", "x" * (MAX_NAME_BYTES + 1)])
def test_a_name_that_is_not_plain_is_refused(name):
    with pytest.raises(UsageError, match="point"):
        plain_name(name, "point")


def test_plain_names_pass_and_links_may_not_lead_out(tmp_path):
    assert plain_name("model-irnn_lr-0.001", "point") == "model-irnn_lr-0.001"
    folder, elsewhere = tmp_path / "sweep", tmp_path / "elsewhere"
    (folder / "real").mkdir(parents=True)
    elsewhere.mkdir()
    (folder / "in").symlink_to(folder / "real")
    (folder / "out").symlink_to(elsewhere)
    (folder / "up").symlink_to("..")
    assert inside(folder, "real", "p") == folder / "real" and inside(folder, "in", "p") == folder / "in"
    assert inside(folder, "missing", "p") == folder / "missing"
    for name in ("out", "up"):
        with pytest.raises(UsageError, match=f"{name} is a link to .*, outside"):
            inside(folder, name, "p")


@pytest.mark.parametrize("out", ["../elsewhere", "runs/../../elsewhere", "/tmp/rnnlab-config-out", ""])
def test_a_config_files_out_outside_the_current_folder_is_refused(out, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("work")
    monkeypatch.chdir(tmp_path / "work")
    (tmp_path / "work" / "run.toml").write_text(
        f'task = "addition"\nmodel = "relu-rnn"\nn = 3\nT = 2\nsteps = 5\nbatch = 4\nout = "{out}"\n')
    assert main(["train", "--config", "run.toml", "--no-progress"]) == 2
    output, err = capsys.readouterr()
    assert output == "" and err.count("\n") == 1 and f"run.toml: out = {out!r}" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["run.toml", "work"]
    with pytest.raises(UsageError):
        relative_out(out, "run.toml")


def test_a_config_files_relative_out_and_any_out_flag_are_honoured(tmp_path):
    relative_out("runs/copy", "c.toml")
    relative_out(None, "c.toml")
    # --out on the command line may go anywhere: the check is for the file's out only.
    (tmp_path / "run.toml").write_text('task = "addition"\nmodel = "relu-rnn"\nn = 3\nT = 2\nsteps = 5\nbatch = 4\n'
                                       'log_every = 5\neval_every = 5\neval_batch = 4\nout = "../x"\n')
    assert main(["train", "--config", str(tmp_path / "run.toml"), "--out", str(tmp_path / "chosen"),
                 "--no-progress"]) == 0
    assert (tmp_path / "chosen" / "summary.json").is_file()
