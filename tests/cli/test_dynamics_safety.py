"""Dynamics commands: outputs checked first, data beside every picture, sizes refused with
their estimate, and a closed pipe ends quietly."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rnnlab.cli import main
from tests.cli.one_line import one_line_exit_2
from rnnlab.cli.dynamics import _check_pattern_search
from rnnlab.cli.pipes import EXIT_BROKEN_PIPE


@pytest.mark.parametrize("argv", [["portrait", "--all", "--out"], ["propagate", "--n", "4", "--T", "5", "--plot"]])
def test_unwritable_picture_paths_are_refused(capsys, tmp_path, argv):
    afile = tmp_path / "afile"
    afile.write_text("")
    one_line_exit_2(capsys, argv + [str(afile / "x.png")], "is a file, not a folder")
    one_line_exit_2(capsys, argv + ["/proc/x.png"], "cannot write /proc/x.png")


def test_portrait_saves_its_data_beside_the_picture(capsys, tmp_path):
    out = tmp_path / "sub" / "line.png"  # a missing folder is created
    assert main(["portrait", "--case", "line", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    (panel,) = json.loads(out.with_suffix(".json").read_text())["panels"]
    w = np.array(panel["W"])
    assert np.allclose(np.linalg.eigvalsh(w), [0.5, 1.0], atol=1e-14)
    (line,) = panel["fixed_sets"]  # the line attractor along the unit eigenvector
    assert line["dimension"] == 1 and line["stability"] == "marginal"
    d = np.array(line["basis"][0])
    assert np.allclose(w @ d, d, atol=1e-14)


def test_huge_propagation_is_refused_with_its_estimate(capsys):
    one_line_exit_2(capsys, ["propagate", "--n", "100000", "--T", "10"], "needs about")


def test_exhaustive_fixed_point_search_is_bounded(capsys, tmp_path):
    w = tmp_path / "w40.npy"
    np.save(w, 0.5 * np.eye(40))
    one_line_exit_2(capsys, ["fixed-points", "--weights", str(w), "--exact-max-n", "40"], "2^40")
    # The same W sampled instead of enumerated is fine.
    assert main(["fixed-points", "--weights", str(w), "--exact-max-n", "10"]) == 0
    assert "fixed set 1: point, attracting" in capsys.readouterr().out


def test_a_long_exhaustive_search_says_its_cost(capsys):
    _check_pattern_search(17, 20)
    assert "2^17 = 131072 activation patterns" in capsys.readouterr().err
    _check_pattern_search(12, 20)
    _check_pattern_search(30, 20)  # sampled: nothing to say
    assert capsys.readouterr().err == ""


class _ClosedPipe:
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        raise ValueError("not a real file")


def test_closed_pipe_in_process(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["fixed-points", "--case", "line"]) == EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def test_closed_pipe_subprocess_has_no_traceback():
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line, as with `| head -0`
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.run([sys.executable, "-m", "rnnlab", "fixed-points", "--case", "line"],
                          stdout=write, stderr=subprocess.PIPE, env=env, timeout=120)
    os.close(write)
    assert proc.stderr == b""
    assert proc.returncode == EXIT_BROKEN_PIPE
