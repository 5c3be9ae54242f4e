"""Compact records of finished sweeps: merged rows, thinned metrics, no checkpoints."""

import csv
import json
import shutil

import numpy as np
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
    # Replaced as a whole, when asked: a point the new sources do not have is gone.
    with pytest.raises(UsageError, match="record of 3 point.* would drop 2 of them \\(p1, p2\\)"):
        records.export([tmp_path / "b"], rec)
    assert records.export([tmp_path / "b"], rec, replace=True).dropped == ["p1", "p2"]
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


def test_a_record_given_as_destination_only_is_not_emptied_without_replace(tmp_path, capsys):
    # `rnnlab records NEW --to OLD_RECORD`, forgetting OLD_RECORD among the sources.
    _sweep(tmp_path / "a", ["p1", "p2"])
    _sweep(tmp_path / "b", ["p3"], steps=300, eval_every=30)
    rec = tmp_path / "rec"
    assert main(["records", str(tmp_path / "a"), "--to", str(rec)]) == 0
    before = {f.relative_to(rec): f.read_bytes() for f in rec.rglob("*") if f.is_file()}
    capsys.readouterr()
    assert main(["records", str(tmp_path / "b"), "--to", str(rec)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "is a record of 2 point(s) and the new record would drop 2 of them (p1, p2)" in err and "--replace" in err
    assert {f.relative_to(rec): f.read_bytes() for f in rec.rglob("*") if f.is_file()} == before
    assert main(["records", str(tmp_path / "b"), "--to", str(rec), "--replace"]) == 0
    assert "replaced: dropped 2 point(s) of the old record: p1, p2" in capsys.readouterr().out
    assert [r["point"] for r in sweep.read_results(rec)] == ["p3"]


def _rewrite_point(folder, old, new):
    text = (folder / "results.csv").read_text()
    (folder / "results.csv").write_text(text.replace(f"{old},", f"{new},"))


@pytest.mark.parametrize("point", ["../outside", "/tmp/rnnlab-records-abs", "p1/../../outside", ".."])
def test_a_point_name_that_leaves_the_sweep_folder_is_refused(point, tmp_path, capsys):
    # A results.csv row naming a folder outside the sweep: nothing read from there, nothing
    # written outside --to.
    _sweep(tmp_path / "a", ["p1", "p2"])
    _sweep(tmp_path / "outside", ["secret"])  # what the row points at
    _rewrite_point(tmp_path / "a", "p2", point)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["records", str(tmp_path / "a"), "--to", str(tmp_path / "rec")]) == 2
    err = capsys.readouterr().err
    assert f"{point!r} is not a plain name" in err and "results.csv, line 3: point" in err and err.count("\n") == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_point_folder_that_links_outside_the_sweep_is_refused(tmp_path, capsys):
    _sweep(tmp_path / "a", ["p1", "p2"])
    _sweep(tmp_path / "outside", ["p2"], steps=300)
    shutil.rmtree(tmp_path / "a" / "p2")
    (tmp_path / "a" / "p2").symlink_to(tmp_path / "outside" / "p2")
    assert main(["records", str(tmp_path / "a"), "--to", str(tmp_path / "rec")]) == 2
    err = capsys.readouterr().err
    assert "a/p2 is a link to" in err and "outside" in err and err.count("\n") == 1
    assert not (tmp_path / "rec").exists()
    # A link inside a point folder is refused as well: no file is read from outside the sweep.
    (tmp_path / "a" / "p2").unlink()
    (tmp_path / "a" / "p2").mkdir()
    (tmp_path / "a" / "p2" / "config.toml").symlink_to(tmp_path / "outside" / "p2" / "config.toml")
    assert main(["records", str(tmp_path / "a"), "--to", str(tmp_path / "rec")]) == 2
    assert "config.toml is a link to" in capsys.readouterr().err


@pytest.mark.parametrize("name, content, fragment", [
    ("results.csv", b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", "results.csv is not a results table"),
    ("results.csv", b"name,status\np1,complete\n", "results.csv is not a results table (no 'point' column)"),
    ("results.csv", b"point,status\n,complete\n", "results.csv, line 2: point: the name is empty"),
    ("results.csv", b"point,status\np1,complete,extra\n", "results.csv, line 2: more cells than the header"),
    ("summary.csv", b"\x00\x01\x02\xff\xfe", "summary.csv is not a results table"),
    ("p1/summary.json", b"\xff\xfe\x00\x01", "cannot read this run summary"),
    ("p1/summary.json", b"[]", "holds list, not a JSON object"),
    ("p1/metrics.jsonl", b"\xff\xfe\x00\x01\n{}", "metrics.jsonl"),
    ("p1/config.toml", b"\xff\xfe\x00", "not a run config"),
    ("sweep.json", b"[1, 2]", "not a sweep description"),
])
def test_a_damaged_source_file_is_one_line_naming_it(name, content, fragment, tmp_path, capsys):
    _sweep(tmp_path / "a", ["p1", "p2"])
    (tmp_path / "a" / name).write_bytes(content)
    assert main(["records", str(tmp_path / "a"), "--to", str(tmp_path / "rec")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and fragment in err and str(tmp_path / "a" / name.split("/")[0]) in err
    assert not (tmp_path / "rec").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_a_destination_that_cannot_be_written_is_refused_before_reading(tmp_path, capsys):
    _sweep(tmp_path / "a", ["p1"])
    (tmp_path / "file").write_text("a file, not a folder")
    for dest, fragment in ((tmp_path / "file" / "rec", "is a file, not a folder"),
                           (tmp_path / "file", "is a file, not a folder"),
                           ("/proc/rnnlab-record", "cannot write")):
        assert main(["records", str(tmp_path / "a"), "--to", str(dest)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rnnlab records: error: --to") and fragment in err and err.count("\n") == 1


# ---------------------------------------------------------------- final parameters


def _checkpoint(run, params, step, seeds=2):
    """A data-only checkpoint of ``params`` (arrays with a leading seed axis) at ``step`` in ``run``."""
    import jax

    from rnnlab.training import loop, run_folder

    state = loop.TrainState(params, (), np.zeros((seeds,), np.int32))
    run_folder.save_checkpoint(run / "checkpoint.npz", state, step, 1.0, jax.random.split(jax.random.key(0), seeds))


def _params(rng, n, seeds=2):
    return {"W": (rng.standard_normal((seeds, n, n)) + 1j * rng.standard_normal((seeds, n, n))).astype(np.complex64),
            "W_in": rng.standard_normal((seeds, n, 2)).astype(np.float32),
            "b": rng.standard_normal((seeds, n)).astype(np.float32)}


def test_a_record_keeps_each_complete_points_final_parameters_exactly(tmp_path, capsys):
    rng = np.random.default_rng(0)
    _sweep(tmp_path / "a", ["small", "large", "stale", "blown"])
    _set_rows(tmp_path / "a", blown={"status": "diverged"})
    small, large = _params(rng, 4), _params(rng, 64)
    _checkpoint(tmp_path / "a" / "small", small, 1000)
    _checkpoint(tmp_path / "a" / "large", large, 1000)  # 2 seeds x 64 x 64 complex64: 64 KiB and more
    _checkpoint(tmp_path / "a" / "stale", small, 990)  # not the run's last step
    _checkpoint(tmp_path / "a" / "blown", small, 1000)
    rec = tmp_path / "rec"
    assert main(["records", str(tmp_path / "a"), "--to", str(rec), "--params-limit", "64"]) == 0
    assert "final parameters kept for 1 point(s), not kept for 3" in capsys.readouterr().out
    got = records.load_params(rec / "small")
    assert sorted(got) == ["W", "W_in", "b"]
    for name, value in small.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape and np.array_equal(got[name], value)
    with np.load(rec / "small" / "params.npz", allow_pickle=False) as plain:  # data only: NumPy alone reads it
        assert np.array_equal(plain["W"], small["W"])
    made = json.loads((rec / "record.json").read_text())["params"]
    assert made["limit_bytes"] == 64 * 1024 and made["kept"] == ["small"]
    size = sum(a.nbytes for a in large.values())
    assert made["left_out"]["large"] == f"{size} bytes of parameters, over the limit of {64 * 1024}"
    assert "step 990" in made["left_out"]["stale"] and "not complete (diverged)" in made["left_out"]["blown"]
    for point, why in (("large", "over the limit"), ("blown", "not complete")):
        with pytest.raises(UsageError, match=f"{point} has no saved parameters .*{why}"):
            records.load_params(rec / point)
    # Extended in place with the default limit: the kept parameters carry over unchanged (the
    # sweep folder is gone), and the old left-out reasons with them.
    shutil.rmtree(tmp_path / "a")
    _sweep(tmp_path / "b", ["new"])
    _checkpoint(tmp_path / "b" / "new", large, 1000)
    records.export([rec, tmp_path / "b"], rec)
    assert (rec / "small" / "params.npz").read_bytes() and np.array_equal(records.load_params(rec / "small")["W"], small["W"])
    assert np.array_equal(records.load_params(rec / "new")["W"], large["W"])
    made = json.loads((rec / "record.json").read_text())["params"]
    assert made["kept"] == ["new", "small"] and "over the limit" in made["left_out"]["large"]


def test_a_record_made_before_parameters_were_kept_stays_readable_and_extends(tmp_path):
    rng = np.random.default_rng(1)
    _sweep(tmp_path / "a", ["p1", "p2"])
    rec = tmp_path / "rec"
    records.export([tmp_path / "a"], rec)
    made = json.loads((rec / "record.json").read_text())
    del made["params"]  # as every record written before parameters were kept
    (rec / "record.json").write_text(json.dumps(made))
    assert [r["point"] for r in sweep.read_results(rec)] == ["p1", "p2"]
    with pytest.raises(UsageError, match="made before records kept parameters"):
        records.load_params(rec / "p1")
    _sweep(tmp_path / "b", ["p3"])
    new = _params(rng, 3)
    _checkpoint(tmp_path / "b" / "p3", new, 1000)
    records.export([rec, tmp_path / "b"], rec)
    made = json.loads((rec / "record.json").read_text())["params"]
    assert made["kept"] == ["p3"] and made["left_out"]["p1"] == "recorded before records kept parameters"
    assert np.array_equal(records.load_params(rec / "p3")["b"], new["b"])


def _zip_with(path, name, data):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, data)


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.write_text("not a zip"), "not a parameters file"),
    (lambda p: np.savez(p, W=np.array([{"code": 1}], dtype=object)), "Object arrays cannot be loaded"),
    (lambda p: np.savez(p, W=np.arange(4)), "dtype int64, not floating point"),
    (lambda p: np.savez(p, W=np.array(["a", "b"])), "not floating point"),
    (lambda p: _zip_with(p, "run.py", b"import os"), "files that are not arrays"),
    (lambda p: np.savez(p), "no arrays"),
    (lambda p: (np.savez(p, W=np.zeros((64, 64), np.float32)), p.write_bytes(p.read_bytes()[:300])), "not a parameters file"),
])
def test_load_params_refuses_a_damaged_or_executable_file(make, fragment, tmp_path):
    (tmp_path / "p").mkdir()
    make(tmp_path / "p" / "params.npz")
    with pytest.raises(UsageError, match=fragment):
        records.load_params(tmp_path / "p")


def test_a_trained_sweep_points_parameters_are_recorded_as_its_checkpoint_holds_them(tmp_path):
    # End to end: a point trained with two vmapped seeds, gathered as a sweep gathers it, recorded.
    import dataclasses

    from rnnlab.training import loop

    spec = tmp_path / "s.toml"
    spec.write_text('task = "addition"\nn = 3\nT = 4\nsteps = 10\nbatch = 4\nlog_every = 5\neval_every = 5\n'
                    'eval_batch = 4\nseeds = 2\n[grid]\nmodel = ["irnn"]\n')
    pts = sweep.points(sweep.load(spec))
    out = tmp_path / "sw"
    for p in pts:
        assert loop.run(dataclasses.replace(p.config, out=str(out / p.name), progress=False), log=lambda *a: None) == 0
    sweep.gather(out, pts)
    sweep.summarize(out, pts)
    records.export([out], tmp_path / "rec")
    got = records.load_params(tmp_path / "rec" / "model-irnn")
    with np.load(out / "model-irnn" / "checkpoint.npz", allow_pickle=False) as ckpt:
        saved = {k.removeprefix("state.params['").removesuffix("']"): ckpt[k] for k in ckpt.files
                 if k.startswith("state.params")}
    assert sorted(got) == sorted(saved) and "W" in got
    for name in saved:
        assert got[name].dtype == np.float32 and got[name].shape[0] == 2 and np.array_equal(got[name], saved[name])
