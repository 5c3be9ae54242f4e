"""Every seed counted (a diverged seed is a failure), settings chosen on validation."""

import math

import pytest

from rnnlab.training.selection import CellStats, cell_stats, cells, group, outcome, select


def _row(status="complete", **metrics):
    return {"status": status, **metrics}


def test_outcome_of_each_status():
    assert outcome(_row(final_val_mse=0.25), "final_val_mse") == 0.25
    assert outcome(_row("diverged"), "final_val_mse") == math.inf
    assert outcome(_row(), "final_val_mse") == math.inf  # finished without a finite value
    assert outcome(_row(final_val_mse=float("nan")), "final_val_mse") == math.inf
    assert outcome(_row("incomplete (last step 300)"), "final_val_mse") is None
    assert outcome(_row("failed", final_val_mse=0.1), "final_val_mse") is None


def test_a_diverged_seed_is_a_failure_in_rate_median_and_range():
    stats = cell_stats([0.01, math.inf, 0.2, None], threshold=0.1)
    assert (stats.seeds, stats.diverged, stats.successes, stats.pending) == (3, 1, 1, 1)
    assert stats.success_rate == pytest.approx(1 / 3, rel=1e-15)
    # Over the survivors the median would be 0.105: the diverged seed moves it up to 0.2.
    assert (stats.median, stats.low, stats.high) == (0.2, 0.01, math.inf)


def test_most_seeds_diverged_gives_an_infinite_median():
    stats = cell_stats([0.001, math.inf, math.inf], threshold=0.1)
    assert stats.median == math.inf and stats.successes == 1 and stats.low == 0.001


def test_no_threshold_counts_no_success_and_empty_cell_is_nan():
    assert cell_stats([0.001], None).successes == 0
    empty = cell_stats([None, None])
    assert empty.seeds == 0 and empty.pending == 2 and math.isnan(empty.median) and math.isnan(empty.success_rate)
    with pytest.raises(ValueError, match="threshold"):
        cell_stats([0.1], threshold=float("nan"))


def _stats(median, successes=0, seeds=3):
    return CellStats(seeds, 0, successes, median, median, median, 0.1)


def test_select_takes_the_lowest_validation_median_per_group():
    cells = {
        ("addition", 150, "irnn", 0.01): _stats(0.05),
        ("addition", 150, "irnn", 0.03): _stats(0.002),
        ("addition", 150, "irnn", 0.1): _stats(math.inf),  # its survivors may be best: not chosen
        ("addition", 150, "np-rnn", 0.01): _stats(0.004),
        ("addition", 150, "np-rnn", 0.03): _stats(0.009),
        ("addition", 300, "lstm", 0.01): _stats(math.inf),  # every rate failed: no choice
    }
    chosen = select(cells, choose=3)
    assert chosen == {("addition", 150, "irnn"): ("addition", 150, "irnn", 0.03),
                      ("addition", 150, "np-rnn"): ("addition", 150, "np-rnn", 0.01)}


def test_select_breaks_ties_by_success_rate_then_grid_order():
    cells = {("m", 0.3): _stats(0.01, successes=1), ("m", 0.1): _stats(0.01, successes=2)}
    assert select(cells, choose=1) == {("m",): ("m", 0.1)}
    tied = {("m", 0.3): _stats(0.01, 2), ("m", 0.1): _stats(0.01, 2)}
    assert select(tied, choose=1) == {("m",): ("m", 0.1)}
    assert select(tied, choose=1, order=[0.3, 0.1]) == {("m",): ("m", 0.3)}


def test_group_counts_a_repeated_setting_and_seed_once():
    rows = [{"m": "a", "seed": 0, "v": 1}, {"m": "a", "seed": 0, "v": 2}, {"m": "a", "seed": 1, "v": 3},
            {"m": "b", "seed": 0, "v": 4}]
    grouped = group(rows, key=lambda r: r["m"], seed=lambda r: r["seed"])
    assert {k: [r["v"] for r in v] for k, v in grouped.items()} == {"a": [1, 3], "b": [4]}


def test_cells_use_each_rows_own_baseline_and_count_every_seed():
    rows = [dict(model="a", seed=0, status="complete", final_val_mse=0.01, val_baseline=0.2),
            dict(model="a", seed=1, status="diverged", val_baseline=0.2),
            dict(model="a", seed=2, status="complete", final_val_mse=0.03, val_baseline=0.2),
            dict(model="b", seed=0, status="complete", final_val_mse=0.03, val_baseline=0.5)]
    out = cells(rows, key=lambda r: (r["model"],), seed=lambda r: r["seed"], metric="final_val_mse",
                baseline=lambda r: r["val_baseline"])
    # a: thresholds 0.02 -> one success of three, median 0.03 (the diverged seed is inf)
    assert (out[("a",)].successes, out[("a",)].seeds, out[("a",)].median) == (1, 3, 0.03)
    assert out[("a",)].threshold == pytest.approx(0.02, rel=1e-15)
    assert (out[("b",)].successes, out[("b",)].threshold) == (1, pytest.approx(0.05, rel=1e-15))
