"""Every task x model, tiny: a few steps on one batch lower the loss, and a unitary W stays unitary."""

import jax
import numpy as np
import pytest

from rnnlab.analysis import unitarity_error
from rnnlab.errors import UsageError
from rnnlab.training import cells, loop, tasks
from rnnlab.training.config import TrainConfig

URNNS = ("restricted-urnn", "full-urnn")
# The MNIST tasks need the dataset and share the models' code path: tests/training/test_mnist.py.
DATASET_TASKS = ("mnist", "pmnist")
PAIRS = [(t, m) for t in tasks.names() for m in cells.names()
         if (t != "system-id" or m in URNNS) and t not in DATASET_TASKS]
N, T, BATCH, STEPS = 4, 2, 8, 4
# Speech runs on the generated corpus: it needs no espeak-ng, so a fresh machine runs these.
DATA = {"speech": "synthetic"}


# Compiled steps shared by pairs whose programs are identical: the six tanh / ReLU variants
# differ only in their initial W, and addition / multiplication only in how data is made.
_STEPS: dict = {}


def _shared_step(exp):
    cell, task = exp.cell, exp.task
    key = (type(cell), getattr(cell, "activation", None), getattr(cell, "capacity", None),
           type(task).loss, type(task).metrics, task.length, task.n_in, task.n_out, task.all_steps)
    if key not in _STEPS:
        _STEPS[key] = loop.make_train_step(cell, task, exp.tx, exp.labels)
    return _STEPS[key]


@pytest.mark.parametrize("task,model", PAIRS)
def test_few_steps_lower_the_loss(task, model):
    exp = loop.build(TrainConfig(task=task, model=model, n=N, T=T, batch=BATCH, lr=3e-3, data=DATA.get(task)))
    state = loop.init_state(exp, jax.random.key(1))
    step = _shared_step(exp)
    x, y = exp.task.sample(jax.random.key(2), BATCH)
    assert x.shape == (exp.task.length, BATCH, exp.task.n_in)
    losses = []
    for _ in range(STEPS):
        state, metrics = step(state, x, y)
        assert bool(metrics["finite"])
        losses.append(float(metrics["loss"]))
    assert losses[-1] < losses[0], losses
    if exp.cell.is_unitary():
        w = exp.cell.recurrent_matrix(state.params)
        assert float(unitarity_error(w)) < 50 * N * np.finfo(np.float32).eps


def test_system_id_trains_only_the_recurrent_leaf():
    exp = loop.build(TrainConfig(task="system-id", model="full-urnn", n=N, T=T, batch=BATCH))
    state = loop.init_state(exp, jax.random.key(1))
    before = jax.tree.map(np.asarray, state.params)
    step = loop.make_train_step(exp.cell, exp.task, exp.tx, exp.labels)
    state, _ = step(state, *exp.task.sample(jax.random.key(2), BATCH))
    for name, value in state.params.items():
        moved = not np.array_equal(before[name], np.asarray(value))
        assert moved == (name == "W"), name
    assert loop.num_params(exp) == N * N


def test_system_id_rejects_non_unitary_models():
    with pytest.raises(UsageError, match="uRNN"):
        loop.build(TrainConfig(task="system-id", model="lstm", n=N, T=T))


def test_paper_parameter_counts_on_copy():
    # The copy-task sizes of Wisdom et al. (~22k parameters each), counted by the formulas of
    # docs/training.md with the copy task's 10 input and 9 output classes; the docs quote
    # 22,109 / 21,385 / 21,629.
    n_in, n_out = 10, 9
    formula = {
        ("lstm", 68): 4 * (68 * (68 + n_in) + 68) + n_out * 68 + n_out,
        ("full-urnn", 128): 128**2 + 2 * 128 * n_in + 128 + 2 * 128 * n_out + n_out,
        ("restricted-urnn", 470): 7 * 470 + 2 * 470 * n_in + 470 + 2 * 470 * n_out + n_out,
    }
    counts = {(m, n): loop.num_params(loop.build(TrainConfig(task="copy", model=m, n=n, T=100)))
              for m, n in formula}
    assert counts == formula
    assert list(formula.values()) == [22_109, 21_385, 21_629]


