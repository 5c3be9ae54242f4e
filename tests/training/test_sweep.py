"""rnnlab sweep (local backend): a 2-point grid gives one CSV with the config columns; reruns skip;
diverged points are recorded and summarised; crashes are retried once; bad files exit 2."""

import csv
import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training.sweep import point

SWEEP = """
task = "addition"
n = 3
T = 4
steps = 100
batch = 4
log_every = 5
eval_every = 5
eval_batch = 8
seeds = 2
[grid]
model = ["irnn", "np-rnn"]
[quick]
steps = 5
"""


def test_two_point_grid_writes_one_csv_and_skips_complete_points(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--jobs", "2", "--quick", "--no-progress"]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["model"], r["seed"], r["final_seed"]) for r in rows] == [
        ("irnn", "0", "0"), ("irnn", "0", "1"), ("np-rnn", "0", "0"), ("np-rnn", "0", "1")]
    assert all(r["steps"] == "5" and r["T"] == "4" for r in rows)
    # Each row carries its own seed's final metrics, exactly as the run folder's summary has them.
    for r in rows:
        final = json.loads((out / r["point"] / "summary.json").read_text())["final"]
        mine = next(f for f in final if f["seed"] == int(r["final_seed"]))
        assert float(r["final_test_mse"]) == mine["test_mse"]
    assert {r["status"] for r in rows} == {"complete"}
    assert (out / "model-irnn" / "summary.json").exists()
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 0
    assert capsys.readouterr().out.count("skipped (complete)") == 2


