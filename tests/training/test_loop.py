"""Runs: metrics, checkpoints, resume after SIGKILL, the NaN guard, seeds in one program."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training import cells, config, loop, run_folder

TINY = ["--task", "addition", "--model", "full-urnn", "--n", "4", "--T", "3", "--batch", "4",
        "--log-every", "5", "--eval-every", "10", "--checkpoint-every", "10", "--eval-batch", "8",
        "--no-progress"]


def _lines(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("wall_time")
    return rows


def _checkpoint_step(path: Path) -> int:
    return run_folder.checkpoint_step(path / "checkpoint.npz")


@pytest.mark.slow  # end to end, tens of seconds: make test-slow (CI runs it)
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", "train", *TINY, "--steps", "1000000", "--out", str(killed)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 120
        while not ((killed / "checkpoint.npz").exists() and _checkpoint_step(killed) >= 10):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    resumed_from = _checkpoint_step(killed)
    total = resumed_from + 20
    assert main(["train", *TINY, "--steps", str(total), "--out", str(killed), "--resume"]) == 0
    assert main(["train", *TINY, "--steps", str(total), "--out", str(reference)]) == 0
    resumed, uninterrupted = _lines(killed), _lines(reference)
    assert [r["step"] for r in resumed] == list(range(5, total + 1, 5))
    assert resumed == uninterrupted
    assert all(r["unitarity_error"] < 1e-5 for r in resumed)


def test_run_folder_metrics_and_config(tmp_path, capsys):
    cfg_file = tmp_path / "run.toml"
    cfg_file.write_text('task = "copy"\nmodel = "lstm"\nn = 3\nT = 2\nsteps = 10\nlr = 0.5\n')
    out = tmp_path / "run"
    args = ["train", "--config", str(cfg_file), "--lr", "0.01", "--log-every", "5", "--eval-every", "10",
            "--checkpoint-every", "10", "--eval-batch", "4", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    saved = config.load_toml(out / "config.toml")
    assert saved["lr"] == 0.01 and saved["model"] == "lstm" and saved["n"] == 3  # flags beat the file
    rows = _lines(out)
    assert [r["step"] for r in rows] == [5, 10]
    assert {"loss", "grad_norm", "xent", "xent_over_baseline", "accuracy"} <= rows[0].keys()
    assert "test_xent" in rows[1] and "test_xent" not in rows[0]
    assert "val_xent" in rows[1]  # eval_every 10: the validation batch at step 10 only
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_params"] > 0 and summary["steps"] == 10
    assert f"{summary['num_params']} parameters" in capsys.readouterr().out
    assert main(args + ["--resume"]) == 0  # already complete: nothing to do, still fine


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "nan"
    args = ["train", "--task", "addition", "--model", "relu-rnn", "--n", "3", "--T", "2", "--steps", "40",
            "--optimiser", "sgd", "--lr", "1e30", "--log-every", "5", "--eval-every", "5",
            "--checkpoint-every", "5", "--eval-batch", "4", "--no-progress", "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "non-finite" in err and err.count("\n") == 1
    step = _checkpoint_step(out)
    assert step < 40 and f"step {step}" in err
    assert not (out / "checkpoint.npz.tmp").exists()


def test_seeds_train_in_one_program_and_match_single_runs(tmp_path):
    common = ["--task", "multiplication", "--model", "np-rnn", "--n", "5", "--T", "4", "--steps", "10",
              "--log-every", "10", "--eval-every", "10", "--checkpoint-every", "10", "--eval-batch", "8",
              "--no-progress"]
    assert main(["train", *common, "--seeds", "3", "--seed", "4", "--out", str(tmp_path / "three")]) == 0
    rows = _lines(tmp_path / "three")
    assert [r["seed"] for r in rows] == [4, 5, 6]
    assert len({r["loss"] for r in rows}) == 3 and len({r["test_mse"] for r in rows}) == 3
    assert main(["train", *common, "--seed", "5", "--out", str(tmp_path / "one")]) == 0
    single = _lines(tmp_path / "one")[0]
    # "To rounding": float32 sums reordered by vmap, through 10 steps of an n = 5 network
    # (measured: at most 1 eps apart); a seed mix-up would differ in the first digit.
    rounding = 10 * 5 * np.finfo(np.float32).eps
    for key in ("loss", "grad_norm", "test_mse"):
        np.testing.assert_allclose(single[key], rows[1][key], rtol=rounding, err_msg=key)


def test_reprojection_needs_a_unitary_leaf():
    exp = loop.build(config.TrainConfig(task="copy", model="full-urnn", n=3, T=2, reproject_every=10))
    assert cells.UNITARY in exp.labels.values()
    with pytest.raises(UsageError, match="unitary W"):
        loop.build(config.TrainConfig(task="copy", model="lstm", n=3, T=2, reproject_every=10))