@pytest.mark.parametrize("name", ["addition", "multiplication"])
def test_marked_pair_targets(name):
    task = tasks.make(name, 7, 1)
    x, y = task.sample(jax.random.key(0), 64)
    x, y = np.asarray(x), np.asarray(y)
    markers = x[..., 1]
    assert np.all(markers.sum(0) == 2)
    assert np.all(markers[: 7 // 2].sum(0) == 1)
    marked = np.where(markers.T == 1, x[..., 0].T, np.nan)
    values = marked[~np.isnan(marked)].reshape(64, 2)
    expected = values.sum(1) if name == "addition" else values.prod(1)
    np.testing.assert_allclose(y[:, 0], expected, rtol=1e-6)


def test_copy_layout_and_baseline():
    T = 5
    task = tasks.make("copy", T, 1)
    x, y = task.sample(jax.random.key(0), 3)
    tokens, y = np.argmax(np.asarray(x), -1), np.asarray(y)
    assert tokens.shape == (T + 20, 3) and task.length == T + 20
    assert np.all((tokens[:10] >= 1) & (tokens[:10] <= 8))
    assert np.all(tokens[10 : T + 9] == 0) and np.all(tokens[T + 9] == 9) and np.all(tokens[T + 10 :] == 0)
    assert np.all(y[: T + 10] == 0) and np.array_equal(y[T + 10 :], tokens[:10])
    assert task.baseline == pytest.approx(10 * np.log(8) / (T + 20))


@pytest.mark.parametrize("name", ["copy", "addition", "multiplication"])
def test_task_batches_differ_by_key_and_across_the_batch(name):
    # A sampler that ignored its key, or drew one sequence for the whole batch, would
    # train on a fixed data set: batches from different keys, and sequences within a
    # batch, must differ.
    task = tasks.make(name, 12, 1)
    (xa, ya), (xb, yb) = task.sample(jax.random.key(7), 6), task.sample(jax.random.key(8), 6)
    xa, xb = np.asarray(xa), np.asarray(xb)
    assert not np.array_equal(xa, xb)
    assert len({xa[:, i].tobytes() for i in range(6)}) == 6


def test_mod_relu_is_the_papers_formula():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 8))
    b = np.linspace(-1, 1, 4)
    zc = z[:, :4] + 1j * z[:, 4:]
    expected = np.maximum(np.abs(zc) + b, 0) * zc / np.abs(zc)
    out = np.asarray(cells.mod_relu(z, b))
    np.testing.assert_allclose(out[:, :4] + 1j * out[:, 4:], expected, rtol=1e-6)


def test_mod_relu_near_and_at_zero():
    # |z| = 1e-3, b = -5e-4: relu(|z| + b) = 5e-4 is the modulus of the output (an epsilon
    # inside |z| would give 8.5e-4 for eps = 1e-5).
    z = np.array([0.6e-3, 0.8e-3], np.float32)
    out = np.asarray(cells.mod_relu(z, np.array([-5e-4], np.float32)))
    assert np.hypot(*out) == pytest.approx(5e-4, rel=4 * float(np.finfo(np.float32).eps))
    np.testing.assert_allclose(out / np.hypot(*out), z / np.hypot(*z), rtol=4 * np.finfo(np.float32).eps)
    # At z = 0 the output is 0 and the gradient finite.
    zero = np.zeros(2, np.float32)
    b = np.array([-0.1], np.float32)
    assert np.all(np.asarray(cells.mod_relu(zero, b)) == 0)
    g = jax.grad(lambda zz, bb: jax.numpy.sum(cells.mod_relu(zz, bb)), argnums=(0, 1))(zero, b)
    assert all(np.all(np.isfinite(np.asarray(x))) for x in g)


def _mod_relu_by_autodiff(z, b):
    """The formula in complex arithmetic, differentiated by JAX (the reference for the hand VJP)."""
    jnp = jax.numpy
    n = b.shape[-1]
    zc = z[..., :n] + 1j * z[..., n:]
    mod = jnp.abs(jnp.where(zc == 0, 1.0, zc))
    out = jnp.where(zc == 0, 0.0, jax.nn.relu(mod + b) / mod) * zc
    return jnp.concatenate([out.real, out.imag], axis=-1)


