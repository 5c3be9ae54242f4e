"""The speech next-frame task: a tiny run on the generated corpus, the mask, and usage errors."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.training import cells, tasks
from rnnlab.training.datasets import evaluate_prediction, speech_corpus

SYNTHETIC = "synthetic"  # the generated corpus: 16 / 4 / 4 utterances, no espeak-ng needed


def test_tiny_run_learns_and_reports_val_and_test_metrics(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--task", "speech", "--data", SYNTHETIC, "--model", "lstm", "--n", "16", "--T", "24",
            "--batch", "4", "--steps", "60", "--optimiser", "adam", "--lr", "0.01", "--log-every", "10",
            "--eval-every", "30", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows]
    assert all(np.isfinite(losses)) and np.mean(losses[-2:]) < losses[0]
    assert {"val_mse", "val_segsnr"} <= set(rows[2]) and "test_mse" not in rows[2]
    last = rows[-1]
    assert {"val_mse", "val_segsnr", "test_mse", "test_segsnr"} <= set(last)
    assert np.isfinite(last["test_mse"])
    if tasks.speech._speech_extra_metrics_available():
        assert "test_stoi" in last and "test_pesq" in last
    info = json.loads((out / "speech_data.json").read_text())
    assert info == {"source": "synthetic", "utterances": {"train": 16, "val": 4, "test": 4}}
    # The training-set mean frame is the baseline; a trained model beats it on test.
    summary = json.loads((out / "summary.json").read_text())
    assert last["test_mse"] < summary["baseline"]
    # ... and on SegSNR: predicting the training mean frame for every frame of the same test
    # utterances, scored by the same metric, is the reference to beat.
    corpus = speech_corpus(SYNTHETIC)
    mean_frame = [evaluate_prediction(u, np.tile(corpus.mean, (len(u.frames) - 1, 1)))["segsnr"]
                  for u in corpus.splits["test"]]
    assert last["test_segsnr"] > np.mean(mean_frame)


def test_mask_and_loss_match_the_frames():
    task = tasks.make("speech", 60, 8, data=SYNTHETIC)  # longer than every utterance: all padded
    corpus = task.corpus()
    idx = jnp.arange(4)
    x, (y, mask) = jax.jit(task.crops)(idx, jax.random.key(0))
    assert x.shape == (60, 4, 129) and y.shape == (60, 4, 129) and mask.shape == (60, 4)
    lengths = corpus.lengths[:4]
    # No crop (T + 1 > length): starts at 0, mask = targets 1..length-1.
    np.testing.assert_array_equal(np.asarray(mask).sum(axis=0), lengths - 1)
    utts = corpus.splits["train"][:4]
    for b, u in enumerate(utts):
        np.testing.assert_allclose(np.asarray(y)[: len(u.frames) - 1, b], u.frames[1:])
        np.testing.assert_allclose(np.asarray(x)[: len(u.frames) - 1, b] * corpus.std + corpus.mean,
                                   u.frames[:-1], rtol=1e-5, atol=1e-4)
    cell = cells.make("lstm", 8, task.n_in, task.n_out)
    params = cell.init(jax.random.key(1))
    apply = jax.jit(lambda x: cell.apply(params, x, True))
    jit_loss = jax.jit(lambda x, y: task.loss(cell.apply(params, x, True), (y, mask)))

    def loss(x, y):
        return float(jit_loss(x, y))

    base = loss(x, y)
    # The loss is the mean over valid frames of the per-frame MSE, as evaluate_prediction computes it.
    pred = np.asarray(task.predict(apply(x)))
    sq = sum(evaluate_prediction(u, pred[: len(u.frames) - 1, b])["mse"] * (len(u.frames) - 1)
             for b, u in enumerate(utts))
    assert base == pytest.approx(sq / (lengths - 1).sum(), rel=1e-5)
    # Padded frames change nothing: garbage targets where masked, garbage inputs past the end.
    noise = np.random.default_rng(2).normal(size=y.shape).astype(np.float32) * 100
    pad = ~np.asarray(mask)[..., None]
    assert loss(x, np.where(pad, noise, y)) == pytest.approx(base, rel=1e-6)
    past_end = (np.arange(60)[:, None] >= lengths[None, :])[..., None]
    assert past_end.any()
    assert loss(np.where(past_end, noise, x), y) == pytest.approx(base, rel=1e-6)


def test_missing_stoi_pesq_is_said_when_the_run_starts(monkeypatch, capsys):
    # The test split is scored only after the last step: a user without the extra must learn
    # at the start that STOI and PESQ will be missing, not hours later.
    monkeypatch.setattr(tasks.speech, "_speech_extra_metrics_available", lambda: False)
    task = tasks.make("speech", 24, 4, data=SYNTHETIC)
    cell = cells.make("lstm", 8, task.n_in, task.n_out)
    evaluate = task.split_eval(cell, 4, 1)
    assert "STOI and PESQ will be omitted" in capsys.readouterr().err
    params = jax.tree.map(lambda a: a[None], cell.init(jax.random.key(0)))
    metrics = evaluate(params, "test")
    assert {"mse", "segsnr"} <= set(metrics) and not {"stoi", "pesq"} & set(metrics)
    assert capsys.readouterr().err == ""  # said once, not again at the evaluation


def test_crops_of_long_utterances_and_step_batches():
    task = tasks.make("speech", 10, 8, data=SYNTHETIC)
    corpus = task.corpus()
    sample_step = jax.jit(task.sample_step, static_argnums=2)
    x, (y, mask) = sample_step(jax.random.key(0), 3, 3)
    again = sample_step(jax.random.key(0), 3, 3)[0]
    np.testing.assert_array_equal(x, again)
    assert bool(mask.all())  # every utterance is longer than 11 frames: a full crop, no padding
    # Each target row is a run of 10 consecutive frames of some training utterance.
    frames = corpus.frames
    for b in range(3):
        first = np.asarray(y)[0, b]
        row = int(np.flatnonzero((frames == first).all(axis=1))[0])
        np.testing.assert_array_equal(np.asarray(y)[:, b], frames[row:row + 10])


@pytest.mark.parametrize(
    "extra,fragment",
    [(["--data", "/nonexistent"], "not a folder"), (["--T", "0"], "T must be >= 1"),
     (["--batch", "17"], "exceeds the 16 training utterances")],
)
def test_speech_usage_errors(extra, fragment, tmp_path, capsys):
    args = ["train", "--task", "speech", "--model", "lstm", "--n", "4", "--steps", "2", "--log-every", "1",
            "--eval-every", "1", "--no-progress", "--data", SYNTHETIC, "--out", str(tmp_path / "r")]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_missing_espeak_is_a_usage_error(tmp_path, monkeypatch, capsys):
    from rnnlab.training.datasets import espeak

    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    speech_corpus.cache_clear()
    try:
        assert main(["train", "--task", "speech", "--model", "lstm", "--n", "4", "--steps", "2",
                     "--no-progress", "--out", str(tmp_path / "r")]) == 2
    finally:
        speech_corpus.cache_clear()
    err = capsys.readouterr().err
    assert "espeak-ng" in err and "make speech-data" in err and err.count("\n") == 1
