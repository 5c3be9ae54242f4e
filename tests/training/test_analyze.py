"""rnnlab analyze on the 3-bit flip-flop: a tanh RNN and a ReLU RNN trained here must show 8 stable
fixed points, one per memory state, each a fixed point of the trained map to the stated
tolerance, with saddles between them; and bad input is refused before anything is written."""

import json
import shutil

import jax
import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.errors import UsageError
from rnnlab.training import loop, run_folder
from rnnlab.training.attractors import analyze
from rnnlab.training.config import TrainConfig

# Settings that train each model to the 8-state solution in a few seconds: sign accuracy 1 at
# MSE about 6e-4 (tanh) and 1e-2 (ReLU) after 400 Adam steps; seeds 0-2 all gave the 8 points.
FLIP_FLOP = dict(task="flip-flop", n=16, T=24, batch=32, steps=400, lr=0.02, optimiser="adam", clip=1.0, seed=0)
# Few trajectories and starts keep the analysis quick (the flip-flop's states are simple).
QUICK = dict(trajectories=64, starts=512)
SIGNS = {(a, b, c) for a in (-1.0, 1.0) for b in (-1.0, 1.0) for c in (-1.0, 1.0)}


def _train_into(folder, model):
    """Train ``model`` on the flip-flop and leave a run folder as ``rnnlab train`` would (its config
    and a checkpoint of the state with the seed axis), through the run folder's own writers."""
    cfg = TrainConfig(model=model, out=str(folder), **FLIP_FLOP)
    exp = loop.build(cfg)
    state = loop.init_state(exp, jax.random.key(cfg.seed))
    chunk = jax.jit(loop.make_train_chunk(exp.cell, exp.task, exp.tx, exp.labels, cfg.batch, cfg.steps))
    state, metrics = chunk(state, jax.random.key(cfg.seed + 1000))
    folder.mkdir(parents=True)
    run_folder.claim(cfg, folder)
    data_keys = loop.seed_keys(cfg)[1]
    run_folder.save_checkpoint(folder / run_folder.CHECKPOINT, jax.tree.map(lambda a: a[None], state), cfg.steps,
                               0.0, data_keys)
    return exp, {k: np.asarray(v, np.float64) for k, v in state.params.items()}, float(metrics["loss"][-1])


@pytest.fixture(scope="module")
def tanh_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analyze") / "tanh"
    return folder, *_train_into(folder, "tanh-rnn")


@pytest.fixture(scope="module")
def relu_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analyze") / "relu"
    return folder, *_train_into(folder, "relu-rnn")


def _memory_states(outputs, stable):
    return {tuple(np.sign(outputs[i])) for i in stable}


def test_tanh_flip_flop_has_eight_stable_fixed_points_and_saddles(tanh_run):
    folder, exp, params, loss = tanh_run
    assert loss < 0.01  # trained: the analysis below is of a network that solves the task
    result = analyze(folder, **QUICK)
    assert result.method == "slow-points"
    zero = result.seeds[0].inputs[0]
    assert zero.name == "zero" and np.array_equal(zero.x, np.zeros(3))
    stable = zero.stable_points()
    assert len(stable) == 8
    assert _memory_states(zero.outputs, stable) == SIGNS  # one per memory state
    tol = zero.settings["tol"]
    w, b = params["W"], params["b"]
    for p in zero.points:
        assert p.fixed
        # A fixed point of the trained map, recomputed here with NumPy.
        assert np.max(np.abs(np.tanh(w @ p.point + b) - p.point)) <= tol
    saddles = [p for p in zero.points if 0 < p.unstable < len(p.eigenvalues)]
    assert saddles and all(p.stability == "repelling" for p in saddles)
    assert all(p.unstable == 0 and p.spectral_radius < 1 for p in (zero.points[i] for i in stable))
    json.dumps(result.to_dict())  # data first: all of it is JSON


