"""The Cayley step on U(N): JAX's complex-gradient convention, descent direction, unitarity."""

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.analysis import haar_unitary, unitarity_error
from rnnlab.errors import UsageError
from rnnlab.training import cells, loop, optim
from rnnlab.training.sweep import grid


def _loss(w, x, y):
    """A real, non-quadratic loss of a complex matrix (modulus of a linear map, plus a phase term)."""
    return jnp.sum(jnp.abs(w @ x - y) ** 1.5) + jnp.sum(jnp.real(w) * jnp.imag(w))


def _problem(n, seed):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    w = haar_unitary(k1, n, jnp.complex128)
    x = jax.random.normal(k2, (n, 3), jnp.float64) + 0j
    y = jax.random.normal(k3, (n, 3), jnp.float64) * (1 + 1j)
    return w, x, y


def test_jax_grad_is_the_conjugate_of_the_paper_gradient():
    with jax.enable_x64(True):
        w, x, y = _problem(3, 0)
        g_jax = jax.grad(_loss)(w, x, y)
        d_re = jax.grad(lambda a: _loss(a + 1j * w.imag, x, y))(w.real)
        d_im = jax.grad(lambda b: _loss(w.real + 1j * b, x, y))(w.imag)
        np.testing.assert_allclose(g_jax, np.conj(d_re + 1j * d_im), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_directional_derivative_along_the_cayley_curve(n):
    """d/dlr L(W(lr)) at 0 = -||A||_F^2 / 2 (see rnnlab.training.optim), by central differences."""
    with jax.enable_x64(True):
        w, x, y = _problem(n, n)
        tx = optim.cayley_unitary(1.0)
        g_jax = jax.grad(_loss)(w, x, y)
        a = optim.cayley_direction(jnp.conj(g_jax), w)
        np.testing.assert_allclose(a, -a.conj().T, atol=1e-14)

        def along(lr):
            update, _ = optim.cayley_unitary(lr).update(g_jax, tx.init(w), w)
            return _loss(w + update, x, y)

        h = 1e-6
        fd = (along(h) - along(-h)) / (2 * h)
        expected = -0.5 * jnp.sum(jnp.abs(a) ** 2)
        assert expected < 0
        np.testing.assert_allclose(fd, expected, rtol=1e-6)
        assert along(1e-3) < _loss(w, x, y)

        # Feeding JAX's gradient as if it were G (no conjugation) is not a descent curve of
        # this slope: the test above would catch the convention being wrong.
        a_wrong = optim.cayley_direction(g_jax, w)
        slope_wrong = (_loss(w + optim.cayley_update(a_wrong, w, h), x, y)
                       - _loss(w + optim.cayley_update(a_wrong, w, -h), x, y)) / (2 * h)
        if n > 1:
            assert not np.isclose(slope_wrong, -0.5 * jnp.sum(jnp.abs(a_wrong) ** 2), rtol=1e-3)


def test_update_is_the_cayley_transform():
    with jax.enable_x64(True):
        w, x, y = _problem(5, 3)
        g = jax.grad(_loss)(w, x, y)
        lr = 0.3
        update, _ = optim.cayley_unitary(lr).update(g, optim.cayley_unitary(lr).init(w), w)
        a = optim.cayley_direction(jnp.conj(g), w)
        eye = jnp.eye(5)
        expected = jnp.linalg.inv(eye + lr / 2 * a) @ (eye - lr / 2 * a) @ w
        np.testing.assert_allclose(w + update, expected, atol=1e-13)


N_STEPS = 5


@functools.partial(jax.jit, static_argnums=(4,))
def _steps(w, key, lr, scale, rms):
    """``N_STEPS`` Cayley steps with drawn complex64 gradients of size ``scale`` (one compile per n, rms)."""
    tx = optim.cayley_unitary(lr, rms_normalise=rms)
    n = w.shape[0]

    def body(carry, k):
        w, state = carry
        kr, ki = jax.random.split(k)
        g = (scale * (jax.random.normal(kr, (n, n)) + 1j * jax.random.normal(ki, (n, n)))).astype(w.dtype)
        update, state = tx.update(g, state, w)
        return (optax.apply_updates(w, update), state), None

    return jax.lax.scan(body, (w, tx.init(w)), jax.random.split(key, N_STEPS))[0][0]


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("n", [1, 3, 8])
@given(seed=st.integers(0, 2**31 - 1), log_lr=st.floats(-4, 0), log_scale=st.floats(-3, 2))
def test_drawn_gradients_keep_w_unitary(n, rms, seed, log_lr, log_scale):
    """complex64: each step adds O(eps) rounding only, whatever the gradient's size."""
    kw, kg = jax.random.split(jax.random.key(seed))
    w = _steps(haar_unitary(kw, n, jnp.complex64), kg, 10.0**log_lr, 10.0**log_scale, rms)
    eps = np.finfo(np.float32).eps
    assert float(unitarity_error(w)) <= 4 * n * eps * (N_STEPS + 1)


@pytest.mark.parametrize("rms", [False, True])
def test_combined_step_updates_each_leaf_with_its_rule(rms):
    w = haar_unitary(jax.random.key(0), 4, jnp.complex64)
    params = {"W": w, "v": jnp.ones(3), "frozen": jnp.ones(2)}
    labels = {"W": "unitary", "v": "euclidean", "frozen": "frozen"}
    unitary = optim.cayley_unitary(0.1, rms_normalise=rms)
    tx = optim.combined(labels, optim.euclidean("sgd", 0.1, clip=1.0), unitary)
    grads = {"W": jnp.ones((4, 4), jnp.complex64) * (1 + 2j), "v": jnp.full(3, 10.0), "frozen": jnp.ones(2)}
    updates, _ = tx.update(grads, tx.init(params), params)
    new = optax.apply_updates(params, updates)
    # W took exactly the step the Cayley transformation takes on its own (masking changes nothing).
    alone, _ = unitary.update(grads["W"], unitary.init(w), w)
    np.testing.assert_allclose(updates["W"], alone, atol=0)
    assert float(unitarity_error(new["W"])) < 1e-5 and not np.allclose(new["W"], w)
    np.testing.assert_allclose(new["v"], 1 - 0.1 / np.sqrt(3), rtol=1e-6)  # clipped to norm 1
    np.testing.assert_array_equal(new["frozen"], params["frozen"])


@pytest.mark.parametrize("reading", ["parts", "modulus"])
def test_rms_normalised_step_follows_its_reading(reading):
    with jax.enable_x64(True):
        # Two steps with known gradients: the direction fed to the Cayley step must be the
        # reading's normalisation of G, checked against the formula written out by hand.
        n, decay, eps, lr = 4, 0.9, 1e-8, 1e-2
        kw, k1, k2 = jax.random.split(jax.random.key(5), 3)
        w = haar_unitary(kw, n, jnp.complex128)
        tx = optim.cayley_unitary(lr, rms_normalise=True, decay=decay, eps=eps, rms_reading=reading)
        state = tx.init(w)
        gs = [jax.random.normal(k, (n, n), jnp.complex128) * s for k, s in ((k1, 1.0), (k2, 3.0))]
        gs[1] = gs[1].real * 5.0 + 1j * gs[1].imag  # real and imaginary parts of unequal size
        nu_re = nu_im = nu_abs = np.zeros((n, n))
        for g in gs:
            upd, state = tx.update(jnp.conj(g), state, w)  # JAX hands the Cayley step conj(G)
            g = np.asarray(g)
            nu_re = decay * nu_re + (1 - decay) * g.real**2
            nu_im = decay * nu_im + (1 - decay) * g.imag**2
            nu_abs = decay * nu_abs + (1 - decay) * np.abs(g) ** 2
            if reading == "parts":
                gn = g.real / (np.sqrt(nu_re) + eps) + 1j * g.imag / (np.sqrt(nu_im) + eps)
            else:
                gn = g / (np.sqrt(nu_abs) + eps)
            wn = np.asarray(w)
            a = gn @ wn.conj().T - wn @ gn.conj().T
            expect = -lr * np.linalg.solve(np.eye(n) + lr / 2 * a, a @ wn)
            np.testing.assert_allclose(np.asarray(upd), expect, atol=50 * n * np.finfo(np.float64).eps)


def test_unknown_rms_reading_is_refused():
    with pytest.raises(UsageError, match="rms_reading"):
        optim.cayley_unitary(1e-3, rms_normalise=True, rms_reading="phase")


def test_every_shipped_full_mode_config_builds_an_optimiser_that_takes_a_step(monkeypatch):
    # Quick mode shares the code but not always the settings (the uRNN MNIST table's
    # RMS-normalised Cayley step is full mode only), so each full-size point's optimiser takes
    # one step here, on a small cell of its model.
    monkeypatch.setattr(loop, "build", lambda cfg: None)  # no data sets: only the configs
    seen = set()
    for path in sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.toml")):
        if "[grid]" not in path.read_text():
            continue
        for point in grid.points(grid.load(path)):
            cfg = point.config
            cell = cells.make(cfg.model, 4, 2, 3, **cfg.cell_options())
            params = cell.init(jax.random.key(0))
            labels = cell.labels(params)
            tx = loop.make_optimiser(cfg, labels)
            grads = jax.tree.map(lambda p: jnp.full_like(p, 0.5 + 0.25j if jnp.iscomplexobj(p) else 0.5), params)
            updates, _ = tx.update(grads, tx.init(params), params)
            new = optax.apply_updates(params, updates)
            for k, v in new.items():
                assert bool(jnp.all(jnp.isfinite(v))), (path.name, point.name, k)
                if labels[k] == "unitary":
                    assert float(unitarity_error(v)) < 1e-5, (path.name, point.name, k)
                    seen.add((cfg.rms_normalise, cfg.optimiser))
    assert (True, "rmsprop") in seen and (False, "rmsprop") in seen  # both Cayley steps were taken


@pytest.mark.parametrize("rms", [False, True])
def test_a_zero_cayley_rate_freezes_w_exactly(rms):
    # configs/full-urnn-mnist-unitary-step.toml freezes W with unitary_lr = 0: the update must
    # be exactly zero (not merely small) while the other leaves still move.
    w = haar_unitary(jax.random.key(3), 5, jnp.complex64)
    params = {"W": w, "v": jnp.ones(3)}
    tx = optim.combined({"W": "unitary", "v": "euclidean"}, optim.euclidean("sgd", 0.1, clip=0.0),
                        optim.cayley_unitary(0.0, rms_normalise=rms))
    state = tx.init(params)
    for k in range(3):
        g = jax.random.normal(jax.random.key(10 + k), (5, 5), jnp.complex64) * 7
        updates, state = tx.update({"W": g, "v": jnp.ones(3)}, state, params)
        params = optax.apply_updates(params, updates)
    np.testing.assert_array_equal(params["W"], w)
    np.testing.assert_allclose(params["v"], 1 - 0.3, rtol=1e-6)
