"""Shipped configurations by name, and what an installed package contains."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.cli import main
from rnnlab.cli.config_files import config_dir, config_names, find_config
from rnnlab.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_configs_are_the_repository_configs():
    assert config_names() == sorted(p.stem for p in (ROOT / "configs").glob("*.toml"))
    assert (config_dir() / "copy-full-urnn.toml").read_bytes() == (ROOT / "configs/copy-full-urnn.toml").read_bytes()


def test_find_config_by_name_path_or_neither(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # away from the repository: names still resolve
    assert find_config("copy-full-urnn") == config_dir() / "copy-full-urnn.toml"
    assert find_config("np-rnn-addition.toml") == config_dir() / "np-rnn-addition.toml"
    own = tmp_path / "mine.toml"
    own.write_text("n = 4\n")
    assert find_config(str(own)) == own
    with pytest.raises(UsageError, match="not found.*copy-full-urnn"):
        find_config("copy-ful-urnn")
    with pytest.raises(UsageError, match="not found"):
        find_config("sub/copy-full-urnn.toml")  # a path is never taken for a name


def test_train_takes_a_config_by_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # --n 0 stops the run at validation, after the named file was read (its task is copy).
    assert main(["train", "--config", "copy-full-urnn", "--n", "0", "--out", str(tmp_path / "r")]) == 2
    assert "n must be >= 1" in capsys.readouterr().err
    assert main(["train", "--config", "nosuch", "--out", str(tmp_path / "r")]) == 2
    assert "no shipped config" in capsys.readouterr().err


def test_configs_command_lists_them(capsys):
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in config_names())


def test_configs_tells_runs_from_sweeps_and_ends_each_description_with_its_sentence(capsys):
    import tomllib

    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    runs, sweeps = out.split("Sweeps (rnnlab sweep NAME):")
    assert runs.startswith("Single runs (rnnlab train --config NAME):")
    for name in config_names():
        grid = "grid" in tomllib.loads((config_dir() / f"{name}.toml").read_text())
        assert f"\n  {name} " in (sweeps if grid else runs), name
    entries = re.findall(r"^  (\S+) +(.*(?:\n {4,}.*)*)", out, re.M)
    assert sorted(name for name, _ in entries) == config_names()
    for name, about in entries:  # whole sentences, wrapped, never cut
        assert " ".join(about.split())[-1] in ".!?", (name, about)
        assert all(len(line) <= 100 for line in about.splitlines())


def test_a_build_ships_the_configs_and_the_figure_scripts(tmp_path):
    pytest.importorskip("setuptools")
    proc = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                           "-d", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    shipped = tmp_path / "rnnlab" / "configs" / "copy-full-urnn.toml"
    assert shipped.is_file() and not shipped.is_symlink()
    assert (tmp_path / "paper_figures" / "__main__.py").is_file()
