"""rnnlab sweep: a 2-point grid gives one CSV with the config columns; reruns skip; bad files exit 2."""

import csv

import pytest

from rnnlab.cli import main

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
    assert all(r["steps"] == "5" and r["T"] == "4" and float(r["final_test_mse"]) >= 0 for r in rows)
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


def test_a_stopped_point_is_reported_incomplete(tmp_path, capsys):
    # lr 1e6 drives the loss non-finite: that point fails, the other one completes.
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP.replace("[grid]", "optimiser = 'sgd'\n[grid]\nlr = [1e-3, 1e6]").replace(
        'model = ["irnn", "np-rnn"]', 'model = ["irnn"]'))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quick", "--no-progress"]) == 1
    rows = {r["lr"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["0.001"]["status"] == "complete"
    assert rows["1000000.0"]["status"].startswith("incomplete") and not rows["1000000.0"].get("final_test_mse")
    assert "1 point(s) failed" in capsys.readouterr().err
