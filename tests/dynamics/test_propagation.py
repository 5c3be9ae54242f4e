import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.dynamics.propagation import checkpoints, measure_trajectory, propagate
from rnnlab.dynamics.spectrum import (
    ks_distance,
    marchenko_pastur_density,
    np_eigenvalues,
    np_predicted_density,
)
from rnnlab.errors import UsageError

seeds = st.integers(0, 2**31 - 1)


def test_measurements_match_brute_force_products():
    n, n_in, T = 5, 2, 15
    rng = np.random.default_rng(3)
    w = 1.5 * rng.standard_normal((n, n)) / math.sqrt(n)
    u = rng.standard_normal((n, n_in))
    xs = rng.standard_normal((T, n_in))
    d = np.array([0.6, 0.8])
    q0 = rng.standard_normal((n, 1))
    q0 /= np.linalg.norm(q0)
    with jax.enable_x64(True):
        log10_s, lsum, log10_sens, fd, active, h_T = map(np.asarray, measure_trajectory(
            jnp.asarray(w), jnp.asarray(u), jnp.asarray(xs), jnp.asarray(d), 1e-7,
            jnp.asarray(q0), jnp.ones(T, bool)))
    h, p, v = np.zeros(n), np.eye(n), np.zeros(n)
    for t in range(T):
        pre = w @ h + u @ xs[t]
        on = (pre > 0).astype(float)
        h = np.maximum(pre, 0)
        p = on[:, None] * (w @ p)
        v = on * (w @ v + (u @ d if t == 0 else 0))
        s = np.linalg.svd(p, compute_uv=False)
        big = s > 1e-10 * s[0]
        assert np.allclose(log10_s[t][big], np.log10(s[big]), atol=1e-9)
        assert log10_sens[t] == pytest.approx(np.log10(np.linalg.norm(v)), abs=1e-9)
        assert fd[t] == pytest.approx(np.linalg.norm(v), rel=1e-4)
        assert active[t] == on.sum()
    assert np.allclose(h_T, h)
    # With one tangent vector the QR method's sum is exactly log ||P_T q0||.
    assert lsum[0] == pytest.approx(np.log(np.linalg.norm(p @ q0)), abs=1e-9)


@pytest.mark.parametrize("init", ["np", "orthogonal"])
@given(seed=seeds)
def test_contractive_inits_never_grow_gradients_or_sensitivity(init, seed):
    # ||D W|| <= ||W|| = 1 for np and orthogonal W, so ||dh_t/dh_0|| and the tangent norm
    # cannot grow with t, whatever the inputs.
    r = propagate(jax.random.key(seed), init, 6, 40, trials=1, lyapunov=2)
    norms = r.log10_norm[0]
    assert np.all(norms <= 1e-12)
    sens = r.log10_sensitivity[0]
    finite = sens[np.isfinite(sens)]
    assert np.all(np.diff(finite) <= 1e-12)
    assert np.all(r.lyapunov <= 1e-12)


def test_identity_keeps_gradients_while_units_stay_on():
    # W = I: dh_t/dh_0 is diagonal with ones for the units never switched off, so its
    # norm is exactly 1 until every unit has been off once, then exactly 0.
    r = propagate(jax.random.key(1), "identity", 8, 30, trials=1, inputs="uniform", lyapunov=2)
    norms = r.log10_norm[0]
    assert np.all((np.abs(norms) < 1e-12) | np.isneginf(norms))
    assert np.all(np.diff(r.rank()[0]) <= 0)


def test_checkpoints_and_bad_arguments():
    cp = checkpoints(1000)
    assert cp[0] == 1 and cp[-1] == 1000 and np.all(np.diff(cp) > 0)
    key = jax.random.key(0)
    with pytest.raises(UsageError, match="unknown initialiser"):
        propagate(key, "xavier", 4, 5)
    with pytest.raises(UsageError, match="T must be"):
        propagate(key, "np", 4, 0)
    with pytest.raises(UsageError, match="eps"):
        propagate(key, "np", 4, 5, eps=float("nan"))


def test_marchenko_pastur_densities_integrate_to_one():
    x = np.linspace(0, 4, 400001)
    assert np.trapezoid(marchenko_pastur_density(x), x) == pytest.approx(1.0, abs=2e-3)
    mu = np.linspace(0.2, 1.0, 400001)
    assert np.trapezoid(np_predicted_density(mu), mu) == pytest.approx(1.0, abs=2e-3)
    assert marchenko_pastur_density(5.0) == 0.0


def test_np_spectrum_approaches_marchenko_pastur():
    e_small = np_eigenvalues(jax.random.key(0), 20, 5)
    e_large = np_eigenvalues(jax.random.key(0), 200, 5)
    assert np.allclose(e_large[:, -1], 1.0, atol=1e-12)
    assert np.all(e_large[:, :-1] > 0.19) and np.all(e_large[:, :-1] < 1.0)
    assert ks_distance(e_large) < 0.06
    assert ks_distance(e_large) < ks_distance(e_small)


def test_summary_reports_median_and_zero_count_not_a_mean_of_logs():
    # One trial of four exactly zero at the second checkpoint: a mean of log10 would be -inf
    # for all four; the median of the others is finite and the zero is counted.
    from rnnlab.dynamics.propagation import Propagation

    norms = np.array([[0.0, -1.0], [0.0, -np.inf], [0.0, -3.0], [0.0, -5.0]])
    sv = np.stack([norms, norms - 1.0], axis=-1)
    r = Propagation(
        init="identity", n=2, T=2, trials=4, steps=np.array([1, 2]), log10_norm=norms,
        log10_singular_values=sv, lyapunov=np.array([[-0.1], [-np.inf], [-0.3], [-0.5]]),
        log10_sensitivity=norms, sensitivity_fd=10.0 ** norms, active_fraction=np.ones(4),
        state_norm=np.ones(4))
    row = r.to_dict()["checkpoints"][1]
    assert row["log10_norm"] == pytest.approx(-4.0)  # median of -inf, -5, -3, -1
    assert row["zero_trials"] == 1
    assert row["log10_norm_trials"] == [-1.0, None, -3.0, -5.0]
    assert r.to_dict()["lyapunov"] == [pytest.approx(-0.4)]
    # Half the trials zero: the median itself is an exact zero, reported as None.
    half = Propagation(**{**r.__dict__, "log10_norm": np.where(norms == -5.0, -np.inf, norms)})
    assert half.to_dict()["checkpoints"][1]["log10_norm"] is None
