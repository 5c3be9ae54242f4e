"""Run folders: resume rules, the folder lock, data-only checkpoints, signals, NaN rollback, curves."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training import curves, loop, run_folder
from rnnlab.training.lock import FolderLock

TINY = ["--task", "addition", "--model", "relu-rnn", "--n", "3", "--T", "2", "--batch", "4",
        "--log-every", "5", "--eval-every", "5", "--checkpoint-every", "10", "--eval-batch", "4",
        "--no-progress"]


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def test_resume_of_a_folder_without_a_run_is_refused(tmp_path, capsys):
    out = tmp_path / "nothing"
    assert main(["train", *TINY, "--steps", "10", "--out", str(out), "--resume"]) == 2
    _one_line_error(capsys, "no run to resume")
    assert not out.exists()


def test_steps_extend_upwards_only_and_the_records_agree(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "20", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", *TINY, "--steps", "10", "--out", str(out), "--resume"]) == 2
    _one_line_error(capsys, "step 20", "got 10")
    assert "steps = 20\n" in (out / "config.toml").read_text()
    assert main(["train", *TINY, "--steps", "30", "--out", str(out), "--resume"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "steps = 30\n" in (out / "config.toml").read_text() and summary["steps"] == 30
    assert [r["step"] for r in _rows(out)] == [5, 10, 15, 20, 25, 30]


def test_a_second_writer_is_refused_and_a_dead_holder_is_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from rnnlab.training.lock import FolderLock
            FolderLock({str(out)!r}).acquire()
            print("locked", flush=True)
            time.sleep(600)
        """)], stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert holder.stdout.readline().strip() == b"locked"
        assert main(["train", *TINY, "--steps", "10", "--out", str(out)]) == 2
        _one_line_error(capsys, f"in use by process {holder.pid}")
        with pytest.raises(UsageError, match=f"process {holder.pid}"):
            FolderLock(out).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (out / ".lock").read_text().strip() == str(holder.pid)  # the dead holder's file is left
    assert main(["train", *TINY, "--steps", "10", "--out", str(out)]) == 0
    assert (out / ".lock").read_text().strip() == str(os.getpid())


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    with FolderLock(tmp_path / "x"):
        with pytest.raises(UsageError, match=f"process {os.getpid()}"):
            FolderLock(tmp_path / "x").acquire()
    with FolderLock(tmp_path / "x"):  # released on exit
        pass


def test_checkpoint_is_data_only_and_round_trips(tmp_path):
    state = {"W": jnp.arange(6.0).reshape(2, 3) + 0.5j, "count": jnp.array(7, jnp.int32),
             "mu": (jnp.ones(2, jnp.float32), optax.EmptyState())}
    keys = jax.vmap(jax.random.key)(jnp.arange(2))
    path = tmp_path / "c.npz"
    run_folder.save_checkpoint(path, state, 40, 1.5, keys, lr_scale=0.25, rollbacks=2)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays: no code runs on loading
        assert "state['W']" in archive.files
    like = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), state)
    loaded, meta = run_folder.load_checkpoint(path, like, keys)
    assert meta == {"step": 40, "elapsed": 1.5, "lr_scale": 0.25, "rollbacks": 2}
    for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(state)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    with pytest.raises(UsageError, match="does not match"):
        run_folder.load_checkpoint(path, {**like, "W": jax.ShapeDtypeStruct((3, 3), jnp.complex64)}, keys)
    with pytest.raises(UsageError, match="other data seeds"):
        run_folder.load_checkpoint(path, like, jax.vmap(jax.random.key)(jnp.arange(1, 3)))


def test_damaged_and_old_checkpoints_are_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "10", "--out", str(out)]) == 0
    capsys.readouterr()
    ckpt = out / "checkpoint.npz"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    assert main(["train", *TINY, "--steps", "20", "--out", str(out), "--resume"]) == 2
    _one_line_error(capsys, "checkpoint.npz is damaged")
    ckpt.unlink()
    (out / "checkpoint.pkl").write_bytes(b"\x80\x05old")
    assert main(["train", *TINY, "--steps", "20", "--out", str(out), "--resume"]) == 2
    _one_line_error(capsys, "checkpoint.pkl", "rerun it in a new folder")


