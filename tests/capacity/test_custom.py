"""A user's own map: the same report as the built-ins, checked on its manifold first."""

import json

import jax
import jax.numpy as jnp
import pytest

from rnnlab.capacity import get
from rnnlab.capacity.custom import custom_map
from rnnlab.capacity.jacobian import measure
from rnnlab.cli import main
from rnnlab.errors import UsageError


def phases_with_one_redundant(n):
    """diag(exp(i(theta_0 + theta_1)), exp(i theta_2), ...): n + 1 parameters, rank n by construction."""

    def matrix(theta):
        w = jnp.concatenate([theta[:1] + theta[1:2], theta[2:]])
        return jnp.diag(jnp.exp(1j * w))

    return matrix, lambda key: jax.random.uniform(key, (n + 1,), minval=-3.0, maxval=3.0)


def rotation_of_one_angle(n):
    """A real rotation by one angle in the (0, 1) plane: P = 1, rank 1 on O(n)."""

    def matrix(theta):
        c, s = jnp.cos(theta[0]), jnp.sin(theta[0])
        return jnp.eye(n).at[0, 0].set(c).at[0, 1].set(-s).at[1, 0].set(s).at[1, 1].set(c)

    return matrix, lambda key: jax.random.uniform(key, (1,))


def not_unitary(n):
    return (lambda theta: theta.reshape(n, n)), lambda key: jax.random.normal(key, (n * n,))


def wrong_shape(n):
    return (lambda theta: jnp.eye(n + 1)), lambda key: jnp.zeros(2)


def with_nan(n):
    return (lambda theta: jnp.eye(n) * jnp.nan), lambda key: jnp.zeros(2)


@pytest.mark.parametrize("n", [3, 5])
def test_user_map_rank_known_by_construction(n):
    r = measure(custom_map(*phases_with_one_redundant(n), n=n), seeds=(0, 1))
    assert (r.params, r.rank, r.manifold_dim) == (n + 1, n, n * n)
    assert not r.full_capacity and r.unexplained == 1


def test_real_user_map_is_measured_on_o_n():
    r = measure(custom_map(*rotation_of_one_angle(4), n=4), seeds=(0,))
    assert (r.rank, r.manifold_dim) == (1, 6)


@pytest.mark.parametrize("build,words", [(not_unitary, "not orthogonal"), (wrong_shape, "shape"), (with_nan, "NaN")])
def test_bad_user_maps_are_refused_before_any_rank(build, words):
    with pytest.raises(ValueError, match=words):
        custom_map(*build(3), n=3)


def test_registry_lookup_of_a_module_function():
    entry = get("tests.capacity.test_custom:phases_with_one_redundant")
    p = entry(4)
    assert p.num_params == 5 and p.manifold_dim == 16
    # The size checks ask an entry for P and its factors before building, as for the built-ins.
    assert entry.num_params(4) == 5 and sum(f.size for f in entry.structure(4)) == 5
    with pytest.raises(UsageError, match="cannot import"):
        get("no_such_pkg.mod:f")
    with pytest.raises(UsageError, match="no function"):
        get("tests.capacity.test_custom:absent")


def test_cli_user_map(capsys):
    assert main(["capacity", "--n", "3", "--seeds", "1", "--json",
                 "--param", "tests.capacity.test_custom:phases_with_one_redundant"]) == 0
    import json

    (rec,) = json.loads(capsys.readouterr().out)
    assert (rec["params"], rec["rank"], rec["unexplained_null_directions"]) == (4, 3, 1)


@pytest.mark.parametrize("func", ["not_unitary", "absent", "wrong_shape"])
def test_cli_bad_user_map_is_one_line_exit_2(func, capsys):
    assert main(["capacity", "--n", "3", "--param", f"tests.capacity.test_custom:{func}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


MY_MAP = '''
import jax
import jax.numpy as jnp


def my_map(n):
    def matrix(theta):
        return jnp.diag(jnp.exp(1j * theta))

    return matrix, lambda key: jax.random.uniform(key, (n,))
'''


def test_cli_user_map_from_the_current_folder(tmp_path, monkeypatch, capsys):
    # The installed rnnlab script puts its own folder on sys.path, not the current one: a
    # package beside the user was not found, though python -m would have found it.
    import sys

    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "maps.py").write_text(MY_MAP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    try:
        assert main(["capacity", "--n", "3", "--seeds", "1", "--json", "--param", "mypkg.maps:my_map"]) == 0
    finally:
        for name in ("mypkg", "mypkg.maps"):
            sys.modules.pop(name, None)
    (rec,) = json.loads(capsys.readouterr().out)
    assert (rec["params"], rec["rank"], rec["manifold_dim"]) == (3, 3, 9)
    assert sys.path[-1] == str(tmp_path)  # after the installed packages: it hides none of them
