"""Damaged files given to the command line end to end, in a process of its own as a user runs
it: exit 2, one line on stderr naming the file, no traceback, no code run."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz import folders
from tests.fuzz.damage import pickle_bytes


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnnlab", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _one_line_naming(proc: subprocess.CompletedProcess, name: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert name in proc.stderr, proc.stderr


def test_the_command_line_refuses_damaged_files_in_one_line(tmp_path):
    """A pickle given as weights, a binary and a mistyped --config, a torn sweep table given to
    records, a binary log given to plot."""
    marker = tmp_path / "marker"
    (tmp_path / "W.npy").write_bytes(pickle_bytes(marker))
    _one_line_naming(_cli("fixed-points", "--weights", "W.npy", cwd=tmp_path), "W.npy")
    (tmp_path / "bin.toml").write_bytes(bytes(range(256)))
    _one_line_naming(_cli("train", "--config", "bin.toml", cwd=tmp_path), "bin.toml")
    (tmp_path / "typed.toml").write_text("task = 'addition'\nn = 'eight'\n")
    _one_line_naming(_cli("train", "--config", "typed.toml", cwd=tmp_path), "typed.toml")
    sweep = tmp_path / "sweep"
    folders.sweep(sweep)
    (sweep / "results.csv").write_bytes((sweep / "results.csv").read_bytes()[:40] + b"\xff\xfe\x00")
    _one_line_naming(_cli("records", "sweep", "--to", "rec", cwd=tmp_path), "results.csv")
    assert not (tmp_path / "rec").exists()
    (sweep / "seed-0" / "metrics.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    _one_line_naming(_cli("plot", "sweep/seed-0", "--out", "c.png", cwd=tmp_path), "metrics.jsonl")
    assert not marker.exists() and not (tmp_path / "c.png").exists()


@pytest.mark.slow  # the resume loads JAX in its own process: a few seconds on an idle machine
def test_resume_on_a_pickle_renamed_checkpoint_is_one_line_and_runs_no_code(tmp_path):
    run = folders.run(tmp_path / "run")
    marker = tmp_path / "marker"
    (run / "checkpoint.npz").write_bytes(pickle_bytes(marker))
    proc = _cli("train", "--config", "run/config.toml", "--out", "run", "--resume", "--steps", "20",
                "--no-progress", cwd=tmp_path)
    _one_line_naming(proc, "checkpoint.npz")
    assert not marker.exists()