def _mod_relu_eps_by_autodiff(eps):
    """The authors' eps form in complex arithmetic, differentiated by JAX."""
    jnp = jax.numpy

    def phi(z, b):
        n = b.shape[-1]
        zc = z[..., :n] + 1j * z[..., n:]
        m = jnp.sqrt(eps + zc.real**2 + zc.imag**2)
        out = jax.nn.relu(m + b) / (m + eps) * zc
        return jnp.concatenate([out.real, out.imag], axis=-1)

    return phi


def test_mod_relu_with_eps_is_the_authors_formula_and_gradient():
    eps = 1e-5
    with jax.enable_x64(True):
        rng = np.random.default_rng(5)
        n = 6
        z = rng.normal(size=(5, 4, 2 * n))
        z[0, 0, [1, 1 + n]] = 0.0  # a zero unit: finite here, no guard needed
        z[1, 2, [4, 4 + n]] = [3e-4, -2e-4]  # |z| = 3.6e-4, below sqrt(eps) = 3.2e-3
        b = np.array([-0.3, 0.2, -5.0, 0.0, 0.5, 0.7])
        phi = cells.mod_relu_with(eps)
        # The value against numpy: relu(m + b) z / (m + eps), m = sqrt(|z|^2 + eps).
        zc = z[..., :n] + 1j * z[..., n:]
        m = np.sqrt(np.abs(zc) ** 2 + eps)
        expected = np.maximum(m + b, 0) / (m + eps) * zc
        out = np.asarray(phi(z, b))
        np.testing.assert_allclose(out[..., :n] + 1j * out[..., n:], expected, rtol=0, atol=8 * np.finfo(float).eps)
        g = rng.normal(size=z.shape)
        (dz, db), (ref_dz, ref_db) = jax.vjp(phi, z, b)[1](g), jax.vjp(_mod_relu_eps_by_autodiff(eps), z, b)[1](g)
        # The unit at |z| = 3.6e-4 with b = 0.5 has derivatives ~ b / sqrt(eps) ~ 160 times g's.
        np.testing.assert_allclose(dz, ref_dz, rtol=0, atol=64 * np.finfo(float).eps * np.abs(ref_dz).max())
        np.testing.assert_allclose(db, ref_db, rtol=0, atol=z.size * np.finfo(float).eps)
        # A unit with |z| >> sqrt(eps) moves only at the order eps / |z| (the eps of m + eps).
        big = np.array([3.0, 4.0])
        rel = np.asarray(phi(big, np.array([0.2]))) / np.asarray(cells.mod_relu(big, np.array([0.2]))) - 1
        assert np.all(np.abs(rel) > 0.5 * eps / 5) and np.all(np.abs(rel) < 1.5 * eps / 5)
        assert cells.mod_relu_with(eps) is phi  # one function per eps: compiled steps are reused


def test_mod_relu_eps_bounds_the_derivative_at_small_modulus():
    # Across a unit (the direction i z) the Jacobian scales by r = relu(m + b) / (m + eps): at
    # |z| = 1e-6 and b = 0.5 the exact formula gives 1 + b / |z| = 5e5 + 1, the eps form at most
    # (sqrt(eps) + b) / (sqrt(eps) + eps) = 159.
    with jax.enable_x64(True):
        z = np.array([1e-6, 0.0])
        b = np.array([0.5])
        across = np.array([0.0, 1.0])
        for eps, gain in ((0.0, 1 + 0.5 / 1e-6), (1e-5, (np.sqrt(1e-12 + 1e-5) + 0.5) / (np.sqrt(1e-12 + 1e-5) + 1e-5))):
            dz = jax.vjp(lambda zz: cells.mod_relu_with(eps)(zz, b), z)[1](across)[0]
            np.testing.assert_allclose(np.asarray(dz), gain * across, rtol=16 * np.finfo(float).eps)
    # At z = 0 (a state that sits at zero, as over MNIST's blank leading pixels from h0 = 0) the
    # exact form passes nothing back, the eps form r = (sqrt(eps) + b) / (sqrt(eps) + eps) per
    # step: 2.6 for b = 0.005, so 100 such steps overflow float32 (2.6^100 ~ 1e41).
    with jax.enable_x64(True):
        zero, b = np.zeros(2), np.array([0.005])
        g = np.array([0.6, 0.8])
        assert np.all(np.asarray(jax.vjp(lambda zz: cells.mod_relu(zz, b), zero)[1](g)[0]) == 0)
        r = (np.sqrt(1e-5) + 0.005) / (np.sqrt(1e-5) + 1e-5)
        dz = jax.vjp(lambda zz: cells.mod_relu_with(1e-5)(zz, b), zero)[1](g)[0]
        np.testing.assert_allclose(np.asarray(dz), r * g, rtol=16 * np.finfo(float).eps)
    with pytest.raises(ValueError, match="eps"):
        cells.mod_relu_with(-1e-5)


