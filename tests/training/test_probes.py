"""Probes during training: each probe against an independent computation, the run's lines, the default."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.dynamics.propagation import lyapunov_exponents, measure_trajectory
from rnnlab.training import loop, probes
from rnnlab.training.config import PROBES_AUTO_WORK, TrainConfig
from rnnlab.training.result import train

F32 = float(np.finfo(np.float32).eps)


def _init(cfg):
    exp = loop.build(cfg)
    params = jax.jit(jax.vmap(lambda k: loop.init_state(exp, k)))(loop.seed_keys(cfg)[0]).params
    return exp, params


def test_a_run_logs_probes_at_evaluations_and_they_match_the_trained_weights(tmp_path):
    # Two seeds in one program: each line carries its own seed's probes.
    cfg = TrainConfig(task="addition", model="np-rnn", n=6, T=5, batch=4, steps=20, log_every=5, eval_every=10,
                      checkpoint_every=10, eval_batch=8, seeds=2, probes=True, out=str(tmp_path / "run"))
    res = train(cfg)
    rows = res.metrics
    evals = [r for r in rows if r["step"] % 10 == 0]
    assert [r["step"] for r in evals] == [10, 10, 20, 20] and [r["seed"] for r in evals] == [0, 1, 0, 1]
    assert not any(k.startswith("probe_") for r in rows if r["step"] % 10 for k in r)
    exp, initial = _init(cfg)
    for s, row in enumerate(r for r in rows if r["step"] == 20):
        w = np.asarray(res.params["W"][s], np.float64)
        eig = np.linalg.eigvals(w)
        eig = eig[np.argsort(-np.abs(eig))]
        sv = np.linalg.svd(w, compute_uv=False)
        w0 = np.asarray(initial["W"][s], np.float64)
        assert row["probe_spectral_radius"] == pytest.approx(abs(eig[0]), rel=100 * F32)
        for i in range(probes.TOP_EIGENVALUES):
            assert row[f"probe_eig{i}_abs"] == pytest.approx(abs(eig[i]), rel=100 * F32)
            assert abs(np.cos(row[f"probe_eig{i}_phase"]) - np.cos(np.angle(eig[i]))) < 1e-4
        assert row["probe_sv_max"] == pytest.approx(sv[0], rel=100 * F32)
        assert row["probe_sv_min"] == pytest.approx(sv[-1], rel=1e3 * F32)
        assert row["probe_w_distance"] == pytest.approx(np.linalg.norm(w - w0) / np.linalg.norm(w0), rel=1e-4)
        assert row["probe_w_distance"] > 0  # trained: W moved
        for name in ("probe_lyapunov", "probe_grad_ratio", "probe_active_fraction"):
            assert name in row
    json.dumps(rows)


def test_probes_off_log_none_and_the_default_follows_the_run_size():
    assert not TrainConfig(task="copy", model="lstm", n=3, T=2, steps=10).probes
    paper = TrainConfig(task="addition", model="np-rnn", n=100, T=150, batch=20, steps=50000)
    assert paper.probes and 6 * 50000 * 150 * 20 * 100**2 >= PROBES_AUTO_WORK
    assert TrainConfig(n=3, T=2, steps=10, probes=True).probes
    assert not TrainConfig(task="addition", n=100, T=150, batch=20, steps=50000, probes=False).probes


def test_trajectory_probes_of_a_relu_rnn_against_a_plain_loop():
    # One call, three probes, each recomputed here by hand: the fraction of units on, the largest
    # Lyapunov exponent (tangent pushed by D_t W, renormalised), and the gradient-norm ratio, as
    # the gradient of the loss with respect to the state after step 1 (the run continued from
    # it) over that with respect to the last state.
    cfg = TrainConfig(task="addition", model="relu-rnn", n=6, T=9)
    exp, params = _init(cfg)
    cell, task = exp.cell, exp.task
    p = {k: v[0] for k, v in params.items()}
    x, y = task.sample(jax.random.key(1), 4)
    v0 = jnp.ones((4, 6)) / np.sqrt(6)
    out = jax.jit(lambda p, x, y, v: probes.trajectory_probes(cell, task, p, x, y, v))(p, x, y, v0)
    u = cell.project_inputs(p, x)
    w = np.asarray(p["W"])
    hs, h, logs, v = [], np.zeros((4, 6)), np.zeros(4), np.asarray(v0)
    for t in range(9):
        pre = h @ w.T + np.asarray(u[t])
        v = (pre > 0) * (v @ w.T)
        norm = np.linalg.norm(v, axis=1)
        logs += np.log(norm)
        v = v / norm[:, None]
        h = np.maximum(pre, 0.0)
        hs.append(h)
    assert float(out["active_fraction"]) == pytest.approx(float(np.mean(np.stack(hs) > 0)), abs=1e-7)
    assert float(out["lyapunov"]) == pytest.approx(float(np.mean(logs / 9)), rel=1e-4)

    def loss_from(h1):
        h = h1
        for t in range(1, 9):
            h = jax.nn.relu(h @ p["W"].T + u[t])
        return task.loss(cell.readout(p, h), y)

    first = jnp.linalg.norm(jax.jit(jax.grad(loss_from))(jnp.asarray(hs[0])))
    last = jnp.linalg.norm(jax.jit(jax.grad(lambda h: task.loss(cell.readout(p, h), y)))(jnp.asarray(hs[-1])))
    assert float(out["grad_ratio"]) == pytest.approx(float(first / last), rel=1e-4)


def test_lyapunov_exponents_agree_with_the_relu_map_qr_method():
    # The QR method of the dynamics module (measure_trajectory, ReLU map) and the generic one
    # (any step, tangents by JVPs) on the same driven trajectory, with k = 3 tangents.
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        n, t = 6, 40
        w = jnp.asarray(rng.standard_normal((n, n)) * 1.1 / np.sqrt(n))
        u = jnp.asarray(rng.standard_normal((n, 2)))
        xs = jnp.asarray(rng.standard_normal((t, 2)))
        q0, _ = jnp.linalg.qr(jnp.asarray(rng.standard_normal((n, 3))))
        _, lsum, *_ = measure_trajectory(w, u, xs, jnp.array([1.0, 0.0]), 1e-6, q0, jnp.zeros(t, bool))

        def step(h, x):
            return jax.nn.relu(w @ h + u @ x)

        def body(h, x):
            return step(h, x), h

        _, starts = jax.lax.scan(body, jnp.zeros(n), xs)
        exps = lyapunov_exponents(step, starts, xs, q0)
        np.testing.assert_allclose(np.asarray(exps), np.asarray(lsum) / t, rtol=1e-10)
        # A linear map's exponents are the logs of its eigenvalues' moduli (a normal matrix).
        a = jnp.diag(jnp.array([0.9, -0.5, 0.2]))
        lin = lyapunov_exponents(lambda h, x: a @ h, jnp.zeros((t, 3)), jnp.zeros((t, 1)), jnp.eye(3)[:, :2])
        np.testing.assert_allclose(np.asarray(lin), np.log([0.9, 0.5]), rtol=1e-12)


@pytest.mark.parametrize("model", ["full-urnn", "restricted-urnn"])
def test_the_urnns_smooth_step_is_their_step(model):
    # Forward-mode autodiff cannot pass modReLU's custom VJP: the probes step a uRNN through its
    # dense real form and the plain formula, which must be the same map.
    cfg = TrainConfig(task="copy", model=model, n=5, T=3, modrelu_eps=1e-5)
    exp, params = _init(cfg)
    p = {k: v[0] for k, v in params.items()}
    p["b"] = jnp.linspace(-0.3, 0.3, 5)
    h = jax.random.normal(jax.random.key(0), (3, 10))
    u = jax.random.normal(jax.random.key(1), (3, 10))

    @jax.jit
    def both(p, h, u):
        smooth = probes.smooth_step(exp.cell, p)
        # ... and the smooth step has a JVP.
        return exp.cell.step(exp.cell.step_constants(p), h, u), smooth(h, u), jax.jvp(lambda g: smooth(g, u), (h,), (h,))

    want, got, _ = both(p, h, u)
    np.testing.assert_allclose(got, want, atol=20 * F32)


def test_matrix_probes_of_a_unitary_and_an_lstm_state_jacobian():
    # A unitary W: every eigenvalue and singular value of modulus 1, phases those of W.
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6)))
    row = probes._matrix_probes(q, q, q)
    for name in ("spectral_radius", "eig0_abs", "eig2_abs", "sv_max", "sv_min"):
        assert row[name] == pytest.approx(1.0, abs=1e-12)
    assert row["w_distance"] == 0.0
    assert {round(row[f"eig{i}_phase"], 9) for i in range(3)} <= set(np.round(np.angle(np.linalg.eigvals(q)), 9))
    # An LSTM with no recurrent and no input weights: c_t = f c_{t-1} + i g with f = sigmoid(1)
    # everywhere, h_t depends on c_{t-1} only, so the state Jacobian's eigenvalues are 0 and sigmoid(1).
    cfg = TrainConfig(task="copy", model="lstm", n=4, T=3)
    exp, params = _init(cfg)
    params = params | {"W_h": jnp.zeros_like(params["W_h"]), "W_x": jnp.zeros_like(params["W_x"])}
    out = probes.make(exp.cell, exp.task, 1, params)(params)
    assert float(out["probe_spectral_radius"][0]) == pytest.approx(1 / (1 + np.exp(-1.0)), rel=10 * F32)
    assert float(out["probe_sv_max"][0]) == 0.0 and np.isnan(out["probe_w_distance"][0])  # W_0 = 0 here