def test_relu_flip_flop_exact_fixed_sets_through_the_command_line(relu_run, tmp_path, capsys):
    folder, exp, params, loss = relu_run
    assert loss < 0.03
    out = tmp_path / "out"
    assert main(["analyze", str(folder), "--out", str(out), "--trajectories", "64", "--starts", "512"]) == 0
    printed = capsys.readouterr().out
    assert "8 attracting points" in printed
    data = json.loads((out / "analysis.json").read_text())
    assert (out / "eigenvalues.png").stat().st_size > 0 and (out / "states.png").stat().st_size > 0
    assert data["method"] == "exact" and data["model"] == "relu-rnn"
    zero = data["seeds"][0]["inputs"][0]
    w, b = params["W"], params["b"]
    stable = [p for p in zero["points"] if p["dimension"] == 0 and p["stability"] == "attracting"]
    assert len(stable) == 8
    assert {tuple(np.sign(p["output"])) for p in stable} == SIGNS
    for p in zero["points"]:
        h = np.array(p["point"])
        residual = np.max(np.abs(np.maximum(w @ h + b, 0.0) - h))
        assert residual <= p["verify_tolerance"] and p["verified"]
        # The stated tolerance is n eps-sized (the weights as exact numbers), not a loose one.
        assert p["verify_tolerance"] < 1e3 * 16 * np.finfo(np.float64).eps * (1 + np.abs(h).max() + np.abs(b).max())
        on = np.array(p["support"], int)
        assert np.all(h[on] > 0) and np.all(np.delete(h, on) == 0)
    repelling = [p for p in zero["points"] if p["stability"] == "repelling"]
    assert repelling  # the saddles between the memory states


def _copy_run(folder, dest):
    shutil.copytree(folder, dest)
    return dest


def test_bad_runs_are_refused_in_one_line_and_nothing_is_written(tanh_run, tmp_path, capsys):
    folder = tanh_run[0]
    # A folder that is not a run; a run without parameters.
    with pytest.raises(UsageError, match="no config.toml"):
        analyze(tmp_path)
    bare = _copy_run(folder, tmp_path / "bare")
    (bare / run_folder.CHECKPOINT).unlink()
    with pytest.raises(UsageError, match="no trained parameters"):
        analyze(bare)
    # A diverged run: non-finite parameters.
    nan = _copy_run(folder, tmp_path / "nan")
    blob = dict(np.load(nan / run_folder.CHECKPOINT))
    blob["state.params['W']"] = blob["state.params['W']"] * np.nan
    np.savez(nan / run_folder.CHECKPOINT, **blob)
    with pytest.raises(UsageError, match="not finite.*diverged"):
        analyze(nan)
    # An unknown model in the config.
    odd = _copy_run(folder, tmp_path / "odd")
    text = (odd / run_folder.CONFIG).read_text().replace('model = "tanh-rnn"', 'model = "no-such-rnn"')
    (odd / run_folder.CONFIG).write_text(text)
    with pytest.raises(UsageError, match="unknown model 'no-such-rnn'"):
        analyze(odd)
    # Every support of a model that has none to enumerate; a seed the run does not have.
    with pytest.raises(UsageError, match="ReLU models only"):
        analyze(folder, all_supports=True)
    with pytest.raises(UsageError, match="seed 3 is not in this run"):
        analyze(folder, seed=3)
    with pytest.raises(UsageError, match="3 finite numbers"):
        analyze(folder, inputs={"half": [0.5, 0.0]})
    capsys.readouterr()
    for run in (bare, nan, odd):
        out = tmp_path / f"out-{run.name}"
        assert main(["analyze", str(run), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("rnnlab analyze: error:")
        assert not out.exists()


def test_all_supports_refuses_a_size_it_cannot_enumerate(tmp_path):
    # A ReLU run at n = 20: 2^20 supports are refused from the config alone, before any parameter is read.
    cfg = TrainConfig(model="relu-rnn", out=str(tmp_path / "big"), **(FLIP_FLOP | {"n": 20}))
    (tmp_path / "big").mkdir()
    run_folder.claim(cfg, tmp_path / "big")
    with pytest.raises(UsageError, match="2\\^20 supports are too many"):
        analyze(tmp_path / "big", all_supports=True)