def _rewrite(ckpt: Path, **raw: bytes) -> None:
    """Replace entries of the checkpoint archive by raw ``.npy`` bytes (a hand-edited file)."""
    import io
    import zipfile

    with zipfile.ZipFile(ckpt) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    entries.update({f"{name}.npy": data for name, data in raw.items()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    ckpt.write_bytes(buffer.getvalue())


def _npy(value=None, header: dict | None = None) -> bytes:
    """``.npy`` bytes of ``value``, or a bare ``header`` followed by a few bytes of data."""
    import io

    buffer = io.BytesIO()
    if header is None:
        np.save(buffer, np.asarray(value))
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(b"\0" * 64)
    return buffer.getvalue()


def test_checkpoints_that_no_run_writes_are_refused_before_anything_is_allocated(tmp_path, capsys):
    out = tmp_path / "run"
    # A run may end between two log steps (5 and 10): its last checkpoint is at step 7.
    assert main(["train", *TINY, "--steps", "7", "--out", str(out)]) == 0
    capsys.readouterr()
    ckpt = out / "checkpoint.npz"
    good = ckpt.read_bytes()
    resume = ["train", *TINY, "--steps", "12", "--out", str(out), "--resume"]
    with np.load(ckpt) as archive:
        name = next(k for k in archive.files if k.startswith("state"))
        descr = np.lib.format.dtype_to_descr(archive[name].dtype)
    huge = {"descr": descr, "fortran_order": False, "shape": (10**7, 10**7)}  # petabytes
    for entries, words in (
        ({name: _npy(header=huge)}, ["does not match this run's model"]),
        ({"meta.step": _npy(header={**huge, "descr": "<i8"})}, ["is damaged", "'meta.step' is not an integer"]),
        ({"meta.step": _npy(np.float64("nan"))}, ["is damaged", "'meta.step' is not an integer"]),
        ({"meta.step": _npy(np.int64(-50))}, ["is damaged", "step -50 is negative"]),
        ({"meta.step": _npy(np.int64(6))}, ["is damaged", "step 6 is neither a multiple of log_every (5)"]),
        ({"meta.lr_scale": _npy(np.float64("nan"))}, ["is damaged", "learning-rate scale nan"]),
    ):
        ckpt.write_bytes(good)
        _rewrite(ckpt, **entries)
        assert main(resume) == 2
        _one_line_error(capsys, "checkpoint.npz", *words)
    ckpt.write_bytes(good)
    assert main(resume) == 0
    assert [r["step"] for r in _rows(out)] == [5, 7, 10, 12]


def test_a_damaged_metrics_log_is_refused_on_resume_and_a_torn_last_line_repaired(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "10", "--out", str(out)]) == 0
    metrics = out / "metrics.jsonl"
    good = metrics.read_text()
    resume = ["train", *TINY, "--steps", "15", "--out", str(out), "--resume"]
    metrics.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe binary")
    capsys.readouterr()
    assert main(resume) == 2
    _one_line_error(capsys, "metrics.jsonl is damaged", "not UTF-8")
    metrics.write_text(good + '{"step": 15, "seed": 0, "lo')  # torn by a kill mid-write
    assert main(resume) == 0
    assert [r["step"] for r in _rows(out)] == [5, 10, 15]


@pytest.mark.parametrize("text,fragment", [
    ('{"step": 5, "seed": 0}\n{"step": 1\n{"step": 10, "seed": 0}\n', "line 2: not JSON"),
    ('{"seed": 0, "loss": 1.0}\n', 'line 1: not a JSON object with an integer "step"'),
    ('[5, 0, 1.0]\n{"step": 10, "seed": 0}\n', "line 1: not a JSON object"),
    ('{"step": "ten", "seed": 0}\n', 'line 1: not a JSON object with an integer "step"'),
    ('{"step": -5, "seed": 0}\n', 'line 1: not a JSON object with an integer "step" >= 0'),
])
def test_read_metrics_names_the_damaged_line(tmp_path, text, fragment):
    path = tmp_path / "metrics.jsonl"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(f"metrics.jsonl is damaged at {fragment}")):
        run_folder.read_metrics(path)


