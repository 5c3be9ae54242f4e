"""The committed records under results/ stay readable: every figure that has one redraws from
it without training, and its table holds the numbers of the record's results.csv."""

import csv
import importlib
import math
import statistics
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDS = sorted(p.parent.name for p in (ROOT / "results").glob("*/results.csv")
                 if (ROOT / "paper_figures" / f"{p.parent.name}.py").is_file())


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_paper_size_record_has_a_figure():
    # Records of full-size runs are named after the figure script that draws them.
    assert {"full_urnn_copy", "full_urnn_system_id", "mnist_table", "np_rnn_addition", "np_rnn_mnist",
            "speech_table"} <= set(RECORDS)


@pytest.mark.parametrize("name", RECORDS)
def test_figure_redraws_from_its_record(name, tmp_path):
    module = importlib.import_module(f"paper_figures.{name}")
    assert module.main(["--from", str(ROOT / "results" / name), "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    table = _rows(tmp_path / f"{name}.csv")
    results = _rows(ROOT / "results" / name / "results.csv")
    if name == "np_rnn_addition":
        # Each (task, T, model, optimiser, lr) row is the median over the seeds that finished.
        def key(r):
            return r["task"], r["T"], r["model"], r["optimiser"], float(r["lr"])

        for row in (r for r in table if r["status"] == "complete"):
            # A seed that ran twice (a search point repeated by its table) counts once.
            finals = list({r["final_seed"]: float(r["final_test_mse"]) for r in results if r["status"] == "complete"
                           and key(r) == key(row)}.values())
            assert float(row["test_mse"]) == statistics.median(finals)
            assert int(row["seeds"]) == len(finals)
            # Over all seeds: a diverged seed fails and counts as infinite in the median; a
            # success ends below 10% of the blind guess's MSE on this very test batch.
            stopped = len({r["final_seed"] for r in results if r["status"] == "diverged" and key(r) == key(row)})
            everyone = finals + [math.inf] * stopped
            assert float(row["test_mse_all"]) == statistics.median(everyone)
            assert float(row["success_rate"]) == sum(v < 0.1 * float(row["test_baseline"]) for v in finals) / len(everyone)
        # The baseline drawn is the blind guess's MSE on the very test batch of each T.
        from rnnlab.training import tasks
        from rnnlab.training.evaluation import fixed_batch

        for row in (r for r in table if r["status"] == "complete" and r["task"] == "addition"):
            _, y = fixed_batch(tasks.make("addition", int(row["T"]), 100), "test", 1000)
            measured = float(np.mean((np.asarray(y, np.float64) - 1.0) ** 2))
            assert float(row["test_baseline"]) == pytest.approx(measured, rel=1e-5)
    elif name == "full_urnn_system_id":
        for row in table:
            finals = [float(r["final_test_mse"]) for r in results
                      if (r["model"], r["target"], r["n"]) == (row["learner"], row["target"], row["n"])]
            assert len(finals) == 4 and float(row["test_mse_min"]) == min(finals)
    elif name == "mnist_table":
        # One row per model, N, clipping and length; each task's test accuracy is the median of its seeds.
        key = lambda r: (r["model"], r["n"], float(r["clip"] or 0), r["steps"])  # noqa: E731
        assert len(table) == len({key(r) for r in results})
        for r in results:
            row = next(t for t in table if key(t) == key(r))
            kind = "permuted" if r["task"] == "pmnist" else "unpermuted"
            finals = [float(x["final_test_accuracy"]) for x in results if key(x) == key(r) and x["task"] == r["task"]]
            assert float(row[f"test_accuracy_{kind}"]) == statistics.median(finals)
            assert int(row[f"seeds_{kind}"]) == len(finals)
    else:
        assert table, f"{name}: empty table"


def test_np_rnn_addition_draws_a_learning_rate_search_beside_the_t_sweep():
    # A record holding the Adam table and an SGD search at one T: the search gets its own
    # panel (test MSE vs lr), keyed apart from the Adam rows, never merged into their medians.
    from paper_figures import np_rnn_addition as fig

    def run(model, T, opt, lr, mse, status="complete"):
        return dict(task="addition", T=T, model=model, optimiser=opt, lr=lr, n=100, num_params=10401,
                    baseline=0.167, status=status, final_test_mse=mse if status == "complete" else None, seed=0,
                    test_baseline=0.16)

    results = [run("np-rnn", T, "adam", 1e-3, mse) for T, mse in ((150, 0.003), (200, 0.02))]
    results += [run("np-rnn", 150, "sgd", lr, mse) for lr, mse in ((1e-3, 0.16), (1e-2, 0.05))]
    results += [run("np-rnn", 150, "sgd", 1e-1, None, status="diverged")]
    rows = fig.table_rows(results)
    assert fig._panels(rows) == [("addition", "adam", "T", None), ("addition", "sgd", "lr", 150)]
    done = {(r["optimiser"], r["lr"]): r["test_mse"] for r in rows if r["status"] == "complete" and r["T"] == 150}
    assert done == {("adam", 1e-3): 0.003, ("sgd", 1e-3): 0.16, ("sgd", 1e-2): 0.05}
    assert [(r["optimiser"], r["lr"]) for r in rows if r["status"] == "diverged"] == [("sgd", 1e-1)]


def test_np_rnn_addition_counts_a_seed_that_ran_twice_once():
    # The SGD table's best rate at T = 150, seed 0, is its search's point run again: the median
    # is over seeds 0, 1, 2, not over 0, 0, 1, 2 (which would move it to seed 0's value).
    from paper_figures import np_rnn_addition as fig

    def run(seed, mse, status="complete"):
        return dict(task="addition", T=150, model="irnn", optimiser="sgd", lr=1e-2, n=100, num_params=10401,
                    baseline=0.167, status=status, final_test_mse=mse, seed=seed, test_baseline=0.16)

    rows = fig.table_rows([run(0, 0.01), run(0, 0.01), run(1, 0.03), run(2, 0.05), run(3, None, "diverged"),
                           run(3, None, "diverged")])
    done = [r for r in rows if r["status"] == "complete"]
    assert [(r["test_mse"], r["seeds"], r["diverged"]) for r in done] == [(0.03, 3, 1)]
    # Over all four seeds (seed 3 diverged: infinite, a failure): median (0.03 + 0.05) / 2,
    # one success below 10% of the batch baseline 0.16.
    assert (done[0]["test_mse_all"], done[0]["success_rate"]) == (pytest.approx(0.04, rel=1e-15), 0.25)
    assert [(r["seed"], r["status"]) for r in rows if r["status"] != "complete"] == [(3, "diverged")]
    # Seeds vmapped in one point share the point's seed and differ in final_seed: all count.
    vmapped = [run(0, mse) | {"final_seed": k} for k, mse in enumerate((0.01, 0.02, 0.04))]
    assert [(r["test_mse"], r["seeds"]) for r in fig.table_rows(vmapped)] == [(0.02, 3)]


def test_mnist_table_pools_seeds_of_one_setting_only():
    # Seeds of one model, N, clipping and length pool into a median with its range; a run of
    # another length, or the LSTM clipped, keeps its own row; a seed met twice counts once.
    from paper_figures import mnist_table as fig

    def run(model, task, seed, acc, steps=5000, clip=0.0):
        return dict(model=model, n=116, clip=clip, task=task, num_params=16134, T=784, steps=steps, batch=100,
                    final_test_accuracy=acc, final_val_accuracy=acc + 0.01, final_seed=seed)

    # The median (0.86) is neither the mean, the last seed, nor the median with the repeat counted.
    rows = fig.table_rows([run("full-urnn", "mnist", 0, 0.90), run("full-urnn", "mnist", 1, 0.86),
                           run("full-urnn", "mnist", 2, 0.80), run("full-urnn", "mnist", 2, 0.80),
                           run("full-urnn", "pmnist", 0, 0.91), run("full-urnn", "mnist", 0, 0.95, steps=20000),
                           run("lstm", "mnist", 0, 0.20), run("lstm", "mnist", 0, 0.10, clip=1.0)])
    by = {(r["model"], r["clip"], r["steps"]): r for r in rows}
    assert len(rows) == 4
    full = by["full-urnn", 0.0, 5000]
    assert (full["test_accuracy_unpermuted"], full["test_accuracy_unpermuted_min"],
            full["test_accuracy_unpermuted_max"], full["seeds_unpermuted"]) == (0.86, 0.80, 0.90, 3)
    assert full["val_accuracy_unpermuted"] == pytest.approx(0.87, abs=1e-12)
    assert (full["test_accuracy_permuted"], full["seeds_permuted"]) == (0.91, 1)
    assert by["full-urnn", 0.0, 20000]["test_accuracy_unpermuted"] == 0.95
    lstm = [by["lstm", clip, 5000]["test_accuracy_unpermuted"] for clip in (0.0, 1.0)]
    assert lstm == [0.20, 0.10]
    assert fig._cell(full, "unpermuted") == "86.0 (80.0-90.0, 3)" and fig._cell(full, "permuted") == "91.0"


def test_mnist_table_pools_only_runs_of_identical_settings():
    # Seeds pool only where every config field but the seed agrees: a run at another learning
    # rate, modReLU eps or initial state is another row, labelled with every setting that varies
    # between the rows of its model and N (the clipping and length have their own labels). A cell
    # left empty (a record written before modrelu_eps / h0 existed) reads as the field's default.
    from paper_figures import mnist_table as fig

    def run(seed, acc, **setting):
        return dict(model="restricted-urnn", n=512, task="mnist", num_params=15370, T=784, steps=5000,
                    batch=100, optimiser="rmsprop", clip=0.0, final_test_accuracy=acc,
                    final_val_accuracy=acc, final_seed=seed) | setting

    rows = fig.table_rows([run(0, 0.93, lr=1e-4), run(1, 0.95, lr=1e-4, modrelu_eps=0.0, h0="zero"),
                           run(2, 0.90, lr=1e-3), run(0, 0.80, lr=1e-4, modrelu_eps=1e-5),
                           run(0, 0.70, lr=1e-4, h0="learned")])
    got = {(r["lr"], r["modrelu_eps"], r["h0"]): (r["test_accuracy_unpermuted"], r["seeds_unpermuted"], r["differs"])
           for r in rows}
    assert got == {(1e-4, 0.0, "zero"): (0.94, 2, "lr 0.0001 modrelu_eps 0 h0 zero"),
                   (1e-3, 0.0, "zero"): (0.90, 1, "lr 0.001 modrelu_eps 0 h0 zero"),
                   (1e-4, 1e-5, "zero"): (0.80, 1, "lr 0.0001 modrelu_eps 1e-05 h0 zero"),
                   (1e-4, 0.0, "learned"): (0.70, 1, "lr 0.0001 modrelu_eps 0 h0 learned")}
    # An unset rate or clip is the model's default (the uRNNs': RMSprop lr 1e-3, no clip).
    assert len(fig.table_rows([run(0, 0.9, lr=1e-3), run(1, 0.9, lr=None, clip=None)])) == 1


def test_mnist_table_rounds_a_tie_half_up():
    # 1135 of 10^4 test images is 11.35%: 11.4 by hand, though 100 * 0.1135 formats as 11.3.
    from paper_figures import mnist_table as fig

    assert [fig.percent(x) for x in (0.1135, 0.0980, 0.8837, 0.91245)] == ["11.4", "9.8", "88.4", "91.2"]
    assert fig.percent(0.11345, 2) == "11.35"
    row = dict(test_accuracy_unpermuted=0.1028, test_accuracy_unpermuted_min=0.098,
               test_accuracy_unpermuted_max=0.1135, seeds_unpermuted=3)
    assert fig._cell(row, "unpermuted") == "10.3 (9.8-11.4, 3)"


def test_speech_table_redraws_a_record_without_the_corpus(tmp_path, monkeypatch):
    # A record must redraw where espeak-ng and its corpus are absent: no synthesis, the model
    # rows as recorded, and the model-free reference rows left out with the reason saved.
    import json

    from paper_figures import speech_table
    from rnnlab.training.datasets import espeak

    def no_synthesis(*args, **kwargs):
        raise AssertionError("the corpus was synthesised while redrawing a record")

    monkeypatch.setattr(espeak, "_generate", no_synthesis)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "empty-cache"))
    record = tmp_path / "record"
    record.mkdir()
    cols = ["point", "status", "model", "n", "T", "steps", "final_seed", "num_params", "wall_time",
            "final_val_mse", "final_test_mse", "final_test_segsnr"]
    with open(record / "results.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerow(["size-model-lstm_n-84", "complete", "lstm", 84, 300, 20000, 0, 82869, 1100.5, 0.81, 0.83, 6.1])
    out = tmp_path / "fig"
    assert speech_table.main(["--from", str(record), "--out", str(out)]) == 0
    rows = _rows(out / "speech_table.csv")
    assert [(r["model"], r["n"], r["params"], float(r["test_mse"]), float(r["test_segsnr"])) for r in rows] == [
        ("lstm", "84", "82869", 0.83, 6.1)]
    meta = json.loads((out / "speech_table.json").read_text())
    assert meta["config"]["reference_rows"].startswith("omitted")


def test_speech_table_draws_the_recorded_reference_rows(tmp_path, monkeypatch):
    # The committed record holds the model-free rows with all four metrics (STOI and PESQ need
    # optional packages, the corpus needs espeak-ng): a redraw takes them from the record, with
    # neither installed and no corpus generated, and draws them beside the models.
    import json

    from paper_figures import speech_table
    from rnnlab.training.datasets import espeak

    def no_synthesis(*args, **kwargs):
        raise AssertionError("the corpus was synthesised while redrawing a record")

    monkeypatch.setattr(espeak, "_generate", no_synthesis)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "empty-cache"))
    record = ROOT / "results" / "speech_table"
    assert speech_table.main(["--from", str(record), "--out", str(tmp_path)]) == 0
    recorded = json.loads((record / speech_table.REFERENCES).read_text())
    assert recorded["corpus"]["source"] == "espeak" and recorded["made_by"].startswith("python -m paper_figures")
    drawn = {r["model"]: r for r in _rows(tmp_path / "speech_table.csv") if r["params"] == "0"}
    assert set(drawn) == {"previous frame (no model)", "train mean frame (no model)"}
    for row in recorded["rows"]:
        for key in ("test_mse", "test_segsnr", "test_stoi", "test_pesq"):
            assert float(drawn[row["model"]][key]) == row[key]
    meta = json.loads((tmp_path / "speech_table.json").read_text())
    assert meta["config"]["reference_rows"].startswith("read from")


def test_speech_reference_rows_weight_mse_by_frames():
    # Scored as a model's predictions are: the MSE over all test frames pooled (the training
    # loss), not a mean of per-utterance MSEs (the generated corpus's utterances differ in length).
    import numpy as np

    from paper_figures import speech_table
    from rnnlab.training.datasets import load_speech

    test = load_speech("synthetic", "test", progress=False)
    assert len({len(u.frames) for u in test}) > 1
    pooled = np.concatenate([(u.frames[1:].astype(np.float64) - u.frames[:-1]) ** 2 for u in test]).mean()
    rows = {r["model"]: r for r in speech_table.reference_rows("synthetic")}
    assert rows["previous frame (no model)"]["test_mse"] == pytest.approx(pooled, rel=64 * np.finfo(float).eps)
    assert "test_stoi" not in rows["previous frame (no model)"]
