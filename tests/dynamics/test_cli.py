import json

import numpy as np
import pytest

from rnnlab.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, dimension, stability",
    [
        (["--eig", "1.0", "0.5"], 1, "marginal"),
        (["--eig", "0.9", "0.3", "--angle", "60"], 0, "attracting"),
        (["--case", "explode"], 0, "repelling"),
        (["--case", "identity"], 2, "marginal"),
    ],
)
def test_fixed_points_json(capsys, argv, dimension, stability):
    code, out, err = run(capsys, "fixed-points", *argv, "--json")
    assert code == 0, err
    sets = json.loads(out)
    assert [(s["dimension"], s["stability"]) for s in sets] == [(dimension, stability)]
    assert len(sets[0]["point"]) == 2


def test_fixed_points_weights_file_and_text(capsys, tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.eye(3))
    code, out, err = run(capsys, "fixed-points", "--weights", str(path))
    assert code == 0, err
    assert "3-dimensional set, marginal" in out
    code, out, _ = run(capsys, "fixed-points", "--case", "explode")
    assert code == 0 and "trajectories diverge" in out


@pytest.mark.parametrize(
    "array, message",
    [
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
    ],
)
def test_fixed_points_bad_weights_exit_2(capsys, tmp_path, array, message):
    path = tmp_path / "w.npy"
    np.save(path, array)
    code, out, err = run(capsys, "fixed-points", "--weights", str(path))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--weights", "/nonexistent/w.npy"], "no such file"),
        (["--eig", "1", "nan"], "finite"),
        (["--eig", "1", "0.5", "--bias", "1"], "bias"),
        (["--eig", "1", "0.5", "--tol", "-1"], "--tol"),
    ],
)
def test_fixed_points_usage_errors_exit_2(capsys, argv, message):
    code, _, err = run(capsys, "fixed-points", *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
