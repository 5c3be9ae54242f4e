"""The three data sources of a generated task: training stream, validation batch, test batch;
and the empirical baseline of the input-blind guess on the evaluation batches."""

import json

import jax
import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.training import tasks
from rnnlab.training.evaluation import SPLIT_SEEDS, empirical_baselines, fixed_batch
from rnnlab.training.seeds import seed_keys
from rnnlab.training.config import TrainConfig


@pytest.mark.parametrize("name", ["addition", "multiplication", "copy"])
def test_validation_test_and_training_batches_are_three_different_draws(name):
    task = tasks.make(name, 6, 4)
    val_x, _ = fixed_batch(task, "val", 32)
    test_x, _ = fixed_batch(task, "test", 32)
    again_x, _ = fixed_batch(task, "val", 32)
    np.testing.assert_array_equal(val_x, again_x)  # fixed: the same batch for every run
    _, data_keys = seed_keys(TrainConfig(task=name, model="np-rnn", n=4, T=6))
    train_x, _ = task.sample_step(data_keys[0], 0, 32)
    for a, b in ((val_x, test_x), (val_x, train_x), (test_x, train_x)):
        assert not np.array_equal(np.asarray(a), np.asarray(b))
    assert len(set(SPLIT_SEEDS.values())) == len(SPLIT_SEEDS)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be one of"):
        fixed_batch(tasks.make("addition", 6, 4), "train", 8)


@pytest.mark.parametrize("name, guess, population", [("addition", 1.0, 1 / 6), ("multiplication", 0.25, 7 / 144)])
def test_empirical_baseline_is_the_blind_guess_on_the_very_batch(name, guess, population):
    task = tasks.make(name, 20, 4)
    measured = empirical_baselines(task, 1000)
    for split in ("val", "test"):
        _, y = fixed_batch(task, split, 1000)
        expected = float(np.mean((np.asarray(y, np.float64) - guess) ** 2))
        # float32 mean of 1000 terms against a float64 one: a few float32 eps.
        assert measured[f"{split}_baseline"] == pytest.approx(expected, rel=1000 * float(np.finfo(np.float32).eps))
    # The batch values differ from the population value by their sampling error, and a large
    # batch agrees with it within five standard errors (a wrong guess is off by far more).
    assert measured["val_baseline"] != measured["test_baseline"]
    _, y = task.sample(jax.random.key(7), 200_000)
    sq = (np.asarray(y, np.float64) - guess) ** 2
    assert abs(task.batch_baseline(y) - population) < 5 * sq.std() / np.sqrt(sq.size)


def test_copy_baseline_has_no_sampling_error():
    task = tasks.make("copy", 30, 4)
    assert empirical_baselines(task, 64) == {"val_baseline": task.baseline, "test_baseline": task.baseline}


def test_a_run_logs_validation_at_every_evaluation_and_test_only_at_the_end(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--task", "addition", "--model", "np-rnn", "--n", "3", "--T", "4", "--steps", "15",
            "--batch", "4", "--log-every", "5", "--eval-every", "5", "--checkpoint-every", "15",
            "--eval-batch", "16", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [("val_mse" in r, "test_mse" in r) for r in rows] == [(True, False), (True, False), (True, True)]
    summary = json.loads((out / "summary.json").read_text())
    expected = empirical_baselines(tasks.make("addition", 4, 3), 16)
    assert {k: summary[k] for k in expected} == expected
    assert summary["baseline"] == pytest.approx(1 / 6, rel=1e-15)
