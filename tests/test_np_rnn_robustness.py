"""The robustness table: every seed counted, each model's rate chosen on validation, test
numbers for the chosen cell only, the empirical baseline of the batch as the threshold."""

import math

import pytest

from paper_figures import np_rnn_robustness as fig


def _row(model, lr, seed, val=None, test=None, status="complete"):
    return dict(task="addition", T=150, optimiser="sgd", model=model, lr=lr, n=100, eval_batch=1000, seed=seed,
                status=status, final_val_mse=val, final_test_mse=test, val_baseline=0.2, test_baseline=0.16)


def test_rate_is_chosen_on_validation_and_only_the_chosen_cell_reports_test():
    results = [
        # lr 0.1: best validation median, worse test: chosen all the same (test never chooses).
        _row("irnn", 0.1, 0, val=0.001, test=0.05), _row("irnn", 0.1, 1, val=0.002, test=0.05),
        _row("irnn", 0.1, 2, val=0.03, test=0.05),
        _row("irnn", 0.01, 0, val=0.01, test=0.001), _row("irnn", 0.01, 1, val=0.01, test=0.001),
        _row("irnn", 0.01, 2, val=0.01, test=0.001),
        # lr 1: its one survivor is the best of all, but two of three seeds diverged.
        _row("irnn", 1.0, 0, val=1e-5, test=1e-5), _row("irnn", 1.0, 1, status="diverged"),
        _row("irnn", 1.0, 2, status="diverged"),
    ]
    rows = {r["lr"]: r for r in fig.table_rows(results)}
    assert [lr for lr, r in rows.items() if r["chosen"]] == [0.1]
    chosen = rows[0.1]
    # Threshold 10% of the validation batch's baseline 0.2: seeds below 0.02 succeed.
    assert (chosen["val_successes"], chosen["seeds"]) == (2, 3)
    assert chosen["val_threshold"] == pytest.approx(0.02, rel=1e-15)
    assert chosen["test_mse_median"] == 0.05 and chosen["test_successes"] == 0  # 10% of 0.16 = 0.016
    assert "test_mse_median" not in rows[0.01]
    lost = rows[1.0]
    assert (lost["diverged"], lost["val_success_rate"], lost["val_mse_median"], lost["val_mse_max"]) == \
        (2, pytest.approx(1 / 3, rel=1e-15), math.inf, math.inf)


def test_old_rows_without_recorded_baselines_get_them_from_the_task():
    from rnnlab.training import tasks
    from rnnlab.training.evaluation import empirical_baselines

    row = _row("irnn", 0.1, 0, val=0.001, test=0.002)
    del row["val_baseline"], row["test_baseline"]
    row.update(T=6, n=4, eval_batch=64)
    out = fig.table_rows([row])[0]
    expected = empirical_baselines(tasks.make("addition", 6, 4), 64)
    assert (out["val_baseline"], out["test_baseline"]) == (expected["val_baseline"], expected["test_baseline"])
