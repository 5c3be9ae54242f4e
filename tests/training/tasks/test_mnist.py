"""Pixel / permuted MNIST runs: val and test metrics, the saved permutation, exact resume."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.training import tasks
from rnnlab.training.datasets import permutation

TINY = ["train", "--model", "irnn", "--n", "8", "--T", "16", "--batch", "8", "--train-subset", "64",
        "--log-every", "5", "--eval-every", "10", "--checkpoint-every", "5", "--eval-batch", "5000",
        "--optimiser", "adam", "--clip", "1", "--no-progress"]


def _rows(path):
    rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("wall_time")
    return rows


@pytest.mark.slow  # end to end, tens of seconds: make test-slow (CI runs it)
def test_pmnist_run_saves_permutation_and_resumes_exactly(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    args = TINY + ["--task", "pmnist", "--permutation-seed", "3"]
    assert main(args + ["--steps", "10", "--out", str(full)]) == 0
    assert main(args + ["--steps", "5", "--out", str(part)]) == 0
    assert main(args + ["--steps", "10", "--out", str(part), "--resume"]) == 0
    rows, resumed = _rows(full), _rows(part)
    # The 5-step run evaluated at its end (step 5); training metrics and the end must agree.
    train_keys = ("step", "loss", "accuracy", "grad_norm")
    assert [[r[k] for k in train_keys] for r in rows] == [[r[k] for k in train_keys] for r in resumed]
    assert rows[-1] == resumed[-1]
    last = rows[-1]
    assert {"val_accuracy", "val_xent", "test_accuracy", "test_xent"} <= set(last)
    assert "test_accuracy" not in rows[0]
    # Evaluation covers every one of the 10000 test and 5000 validation images exactly once:
    # the accuracy is a whole count over that size (a partial or padded last chunk is not).
    for key, size in (("test_accuracy", 10_000), ("val_accuracy", 5_000)):
        assert last[key] * size == pytest.approx(round(last[key] * size), abs=size * 1e-7)
    assert np.isfinite(last["test_xent"])
    np.testing.assert_array_equal(np.load(full / "permutation.npy"), permutation(3, 16))
    assert "permutation_seed = 3" in (full / "config.toml").read_text()


def test_batches_depend_on_the_step_only():
    import jax

    task = tasks.make("mnist", 16, 8, train_subset=20)
    key = jax.random.key(0)
    x3, y3 = task.sample_step(key, 3, 8)  # epoch 1 (2 steps per epoch), second batch
    again, _ = task.sample_step(key, 3, 8)
    assert x3.shape == (16, 8, 1) and y3.shape == (8,)
    np.testing.assert_array_equal(x3, again)
    images, _ = task.split("train")
    # Every example is a training image (pixels / 255), and consecutive batches differ.
    pixels = {tuple(r) for r in images}
    seen = [np.rint(np.asarray(task.sample_step(key, s, 8)[0])[:, :, 0].T * 255).astype(np.uint8) for s in (2, 3)]
    assert all(tuple(r) in pixels for batch in seen for r in batch)
    assert not np.array_equal(*seen)


@pytest.mark.parametrize(
    "extra,fragment",
    [(["--T", "100"], "T must be one of"), (["--data", "/nonexistent"], "not a folder"),
     (["--batch", "100"], "exceeds the 64 training images")],
)
def test_mnist_usage_errors(extra, fragment, tmp_path, capsys):
    assert main(TINY + ["--task", "mnist", "--steps", "5", "--out", str(tmp_path / "r")] + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
