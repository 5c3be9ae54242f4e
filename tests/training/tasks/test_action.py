"""The action-recognition task: the feature-folder loader and its errors, masking, a real run."""

import dataclasses
import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import binom

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training import cells, tasks
from rnnlab.training.tasks.action import last_step, pad_clips
from rnnlab.training.datasets.actions import GeneratedSpec, load_actions, write_generated

TINY = GeneratedSpec(classes=3, features=4, train_per_class=2, val_per_class=1, test_per_class=1,
                     min_frames=3, max_frames=7, seed=5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_generated(tmp_path_factory.mktemp("actions") / "tiny", TINY)


@pytest.fixture
def copy(tiny, tmp_path):
    """A fresh copy of the tiny set to break."""
    return shutil.copytree(tiny, tmp_path / "broken")


def test_loader_reads_back_what_was_written(tiny):
    data = load_actions(tiny)
    assert data.classes == ("class00", "class01", "class02") and data.feature_dim == 4
    train = data.splits["train"]
    assert len(train.clips) == 6 and list(train.labels) == [0, 0, 1, 1, 2, 2]
    for i, clip in enumerate(train.clips):
        saved = np.load(tiny / "features" / f"{clip}.npy")
        assert train.lengths[i] == len(saved) and 3 <= len(saved) <= 7
        np.testing.assert_array_equal(train.clip(i), saved)


def test_digest_follows_the_content(tiny, copy):
    assert load_actions(copy).digest() == load_actions(tiny).digest()
    npy = copy / "features" / f"{_first_clip(copy, 'test')}.npy"
    a = np.load(npy)
    a[-1, -1] += 1e-3
    np.save(npy, a)
    assert load_actions(copy).digest() != load_actions(tiny).digest()


def test_ucf101_style_lists_and_npz(copy):
    """classInd.txt lines "1 Name", trainlist lines "Name/clip.avi 1", .npz arrays, sub-folders."""
    data = load_actions(copy)
    (copy / "classes.txt").write_text("1 class00\n2 class01\n3 class02\n")
    for split in ("train", "val", "test"):
        path = copy / "splits" / f"{split}.txt"
        clips = path.read_text().split()
        path.write_text("".join(f"g/{c}.avi {i % 3 + 1}\n" for i, c in enumerate(clips)))
    (copy / "features" / "g").mkdir()
    for f in (copy / "features").glob("*.npy"):
        np.savez(copy / "features" / "g" / f"{f.stem}.npz", features=np.load(f), other=np.zeros(2))
        f.unlink()
    rows = (copy / "labels.csv").read_text().splitlines()
    (copy / "labels.csv").write_text("\n".join([rows[0]] + [f"g/{r}" for r in rows[1:]]) + "\n")
    again = load_actions(copy)
    assert again.classes == data.classes
    for split in data.splits:
        np.testing.assert_array_equal(again.splits[split].frames, data.splits[split].frames)
        np.testing.assert_array_equal(again.splits[split].labels, data.splits[split].labels)


def _first_clip(root, split="train"):
    return (root / "splits" / f"{split}.txt").read_text().split()[0]


def _break(root, what):
    clip = _first_clip(root)
    npy = root / "features" / f"{clip}.npy"
    if what == "no classes.txt":
        (root / "classes.txt").unlink()
    elif what == "no labels.csv":
        (root / "labels.csv").unlink()
    elif what == "no val split":
        (root / "splits" / "val.txt").unlink()
    elif what == "missing feature file":
        npy.unlink()
    elif what == "1-D array":
        np.save(npy, np.zeros(5, np.float32))
    elif what == "3-D array":
        np.save(npy, np.zeros((5, 4, 1), np.float32))
    elif what == "zero frames":
        np.save(npy, np.zeros((0, 4), np.float32))
    elif what == "other feature count":
        np.save(npy, np.zeros((5, 3), np.float32))
    elif what == "NaN":
        a = np.load(npy)
        a[1, 2] = np.nan
        np.save(npy, a)
    elif what == "unknown label":
        text = (root / "labels.csv").read_text()
        (root / "labels.csv").write_text(text.replace(f"{clip},class00", f"{clip},Skiing"))
    elif what == "bad header":
        text = (root / "labels.csv").read_text()
        (root / "labels.csv").write_text(text.replace("clip,label", "video,class"))
    elif what == "clip in two splits":
        with open(root / "splits" / "test.txt", "a") as fh:
            fh.write(clip + "\n")
    elif what == "clip without label":
        with open(root / "splits" / "test.txt", "a") as fh:
            fh.write("unseen_clip\n")
    elif what == "labelled twice":
        with open(root / "labels.csv", "a") as fh:
            fh.write(f"{clip},class01\n")
    elif what == "two arrays in npz":
        np.savez(npy.with_suffix(".npz"), a=np.zeros((3, 4)), b=np.zeros((3, 4)))
        npy.unlink()
    elif what == "npy and npz":
        np.savez(npy.with_suffix(".npz"), features=np.zeros((3, 4)))
    elif what == "repeated class":
        with open(root / "classes.txt", "a") as fh:
            fh.write("class01\n")
    elif what == "empty split":
        (root / "splits" / "val.txt").write_text("\n")
    elif what == "not an array":
        npy.write_bytes(b"not numpy")


ERRORS = {
    "no classes.txt": "missing class list",
    "no labels.csv": "missing labels file",
    "no val split": "missing split list",
    "missing feature file": "missing feature file",
    "1-D array": "expected a (frames, features) array, got shape (5,)",
    "3-D array": "got shape (5, 4, 1)",
    "zero frames": "empty array",
    "other feature count": "features per frame but",
    "NaN": "NaN",
    "unknown label": "unknown label 'Skiing'",
    "bad header": "header line 'clip,label'",
    "clip in two splits": "in both train and test",
    "clip without label": "'unseen_clip' of splits/test.txt has no row in labels.csv",
    "labelled twice": "labelled twice",
    "two arrays in npz": "name it 'features'",
    "npy and npz": "keep one",
    "repeated class": "class 'class01' appears twice",
    "empty split": "is empty",
    "not an array": "cannot read",
}


@pytest.mark.parametrize("what", ERRORS)
def test_malformed_folder_is_one_clear_error(copy, what):
    _break(copy, what)
    with pytest.raises(ValueError, match=None) as info:
        load_actions(copy)
    assert isinstance(info.value, UsageError)
    message = str(info.value)
    assert ERRORS[what] in message and "\n" not in message


def test_cli_error_is_one_line_exit_2(copy, tmp_path, capsys):
    _break(copy, "unknown label")
    args = ["train", "--task", "action", "--data", str(copy), "--model", "np-rnn", "--n", "4",
            "--steps", "10", "--no-progress", "--out", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab train: error:") and "unknown label 'Skiing'" in err and err.count("\n") == 1
    assert main(args[:4] + [str(tmp_path / "nowhere")] + args[5:]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_generated_set_is_a_function_of_its_seed(tmp_path):
    a = load_actions(write_generated(tmp_path / "a", TINY))
    b = load_actions(write_generated(tmp_path / "b", TINY))
    c = load_actions(write_generated(tmp_path / "c", GeneratedSpec(**{**TINY.__dict__, "seed": 6})))
    np.testing.assert_array_equal(a.splits["test"].frames, b.splits["test"].frames)
    assert a.splits["test"].frames.shape != c.splits["test"].frames.shape or not np.array_equal(
        a.splits["test"].frames, c.splits["test"].frames)
    with pytest.raises(UsageError, match="not an empty folder"):
        write_generated(tmp_path / "a", TINY)


def test_models_counts_parameters_from_the_data(tiny, capsys):
    assert main(["models", "--task", "action", "--n", "10", "--data", str(tiny)]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    n, f, k = 10, 4, 3  # W, V, b, readout W_out and b_out
    assert rows["np-rnn"] == rows["irnn"] == str(n * n + n * f + n + n * k + k)
    assert rows["lstm"] == str(4 * (n * n + n * f + n) + n * k + k)


# ---------------------------------------------------------------- masking


def _params64(cell, key):
    return jax.tree.map(lambda a: a.astype(jnp.float64), cell.init(key))


@pytest.mark.parametrize("model", ["np-rnn", "lstm"])
def test_padding_changes_neither_loss_nor_prediction(tiny, model):
    """Clips padded to the batch's length, or far longer with junk after their end, give the same
    per-clip outputs as each clip run alone, unpadded; hence the same loss, accuracy and gradient."""
    task = tasks.make("action", 100, 8, data=str(tiny))
    split = task.dataset().splits["train"]
    assert task.length == split.lengths.max() or task.length == task.dataset().longest
    cell = cells.make(model, 5, task.n_in, task.n_out)
    idx = np.arange(len(split.clips))
    with jax.enable_x64(True):
        params = _params64(cell, jax.random.key(3))
        x, (labels, last) = task.batch("train", jnp.asarray(idx))
        x = x.astype(jnp.float64)
        host_x, host_last = pad_clips(split.frames, split.offsets, split.lengths, task.length)
        np.testing.assert_array_equal(np.asarray(x), host_x)
        np.testing.assert_array_equal(np.asarray(last), host_last)
        assert list(np.asarray(last)) == list(split.lengths - 1)

        valid = jnp.arange(task.length)[:, None] <= last[None, :]
        junk = jax.random.normal(jax.random.key(9), (task.length + 11,) + x.shape[1:], jnp.float64) * 50
        long_x = jnp.where(jnp.pad(valid, ((0, 11), (0, 0)))[..., None], jnp.pad(x, ((0, 11), (0, 0), (0, 0))), junk)
        y = (labels, last)
        apply = jax.jit(lambda p, xs: cell.apply(p, xs, True))
        pred, long_pred = apply(params, x), apply(params, long_x)
        # Three clips of different lengths, each run alone with no padding at all.
        some = [int(np.flatnonzero(split.lengths == n)[0]) for n in sorted(set(split.lengths))[:3]]
        alone = jnp.stack([cell.apply(params, x[: int(last[b]) + 1, b: b + 1], False)[0] for b in some])

        eps = float(jnp.finfo(jnp.float64).eps)
        scale = float(jnp.max(jnp.abs(alone)))
        tol = 100 * task.length * eps * scale
        np.testing.assert_allclose(last_step(pred, last)[np.array(some)], alone, rtol=0, atol=tol)
        np.testing.assert_allclose(last_step(long_pred, last), last_step(pred, last), rtol=0, atol=tol)
        assert abs(float(task.loss(pred, y) - task.loss(long_pred, y))) <= tol
        assert float(task.metrics(pred, y)["accuracy"]) == float(task.metrics(long_pred, y)["accuracy"])
        g = jax.jit(jax.grad(lambda p, xs: task.loss(cell.apply(p, xs, True), y)))
        for a, b in zip(jax.tree.leaves(g(params, x)), jax.tree.leaves(g(params, long_x))):
            np.testing.assert_allclose(a, b, rtol=0, atol=tol * 10)
        # The readout really is at the last frame: moving it one step earlier changes the outputs.
        assert float(jnp.max(jnp.abs(last_step(pred, last - 1) - last_step(pred, last)))) > 1e3 * tol


def test_clips_longer_than_T_are_cut(tiny):
    task = tasks.make("action", 4, 8, data=str(tiny))
    split = task.dataset().splits["val"]
    x, (_, last) = task.batch("val", jnp.arange(len(split.clips)))
    assert x.shape[0] == 4 and list(np.asarray(last)) == list(np.minimum(split.lengths, 4) - 1)
    np.testing.assert_array_equal(np.asarray(x[:, 0]), split.clip(0)[:4])


def test_split_eval_matches_the_batch_metrics(tiny):
    """The chunked whole-split evaluation (chunks padded with masked clips) equals one batch."""
    task = tasks.make("action", 100, 8, data=str(tiny))
    cell = cells.make("irnn", 6, task.n_in, task.n_out)
    params = cell.init(jax.random.key(1))
    n = len(task.dataset().splits["train"].clips)
    x, y = task.batch("train", jnp.arange(n))
    want = task.metrics(cell.apply(params, x, True), y)
    got = task.split_eval(cell, 4, 1)(jax.tree.map(lambda a: a[None], params), "train")
    np.testing.assert_allclose(got["xent"][0], want["xent"], rtol=1e-5)
    assert got["accuracy"][0] == pytest.approx(float(want["accuracy"]))


# ---------------------------------------------------------------- end to end


def test_train_on_generated_features_beats_chance(tmp_path):
    """A short np-RNN run on the default generated set through `rnnlab action-data` and
    `rnnlab train --data`: the test accuracy is above what a model blind to the order of the
    frames can reach (1/2: the two classes of a pair are each other's time reversal) by a margin
    whose probability by luck is below 1e-6, and the training loss falls well below the baseline."""
    data = tmp_path / "features"
    assert main(["action-data", "--out", str(data)]) == 0
    out = tmp_path / "run"
    assert main(["train", "--task", "action", "--data", str(data), "--model", "np-rnn", "--n", "32",
                 "--T", "300", "--steps", "200", "--batch", "20", "--optimiser", "adam", "--lr", "3e-3",
                 "--clip", "1", "--log-every", "50", "--eval-every", "100", "--no-progress",
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    final = summary["final"][0]
    spec = GeneratedSpec()
    n_test = spec.classes * spec.test_per_class
    order_blind = 0.5
    needed = (binom.isf(1e-6, n_test, order_blind) + 1) / n_test
    assert final["test_accuracy"] >= needed, (final, needed)
    assert final["val_accuracy"] >= needed, (final, needed)
    assert summary["baseline"] == pytest.approx(np.log(spec.classes))
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["xent"] < 0.5 * summary["baseline"]
    info = json.loads((out / "action_data.json").read_text())
    assert info["clips"] == {"train": 240, "val": 60, "test": 60} and info["padded_length"] == spec.max_frames
    assert info["generated"] == dataclasses.asdict(spec) and info["digest"] == load_actions(data).digest()


def test_without_data_the_generated_set_is_used_and_said(capsys):
    from rnnlab.training.tasks.action import action_data

    action_data.cache_clear()
    task = tasks.make("action", 100, 8)
    spec = GeneratedSpec()
    assert (task.n_in, task.n_out, task.length) == (spec.features, spec.classes, spec.max_frames)
    assert "generated feature set" in capsys.readouterr().err
    assert len(task.dataset().splits["test"].clips) == spec.classes * spec.test_per_class


def test_action_data_flags_are_the_generator_settings():
    """Every GeneratedSpec field is a flag of `rnnlab action-data`, and its help states the default."""
    from rnnlab.cli.action import _OPTIONS

    fields = {f.name: f for f in dataclasses.fields(GeneratedSpec)}
    assert [name for name, _, _ in _OPTIONS] == list(fields)
    for name, kind, text in _OPTIONS:
        assert kind is type(fields[name].default) and f"(default {fields[name].default})" in text