def test_urnn_cells_take_modrelu_eps_and_other_models_refuse_it():
    x = np.random.default_rng(2).normal(size=(7, 3, 2)).astype(np.float32)
    for name in ("full-urnn", "restricted-urnn"):
        exact = cells.make(name, 6, 2, 3)
        eps = cells.make(name, 6, 2, 3, modrelu_eps=0.01)
        params = exact.init(jax.random.key(0))
        # The same parameters, run step by step with each modReLU: the cell's phi is the one used.
        consts = exact.step_constants(params)
        h = np.zeros((3, 12), np.float32)
        h_eps = h
        u = np.asarray(exact.project_inputs(params, x))
        for t in range(7):
            h = exact.step(consts, h, u[t])
            h_eps = np.asarray(cells.mod_relu_with(0.01)(np.asarray(eps.recur(consts[0], h_eps) if name == "restricted-urnn" else h_eps @ consts[0]) + u[t], consts[1]))
        out = eps.apply(params, x, all_steps=False)
        np.testing.assert_allclose(np.asarray(out), np.asarray(eps.readout(params, h_eps)), rtol=1e-5, atol=1e-6)
        assert not np.allclose(np.asarray(out), np.asarray(exact.apply(params, x, all_steps=False)), atol=1e-4)
    with pytest.raises(UsageError, match="modrelu_eps applies only to the uRNNs"):
        cells.make("lstm", 6, 2, 3, modrelu_eps=1e-5)
    with pytest.raises(UsageError, match="modrelu_eps applies only to the uRNNs"):
        cells.make("np-rnn", 6, 2, 3, modrelu_eps=1e-5)


def test_modrelu_eps_goes_from_the_config_to_the_cell():
    from rnnlab.training import config as config_mod

    assert loop.build(config_mod.resolve({}, {"model": "full-urnn", "n": 4})).cell.phi is cells.mod_relu
    cfg = config_mod.resolve({"modrelu_eps": 1e-5}, {"model": "restricted-urnn", "n": 4})
    assert loop.build(cfg).cell.phi is cells.mod_relu_with(1e-5)
    with pytest.raises(UsageError, match="modrelu_eps must be a finite number >= 0"):
        config_mod.resolve({"modrelu_eps": -1e-5}, {"model": "full-urnn"})


def test_mod_relu_gradient_is_autodiffs():
    # Active units, units switched off by b (|z| + b < 0), exact zeros; z with time and batch
    # axes and b (n,) broadcast over them, as the recurrence's backward pass calls it.
    with jax.enable_x64(True):
        rng = np.random.default_rng(3)
        n = 6
        z = rng.normal(size=(5, 4, 2 * n))
        z[0, 0, [1, 1 + n]] = 0.0
        b = np.array([-0.3, 0.2, -5.0, 0.0, -0.05, 0.7])
        g = rng.normal(size=z.shape)
        out, vjp = jax.vjp(cells.mod_relu, z, b)
        ref_out, ref_vjp = jax.vjp(_mod_relu_by_autodiff, z, b)
        np.testing.assert_allclose(out, ref_out, rtol=0, atol=8 * np.finfo(np.float64).eps)
        (dz, db), (ref_dz, ref_db) = vjp(g), ref_vjp(g)
        assert dz.shape == z.shape and db.shape == b.shape
        np.testing.assert_allclose(dz, ref_dz, rtol=0, atol=32 * np.finfo(np.float64).eps)
        np.testing.assert_allclose(db, ref_db, rtol=0, atol=z.size * np.finfo(np.float64).eps)
        # The unit with b = -5 is off everywhere here: nothing flows through it.
        assert np.all(dz[..., [2, 2 + n]] == 0) and db[2] == 0


