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


@pytest.mark.parametrize("argv", [["--all"], ["--case", "line"], ["--eig", "1.0", "0.5", "--angle", "10"]])
def test_portrait_writes_png(capsys, tmp_path, argv):
    out = tmp_path / "p.png"
    code, stdout, err = run(capsys, "portrait", *argv, "--out", str(out))
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_portrait_pdf_and_bad_extension(capsys, tmp_path):
    out = tmp_path / "p.pdf"
    assert run(capsys, "portrait", "--case", "decay", "--out", str(out))[0] == 0
    assert out.read_bytes()[:4] == b"%PDF"
    code, _, err = run(capsys, "portrait", "--case", "decay", "--out", str(tmp_path / "p.txt"))
    assert code == 2 and "use .png, .pdf, .svg" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--init", "nope"], "unknown initialiser"),
        (["--n", "0"], "n must be a positive integer"),
        (["--T", "-5"], "T must be a positive integer"),
        (["--init", "np", "--opt", "scale=2"], "no option scale"),
        (["--opt", "oops"], "KEY=VALUE"),
        (["--alpha", "sqrt2"], "unknown alpha"),
        (["--inputs", "binary"], "unknown inputs"),
    ],
)
def test_propagate_usage_errors_exit_2(capsys, argv, message):
    code, _, err = run(capsys, "propagate", "--n", "4", "--T", "5", "--trials", "1", *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_propagate_json(capsys, tmp_path):
    plot = tmp_path / "g.png"
    code, out, err = run(capsys, "propagate", "--init", "orthogonal", "--n", "6", "--T", "30",
                         "--trials", "2", "--lyapunov", "3", "--json", "--plot", str(plot))
    assert code == 0, err
    data = json.loads(out)
    assert data["config"]["init"] == "orthogonal" and data["config"]["n"] == 6
    assert [row["t"] for row in data["checkpoints"]][-1] == 30
    assert len(data["lyapunov"]) == 3
    assert plot.stat().st_size > 0
    saved = json.loads(plot.with_suffix(".json").read_text())  # the data beside the picture
    assert saved["checkpoints"] == data["checkpoints"] and saved["lyapunov"] == data["lyapunov"]