def test_read_metrics_drops_only_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 5, "seed": 0}\n{"step": 10, "seed": 0}\n{"step": 15, "se')
    assert [json.loads(line)["step"] for line in run_folder.read_metrics(path)] == [5, 10]
    assert [json.loads(line)["step"] for line in run_folder.read_metrics(path, up_to=5)] == [5]


def test_train_from_python_names_python_arguments(tmp_path):
    from rnnlab.training import TrainConfig, train

    cfg = TrainConfig(task="addition", model="relu-rnn", n=3, T=2, batch=4, steps=5, log_every=5, eval_every=5,
                      checkpoint_every=5, eval_batch=4, out=str(tmp_path / "run"))
    assert train(cfg).status == 0
    with pytest.raises(UsageError) as again:  # the notebook cell run a second time
        train(cfg)
    assert "pass resume=True to continue it" in str(again.value) and "--" not in str(again.value)


@pytest.mark.slow  # end to end, tens of seconds: make test-slow (CI runs it)
def test_sigterm_saves_a_checkpoint_at_the_current_step_and_prints_the_resume_command(tmp_path, capsys):
    out = tmp_path / "run"
    # checkpoint_every far away: the only checkpoints are step 0 and the one the signal asks for.
    cmd = ["train", *TINY, "--checkpoint-every", "100000", "--steps", "1000000", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "rnnlab", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 120
    while not ((out / "metrics.jsonl").exists() and len(_rows(out)) >= 3):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no metrics after 120 s"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    assert proc.returncode == 128 + signal.SIGTERM, err
    step = run_folder.checkpoint_step(out / "checkpoint.npz")
    assert step >= 15 and _rows(out)[-1]["step"] == step
    assert f"SIGTERM at step {step}; checkpoint saved at step {step}" in err
    resume = err.split("Resume with: ")[1].strip()
    assert resume == loop.resume_command(out)
    argv = shlex.split(resume)[1:] + ["--steps", str(step + 10), "--no-progress"]
    assert main(argv) == 0
    assert f"resuming {out} from step {step}" in capsys.readouterr().out
    assert [r["step"] for r in _rows(out)] == list(range(5, step + 11, 5))


def _poisoned_optimiser(monkeypatch, at: int, only_full_lr: bool) -> list[float]:
    """Make the update of step ``at + 1`` NaN (only at the full learning rate if ``only_full_lr``);
    returns the list of learning-rate scales the run builds optimisers with."""
    real, scales = loop.make_optimiser, []

    def make(cfg, labels, lr_scale=1.0):
        scales.append(lr_scale)
        poison = lr_scale == 1.0 or not only_full_lr

        def update(updates, count, params=None):
            factor = jnp.where((count == at) & poison, jnp.nan, 1.0)
            return jax.tree.map(lambda u: u * factor, updates), count + 1

        counter = optax.GradientTransformation(lambda params: jnp.zeros((), jnp.int32), update)
        return optax.chain(real(cfg, labels, lr_scale), counter)

    monkeypatch.setattr(loop, "make_optimiser", make)
    return scales


def test_rollback_reloads_the_last_checkpoint_with_half_the_learning_rate(tmp_path, capsys, monkeypatch):
    scales = _poisoned_optimiser(monkeypatch, at=15, only_full_lr=True)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "30", "--on-nan", "rollback", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "non-finite loss or gradient at step 17" in err
    assert "rollback 1 of 3: back to step 10 with learning rates x0.5" in err
    assert scales == [1.0, 0.5]
    rows = _rows(out)
    assert [r["step"] for r in rows] == [5, 10, 15, 20, 25, 30]
    assert [r.get("lr_scale", 1.0) for r in rows] == [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    assert all(np.isfinite(r["loss"]) for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rollbacks"] == 1 and summary["lr_scale"] == 0.5
    assert run_folder.read_checkpoint_meta(out / "checkpoint.npz")["lr_scale"] == 0.5


def test_rollbacks_are_bounded_and_stop_is_the_default(tmp_path, capsys, monkeypatch):
    _poisoned_optimiser(monkeypatch, at=15, only_full_lr=False)
    out = tmp_path / "bounded"
    args = ["train", *TINY, "--steps", "30", "--on-nan", "rollback", "--max-rollbacks", "2", "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("back to step 10 with learning rates") == 2 and "rollback 2 of 2" in err
    assert "stopped after 2 rollback(s)" in err and "(step 10)" in err
    assert main(["train", *TINY, "--steps", "30", "--out", str(tmp_path / "stop")]) == 1
    assert "stopped. The last good checkpoint" in _one_line_error(capsys, "step 17")


def test_curves_are_drawn_from_the_run_folders(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", *TINY, "--steps", "10", "--out", str(a)]) == 0
    assert main(["train", *TINY, "--steps", "10", "--seed", "1", "--model", "np-rnn", "--out", str(b)]) == 0
    assert (a / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = curves.figure([a, b])
    loss_ax, eval_ax = fig.axes
    baseline = 1 / 6
    drawn = {line.get_label(): line for line in loss_ax.lines}
    assert len(drawn) == 3 and f"baseline {baseline:.4g}" in drawn
    for folder, model in ((a, "relu-rnn"), (b, "np-rnn")):
        line = drawn[f"{model} n=3 ({folder.name})"]
        assert list(line.get_xdata()) == [5, 10]
        np.testing.assert_array_equal(line.get_ydata(), [r["loss"] for r in _rows(folder)])
    # The validation metric, logged at every evaluation (test only at the last step).
    assert eval_ax.get_ylabel() == "val_mse" and len(eval_ax.lines) == 3
    assert list(eval_ax.lines[0].get_xdata()) == [5, 10]
    capsys.readouterr()
    assert main(["plot", str(a), str(b), "--out", str(tmp_path / "both.svg")]) == 0
    assert (tmp_path / "both.svg").read_text().lstrip().startswith("<?xml")
    assert main(["plot", str(a), str(tmp_path), "--out", str(tmp_path / "x.png")]) == 2
    _one_line_error(capsys, "not a run folder")
    assert not (tmp_path / "x.png").exists()