def test_real_block_form_of_a_complex_matmul():
    rng = np.random.default_rng(1)
    w = (rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))).astype(np.complex64)
    h = (rng.normal(size=(2, 5)) + 1j * rng.normal(size=(2, 5))).astype(np.complex64)
    out = np.concatenate([h.real, h.imag], -1) @ np.asarray(cells.complex_to_real_block(w))
    np.testing.assert_allclose(out[:, :5] + 1j * out[:, 5:], h @ w.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", URNNS)
def test_learned_h0_starts_every_sequence_and_gets_its_gradient(name):
    # The learned initial state (the authors' h_0): drawn uniform in +-sqrt(3 / (2N)), the
    # other leaves those of the zero-h0 cell, and the custom backward pass's gradient on it
    # equal to autodiff of a plain scan of the cell's step.
    with jax.enable_x64(True):
        n = 5
        zero = cells.make(name, n, 2, 3)
        cell = cells.make(name, n, 2, 3, h0="learned")
        key = jax.random.key(4)
        params = cell.init(key, np.float64)
        base = zero.init(key, np.float64)
        assert set(params) == set(base) | {"h0"} and params["h0"].shape == (2 * n,)
        assert all(np.array_equal(np.asarray(params[k]), np.asarray(base[k])) for k in base)
        bound = np.sqrt(3 / (2 * n))
        assert np.all(np.abs(np.asarray(params["h0"])) <= bound) and np.abs(np.asarray(params["h0"])).max() > bound / 2
        x = np.random.default_rng(1).normal(size=(6, 3, 2))

        def by_scan(p):
            consts = cell.step_constants(p)
            u = cell.project_inputs(p, x)
            h = jax.numpy.broadcast_to(p["h0"], (3, 2 * n))
            h, _ = jax.lax.scan(lambda hh, ut: (cell.step(consts, hh, ut), None), h, u)
            return jax.numpy.sum(cell.readout(p, h) ** 2)

        def by_apply(p):
            return jax.numpy.sum(cell.apply(p, x, all_steps=False) ** 2)

        np.testing.assert_allclose(by_apply(params), by_scan(params), rtol=1e-12)
        g, ref = jax.grad(by_apply)(params), jax.grad(by_scan)(params)
        np.testing.assert_allclose(np.asarray(g["h0"]), np.asarray(ref["h0"]), rtol=1e-9, atol=1e-12)
        assert np.abs(np.asarray(g["h0"])).max() > 1e-3  # the gradient reaches it
        # The same leaves from a zero state give another output: the cell starts from h0.
        assert not np.isclose(float(by_apply(params)), float(jax.numpy.sum(zero.apply(base, x, all_steps=False) ** 2)))
    with pytest.raises(UsageError, match="h0 must be one of"):
        cells.make(name, n, 2, 3, h0="random")
    with pytest.raises(UsageError, match="applies only to the uRNNs"):
        cells.make("lstm", n, 2, 3, h0="learned")


def test_eps_form_overflows_from_a_zero_state_and_not_from_a_learned_one():
    # 120 zero inputs, then one: from h0 = 0 the state rests at 0 and the eps form passes
    # (sqrt(eps) + b) / (sqrt(eps) + eps) = 4.2 back per step at b = 0.01: 4.2^120 overflows
    # float32 and the gradient on V is not finite; from the learned h0 (|h_j| ~ 1 / sqrt(N))
    # it is.
    x = np.zeros((121, 2, 1), np.float32)
    x[-1] = 1.0
    for h0, finite in (("zero", False), ("learned", True)):
        cell = cells.make("full-urnn", 4, 1, 2, modrelu_eps=1e-5, h0=h0)
        params = cell.init(jax.random.key(0))
        params["b"] = jax.numpy.full((4,), 0.01)
        g = jax.grad(lambda p: jax.numpy.sum(cell.apply(p, x, all_steps=False) ** 2))(params)
        assert bool(np.all(np.isfinite(np.asarray(g["V"])))) == finite, h0