@pytest.mark.parametrize(
    "text,fragment",
    [("[grid]\nmodel = 'irnn'\n", "must be a non-empty list"),
     ("[grid]\nhidden = [1, 2]\n", "unknown config key 'hidden'"),
     ("[grid]\nmodel = ['gru']\n", "unknown model"),
     ("task = 'addition'\nT = 0\n", "T must be"),
     ("[grid\n", "sweep file")],
)
def test_bad_sweep_file_exits_2(text, fragment, tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_where_runs_only_matching_points(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress", "--where", "model=np-rnn"]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert {r["model"] for r in rows} == {"np-rnn"}
    assert not (out / "model-irnn").exists()
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--where", "model=lstm"]) == 2
    assert "no grid point has model=lstm" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--out", str(out), "--where", "T"]) == 2
    assert "--where needs KEY=VALUE" in capsys.readouterr().err


def test_where_takes_alternatives_separated_by_commas(tmp_path):
    from rnnlab.training import sweep as sweep_mod

    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP.replace('model = ["irnn", "np-rnn"]',
                                  'model = ["irnn", "np-rnn", "lstm"]\nlr = [0.01, 0.03, 0.1]'))

    def names(*where):
        return [p.name for p in sweep_mod.points(sweep_mod.load(spec), where=sweep_mod.parse_where(list(where)))]

    assert names("model=irnn,lstm", "lr=0.1") == ["model-irnn_lr-0.1", "model-lstm_lr-0.1"]
    # Numbers compare as numbers, each alternative on its own; spaces around them are ignored.
    assert names("model=np-rnn", "lr=1e-2, 3e-2") == ["model-np-rnn_lr-0.01", "model-np-rnn_lr-0.03"]
    assert names("model=IRNN,np-rnn,lstm", "lr=0.03") == ["model-irnn_lr-0.03", "model-np-rnn_lr-0.03",
                                                          "model-lstm_lr-0.03"]
    with pytest.raises(UsageError, match="no grid point has model=gru,tanh-rnn"):
        names("model=gru,tanh-rnn")


@pytest.mark.slow  # end to end, tens of seconds: make test-slow (CI runs it)
def test_a_diverged_point_is_recorded_skipped_on_rerun_and_summarised(tmp_path, capsys):
    # lr 1e6 drives the loss non-finite: that point is recorded as diverged (a result, exit 0,
    # not retried), the other one completes; summary.csv aggregates the seeds of each point.
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP.replace("[grid]", "optimiser = 'sgd'\n[grid]\nlr = [1e-3, 1e6]").replace(
        'model = ["irnn", "np-rnn"]', 'model = ["irnn"]'))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "1 point(s) diverged: lr-1e+06_model-irnn" in printed
    rows = list(csv.DictReader(open(out / "results.csv")))
    good = [r for r in rows if r["lr"] == "0.001"]
    bad = [r for r in rows if r["lr"] == "1000000.0"]
    assert [r["status"] for r in good] == ["complete"] * 2 and [r["final_seed"] for r in bad] == ["0", "1"]
    assert all(r["status"] == "diverged" and "non-finite loss" in r["detail"] and not r["final_test_mse"] for r in bad)

    summary = {r["point"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    mses = [float(r["final_test_mse"]) for r in good]
    row = summary["lr-0.001_model-irnn"]
    assert (row["status"], row["seeds"], row["diverged"], row["lr"]) == ("complete", "2", "0", "0.001")
    assert float(row["test_mse_median"]) == pytest.approx(float(np.median(mses)), rel=1e-12)
    assert (float(row["test_mse_min"]), float(row["test_mse_max"])) == (min(mses), max(mses))
    assert (summary["lr-1e+06_model-irnn"]["diverged"], summary["lr-1e+06_model-irnn"]["test_mse_median"]) == ("2", "")
    assert "test_mse median [min, max]" in printed

    log = out / "lr-1e+06_model-irnn.log"
    assert log.read_text().count("--- ") == 1
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "lr-1e+06_model-irnn: skipped (diverged: non-finite loss" in printed and "--retry-failed" in printed
    assert log.read_text().count("--- ") == 1
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress", "--retry-failed"]) == 0
    assert log.read_text().count("--- ") == 2
    assert "lr-0.001_model-irnn: skipped (complete)" in capsys.readouterr().out


def test_a_crashing_point_is_retried_once_then_failed_while_the_others_finish(tmp_path, capsys):
    # A stray file in a point's run folder makes `rnnlab train` refuse it (exit 2) on every try.
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "out"
    (out / "model-irnn").mkdir(parents=True)
    (out / "model-irnn" / "stray.txt").write_text("not a run")
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress", "--jobs", "2"]) == 1
    captured = capsys.readouterr()
    assert "model-irnn: exit 2: rnnlab train: error:" in captured.out and "retrying" in captured.out
    assert "1 point(s) failed: model-irnn" in captured.err
    status = json.loads((out / "model-irnn.status.json").read_text())
    assert status["status"] == "failed" and status["attempts"] == 2 and "not a run folder" in status["detail"]
    assert (out / "model-irnn.log").read_text().count("--- ") == 2
    rows = {r["model"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["np-rnn"]["status"] == "complete" and rows["irnn"]["status"] == "failed"
    assert "not a run folder" in rows["irnn"]["detail"]


def test_a_crash_is_summed_up_by_its_exception_line_not_the_note_after_it():
    log = """Traceback (most recent call last):
  File "loop.py", line 125, in step
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
IndexError: tuple index out of range
--------------------
For simplicity, JAX has removed its internal frames from the traceback of the following exception. Set JAX_TRACEBACK_FILTERING=off to include these."""
    lines = [x.strip() for x in log.splitlines()]
    assert point.crash_line(lines) == "IndexError: tuple index out of range"
    assert point.crash_line(["step 10", "rnnlab train: error: bad", "bye"]) == "rnnlab train: error: bad"
    assert point.crash_line(["Killed"]) == "Killed" and point.crash_line([]) == "no output"
    assert point.crash_line(["rnnlab train: interrupted", "Killed"]) == "Killed"


# ---------------------------------------------------------------- nothing lost, nothing outside
# These fake finished points (a run folder whose summary.json shows all its steps, as
# `rnnlab train` leaves it) so that the sweep skips them and starts no train process.

COLUMNS = SWEEP.replace('model = ["irnn", "np-rnn"]', 'model = ["irnn"]\nT = [4, 6]')


def _fake_point(out, name, *, T, steps=5, mse=0.25):
    from rnnlab.training import config as config_mod

    cfg = config_mod.TrainConfig(task="addition", model="irnn", n=3, T=T, steps=steps, batch=4, log_every=5,
                                 eval_every=5, eval_batch=8, seeds=2)
    run = out / name
    run.mkdir(parents=True)
    (run / "config.toml").write_text(config_mod.to_toml(cfg.identity()))
    final = [{"step": steps, "seed": s, "loss": mse, "test_mse": mse + s} for s in range(2)]
    (run / "summary.json").write_text(json.dumps({"num_params": 25, "steps": steps, "wall_time": 1.0,
                                                  "baseline": 0.17, "final": final}))
    (run / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in final))


def test_a_column_run_with_where_keeps_the_other_columns_results(tmp_path, capsys):
    # Two columns run one after the other (the README's "one column" command): results.csv,
    # summary.csv and sweep.json cover both, and a record of the folder keeps both.
    spec = tmp_path / "s.toml"
    spec.write_text(COLUMNS)
    out = tmp_path / "out"
    _fake_point(out, "model-irnn_T-4", T=4, mse=0.25)
    _fake_point(out, "model-irnn_T-6", T=6, steps=7, mse=0.5)  # run earlier with --steps 7
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress", "--where", "T=4"]) == 0
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress", "--where", "T=6"]) == 0
    assert "with 1 point(s) of earlier calls" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["point"], r["final_seed"], r["status"]) for r in rows] == [
        ("model-irnn_T-4", "0", "complete"), ("model-irnn_T-4", "1", "complete"),
        ("model-irnn_T-6", "0", "complete"), ("model-irnn_T-6", "1", "complete")]
    assert [float(r["final_test_mse"]) for r in rows] == [0.25, 1.25, 0.5, 1.5]
    assert [r["steps"] for r in rows] == ["5", "5", "7", "7"]  # how each point ran (T = 6: --steps 7)
    summary = {r["point"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    assert sorted(summary) == ["model-irnn_T-4", "model-irnn_T-6"]
    assert float(summary["model-irnn_T-4"]["test_mse_median"]) == 0.75
    made = json.loads((out / "sweep.json").read_text())
    assert made["points"] == ["model-irnn_T-4", "model-irnn_T-6"]
    assert [c["where"] for c in made["calls"]] == [{"T": "4"}, {"T": "6"}]
    assert main(["records", str(out), "--to", str(tmp_path / "rec")]) == 0
    with open(tmp_path / "rec" / "results.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 4


def test_a_second_sweep_on_the_same_folder_is_refused(tmp_path, capsys):
    from rnnlab.training.lock import FolderLock

    spec = tmp_path / "s.toml"
    spec.write_text(COLUMNS)
    out = tmp_path / "out"
    _fake_point(out, "model-irnn_T-4", T=4)
    _fake_point(out, "model-irnn_T-6", T=6)
    with FolderLock(out, "sweep folder"):  # as a first sweep, still running, holds it
        assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"sweep folder {out} is in use by process" in err and err.count("\n") == 1
    assert not (out / "results.csv").exists() and not (out / "sweep.json").exists()
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 0  # free again


@pytest.mark.parametrize("key", ["../../escaped", "/tmp/rnnlab-abs-escape", "sub/dir", ".hidden"])
def test_a_grid_key_that_is_a_path_is_refused(key, tmp_path, capsys):
    spec = tmp_path / "sweeps" / "s.toml"
    spec.parent.mkdir()
    spec.write_text(SWEEP.replace('model = ["irnn", "np-rnn"]', f'"{key}" = [{{model = "irnn"}}, {{model = "lstm"}}]'))
    out = tmp_path / "sweeps" / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"grid key {key!r} names run folders" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["s.toml", "sweeps"]


def test_a_point_folder_that_links_outside_the_sweep_folder_is_refused(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "model-irnn").symlink_to(elsewhere)
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "is a link to" in err and "outside" in err and err.count("\n") == 1
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in out.iterdir()) == ["model-irnn"]
    (out / "model-irnn").unlink()
    (out / "model-irnn.log").symlink_to(elsewhere / "stolen.log")  # a file name of the point, too
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 2
    assert "model-irnn.log is a link to" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name, content, fragment", [
    ("model-irnn_T-4/summary.json", b"\x89PNG\r\n\x1a\n\x00\xff", "cannot read this run summary"),
    ("model-irnn_T-4/summary.json", b"[]", "holds list, not a JSON object"),
    ("model-irnn_T-4/summary.json", b'{"steps": "five"}', "not a run summary"),
    ("model-irnn_T-6.status.json", b"\xff\xfe\x00garbage", "cannot read this point status"),
    ("model-irnn_T-6.status.json", b'{"status": 3}', "not a point status"),
    ("sweep.json", b"\x00\x01\x02", "cannot read this sweep description"),
])
def test_a_damaged_file_in_the_sweep_folder_is_one_line(name, content, fragment, tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(COLUMNS)
    out = tmp_path / "out"
    _fake_point(out, "model-irnn_T-4", T=4)
    _fake_point(out, "model-irnn_T-6", T=6)
    (out / name).write_bytes(content)
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(out / name) in err and fragment in err and err.count("\n") == 1
    assert not (out / "results.csv").exists()
