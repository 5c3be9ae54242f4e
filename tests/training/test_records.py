"""Compact records of finished sweeps: merged rows, thinned metrics, no checkpoints."""

import csv
import json

import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training import records, sweep


def _sweep(folder, points, steps=1000, eval_every=100):
    folder.mkdir()
    (folder / "sweep.json").write_text(json.dumps({"file": "x.toml", "points": points}))
    rows = []
    for k, name in enumerate(points):
        run = folder / name
        run.mkdir()
        (run / "config.toml").write_text(f"steps = {steps}\n")
        (run / "summary.json").write_text(json.dumps({"steps": steps}))
        (run / "checkpoint.npz").write_bytes(b"\0" * 64)
        lines = [{"step": s, "seed": 0, "loss": 1.0 / s} for s in range(1, steps + 1)]
        for line in lines:
            if line["step"] % eval_every == 0:
                line["test_loss"] = 2.0 / line["step"]
        (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        rows.append({"point": name, "status": "complete", "seed": 0, "final_loss": 1.0 / steps, "extra": k})
    with open(folder / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(folder / "summary.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["point", "seeds", "loss_median"])
        w.writeheader()
        w.writerows({"point": r["point"], "seeds": 1, "loss_median": r["final_loss"]} for r in rows)


def test_thin_keeps_every_eval_line_and_both_ends():
    lines = [json.dumps({"step": s, **({"val_x": 1} if s % 50 == 0 else {})}) for s in range(1, 2001)]
    kept = [json.loads(x) for x in records.thin(lines, 100)]
    assert len(kept) == 100
    assert [r["step"] for r in kept] == sorted(r["step"] for r in kept)
    assert {r["step"] for r in kept if "val_x" in r} == set(range(50, 2001, 50))
    assert kept[0]["step"] == 1 and kept[-1]["step"] == 2000
    assert records.thin(lines[:10], 100) == lines[:10]


def test_export_merges_sweeps_into_a_folder_that_reads_like_a_sweep(tmp_path):
    _sweep(tmp_path / "a", ["p1", "p2"])
    _sweep(tmp_path / "b", ["p3"], steps=300, eval_every=30)
    assert main(["records", str(tmp_path / "a"), str(tmp_path / "b"), "--to", str(tmp_path / "rec"),
                 "--max-lines", "60"]) == 0
    rec = tmp_path / "rec"
    rows = sweep.read_results(rec)
    assert [r["point"] for r in rows] == ["p1", "p2", "p3"]
    assert rows[2]["final_loss"] == pytest.approx(1 / 300)
    assert not list(rec.rglob("checkpoint*"))
    for point, steps in (("p1", 1000), ("p3", 300)):
        lines = (rec / point / "metrics.jsonl").read_text().splitlines()
        assert len(lines) == 60
        evals = [c["step"] for c in sweep.curves(rec, point, ("test_loss",))]
        assert evals == list(range(steps // 10, steps + 1, steps // 10))
        assert json.loads(lines[-1])["step"] == steps
    # The sources' summaries merged, one row per point, values kept.
    with open(rec / "summary.csv", newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert [r["point"] for r in summary] == ["p1", "p2", "p3"]
    assert float(summary[2]["loss_median"]) == pytest.approx(1 / 300)
    assert (rec / "p1" / "config.toml").read_text() == "steps = 1000\n"
    assert json.loads((rec / "record.json").read_text())["points"] == ["p1", "p2", "p3"]


def test_a_record_extended_by_a_new_sweep_keeps_its_sweep_files_and_sources(tmp_path):
    _sweep(tmp_path / "a", ["p1", "p2"])
    _sweep(tmp_path / "b", ["p3"], steps=300, eval_every=30)
    records.export([tmp_path / "a"], tmp_path / "old", max_lines=60)
    # The first sweep folder is gone; only its record is left.
    first = (tmp_path / "a" / "sweep.json").read_text()
    for f in (tmp_path / "a").rglob("*"):
        if f.is_file():
            f.unlink()
    records.export([tmp_path / "old", tmp_path / "b"], tmp_path / "new", max_lines=40)
    new = tmp_path / "new"
    assert [r["point"] for r in sweep.read_results(new)] == ["p1", "p2", "p3"]
    assert (new / "sweeps" / "0.json").read_text() == first
    assert json.loads((new / "sweeps" / "1.json").read_text())["points"] == ["p3"]
    made = json.loads((new / "record.json").read_text())
    assert made["sources"][0]["record"] == str(tmp_path / "old")
    assert made["sources"][0]["sources"] == [str(tmp_path / "a")]
    assert made["sources"][1] == str(tmp_path / "b")
    # Thinned again to the new limit, every evaluation of the old record kept.
    assert len((new / "p1" / "metrics.jsonl").read_text().splitlines()) == 40
    assert [c["step"] for c in sweep.curves(new, "p1", ("test_loss",))] == list(range(100, 1001, 100))


def test_a_record_is_extended_in_place_and_an_interrupted_export_leaves_it_as_it_was(tmp_path, monkeypatch):
    _sweep(tmp_path / "a", ["p1", "p2"])
    _sweep(tmp_path / "b", ["p3"], steps=300, eval_every=30)
    rec = tmp_path / "rec"
    records.export([tmp_path / "a"], rec, max_lines=60)
    before = {f.relative_to(rec): f.read_bytes() for f in rec.rglob("*") if f.is_file()}

    def broken(path, rows):
        raise KeyboardInterrupt
    monkeypatch.setattr(records, "write_csv", broken)
    with pytest.raises(KeyboardInterrupt):
        records.export([rec, tmp_path / "b"], rec, max_lines=40)
    assert {f.relative_to(rec): f.read_bytes() for f in rec.rglob("*") if f.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "rec"]  # no staging folder left
    monkeypatch.undo()
    records.export([rec, tmp_path / "b"], rec, max_lines=40)
    assert [r["point"] for r in sweep.read_results(rec)] == ["p1", "p2", "p3"]
    assert len((rec / "p1" / "metrics.jsonl").read_text().splitlines()) == 40
    assert json.loads((rec / "record.json").read_text())["sources"][0]["record"] == str(rec)
    # Replaced as a whole: a point the new sources do not have is gone.
    records.export([tmp_path / "b"], rec)
    assert sorted(p.name for p in rec.iterdir() if p.is_dir()) == ["p3", "sweeps"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "rec"]


def test_export_refuses_to_replace_a_folder_that_is_not_a_record(tmp_path, capsys):
    _sweep(tmp_path / "a", ["p1"])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["records", str(tmp_path / "a"), "--to", str(tmp_path / "mine")]) == 2
    err = capsys.readouterr().err
    assert "exists and is not a record" in err and err.count("\n") == 1
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "empty").mkdir()
    records.export([tmp_path / "a"], tmp_path / "empty")
    assert [r["point"] for r in sweep.read_results(tmp_path / "empty")] == ["p1"]


def _set_rows(folder, **changes):
    """Rewrite ``folder/results.csv`` with ``changes`` = {point: {column: value}} applied."""
    rows = sweep.read_results(folder)
    for r in rows:
        r.update(changes.get(r["point"], {}))
    with open(folder / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_export_refuses_unfinished_sweeps_and_clashing_points(tmp_path, capsys):
    _sweep(tmp_path / "a", ["p1"])
    _sweep(tmp_path / "b", ["p1"])
    _set_rows(tmp_path / "b", p1={"final_loss": "0.5"})
    (tmp_path / "c").mkdir()
    with pytest.raises(UsageError, match="point p1 is finished in both .* with different results"):
        records.export([tmp_path / "a", tmp_path / "b"], tmp_path / "rec")
    assert main(["records", str(tmp_path / "c"), "--to", str(tmp_path / "rec2")]) == 2
    err = capsys.readouterr().err
    assert "not a finished sweep folder" in err and err.count("\n") == 1
    _set_rows(tmp_path / "a", p1={"status": "incomplete (last step 300)"})
    assert main(["records", str(tmp_path / "a"), "--to", str(tmp_path / "rec3")]) == 2
    assert "no finished point" in capsys.readouterr().err
    assert not (tmp_path / "rec3").exists()


def test_a_column_is_recorded_as_its_points_finish(tmp_path, capsys):
    # p2 still running, p3 diverged: the first export keeps p1 and p3 and names p2.
    _sweep(tmp_path / "col", ["p1", "p2", "p3"])
    _set_rows(tmp_path / "col", p2={"status": "incomplete (last step 400)"}, p3={"status": "diverged"})
    rec = tmp_path / "rec"
    assert main(["records", str(tmp_path / "col"), "--to", str(rec)]) == 0
    out = capsys.readouterr().out
    assert "left out 1 unfinished point(s), to record once they finish: p2" in out
    assert [(r["point"], r["status"]) for r in sweep.read_results(rec)] == [("p1", "complete"), ("p3", "diverged")]
    assert sorted(p.name for p in rec.iterdir() if p.is_dir()) == ["p1", "p3", "sweeps"]
    with open(rec / "summary.csv", newline="") as fh:
        assert [r["point"] for r in csv.DictReader(fh)] == ["p1", "p3"]
    # p2 finishes; the record and the same sweep folder again: p1 and p3 agree and count once.
    _set_rows(tmp_path / "col", p2={"status": "complete"})
    assert main(["records", str(rec), str(tmp_path / "col"), "--to", str(rec)]) == 0
    assert "left out" not in capsys.readouterr().out
    assert [r["point"] for r in sweep.read_results(rec)] == ["p1", "p3", "p2"]
    with open(rec / "summary.csv", newline="") as fh:
        assert [r["point"] for r in csv.DictReader(fh)] == ["p1", "p3", "p2"]
    assert json.loads((rec / "record.json").read_text())["points"] == ["p1", "p2", "p3"]


def test_thin_keeps_the_seeds_of_a_step_together():
    # 4 vmapped seeds log one line each per step; an evaluation every 25 steps.
    lines = [json.dumps({"step": s, "seed": k, **({"test_x": 1} if s % 25 == 0 else {})})
             for s in range(1, 301) for k in range(4)]
    kept = [json.loads(x) for x in records.thin(lines, 150)]
    assert len(kept) == 148  # 37 whole steps of 4 lines: 150 // 4
    steps = {k: [r["step"] for r in kept if r["seed"] == k] for k in range(4)}
    assert steps[1] == steps[0] and steps[2] == steps[0] and steps[3] == steps[0]
    assert set(range(25, 301, 25)) <= set(steps[0]) and steps[0][0] == 1 and steps[0][-1] == 300
    # Not even two groups fit: single lines, both ends and the limit kept.
    few = records.thin(lines, 5)
    assert len(few) == 5 and few[0] == lines[0] and few[-1] == lines[-1]
    assert records.thin(lines, 2) == [lines[0], lines[-1]]  # evaluations left out, not a crash
