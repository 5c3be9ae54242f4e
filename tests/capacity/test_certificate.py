"""Certificates without a Jacobian: the F_p sketch against the whole Jacobian mod p, the identity
upper bound, skipped primes, sizes refused up front, and the --exact paths of the CLI."""

from fractions import Fraction

import flint
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.capacity import get
from rnnlab.capacity import modular
from rnnlab.capacity.certificate import certified_record, certify, identity_upper_bound
from rnnlab.capacity.exact import _jacobian_columns, rational_point
from rnnlab.capacity.explain import explain_null_space, named_redundancies
from rnnlab.capacity.factors import LARGE_HEIGHT
from rnnlab.capacity.jacobian import _jacobian_and_rank
from rnnlab.capacity.modular import ModularField, check_sketch_fits, choose_prime, modular_rank, rank_mod, sketch
from rnnlab.capacity.parameterizations import dft_order
from rnnlab.cli import main
from rnnlab.errors import UsageError
from tests.cli.one_line import one_line_exit_2


def whole_jacobian_rank_mod_p(p, point, prime, omega, order) -> int:
    """The rank of phi([J; conj J]) with every one of its 2 n^2 rows formed: the reference."""
    halves = [_jacobian_columns(p, ModularField(order, prime, omega, conj), point) for conj in (False, True)]
    cols = [a + b for a, b in zip(*halves)]
    rows = [[int(c[i]) for c in cols] for i in range(len(cols[0]))]
    return int(flint.nmod_mat(rows, prime).rank())


def _at(p, point):
    order = dft_order(p)
    prime, omega = choose_prime(order)
    return sketch(p, point, prime, omega, order, 0), whole_jacobian_rank_mod_p(p, point, prime, omega, order), prime


@pytest.mark.parametrize("name,n", [("restricted", 3), ("restricted", 5), ("restricted", 6),
                                    ("restricted-stack", 4), ("householder", 3), ("givens", 4)])
def test_sketch_rank_is_the_rank_of_the_whole_jacobian_mod_p(name, n):
    p = get(name)(n)
    z, want, prime = _at(p, rational_point(p, 1, LARGE_HEIGHT))
    assert rank_mod(z, prime) == want


def test_sketch_sees_a_rank_drop_at_a_special_point():
    # restricted at N = 6 has generic rank 35 of 42 (7 named redundancies). At the point where every
    # phase is 1 (tangent 0) and both reflection vectors are e_1 the rank drops further; the sketch
    # must see exactly the same drop as the whole Jacobian, never more rank.
    p = get("restricted")(6)
    generic = rational_point(p, 1, LARGE_HEIGHT)
    special = []
    for f, s in zip(p.factors, p.slices()):
        if f.size == 6:  # a diagonal
            special += [Fraction(0)] * 6
        elif f.size == 12:  # a reflection: v = e_1
            special += [Fraction(1)] + [Fraction(0)] * 11
    assert len(special) == len(generic)
    z, want, prime = _at(p, special)
    assert rank_mod(z, prime) == want < 35
    z, want, prime = _at(p, generic)
    assert rank_mod(z, prime) == want == 35


def test_rank_mod_counts_dependent_rows_and_columns():
    prime = choose_prime(4)[0]
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, prime, (9, 4)), rng.integers(0, prime, (4, 7))
    z = modular.matmul_mod(a, b, prime)  # rank 4 (at most), 9 x 7
    assert rank_mod(z, prime) == int(flint.nmod_mat(z.tolist(), prime).rank()) == 4
    assert rank_mod(np.zeros((3, 0), np.int64), prime) == 0


@pytest.mark.parametrize("name,n", [("restricted", 7), ("restricted-stack", 12), ("givens", 5)])
def test_identity_upper_bound_counts_what_the_measured_null_space_explains(name, n):
    p = get(name)(n)
    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(0), jnp.float64))
    jac, res = _jacobian_and_rank(p, theta)
    want, _, _ = explain_null_space(p, jac, res, theta)
    got = named_redundancies(p, theta)
    assert {r.reason: r.count for r in got} == {r.reason: r.count for r in want}


def test_restricted_certified_without_any_jacobian():
    c = certify(get("restricted")(9))
    assert c["certified"] and c["exact_rank"] == c["upper_bound"] == 7 * 9 - 7 and c["known_redundancies"] == 7


def test_restricted_stack_lower_bound_below_its_named_upper_bound():
    # Two restricted blocks at N = 12: rank 13N - 21 = 135 < N^2; N + 18 = 30 redundancies are
    # named, so the upper bound is 138 and the sketch (a proof of >= 135, not more) leaves 3 open.
    c = certify(get("restricted-stack")(12))
    assert c["exact_rank"] == 135 and c["upper_bound"] == 138 and not c["certified"]
    rec = certified_record(get("restricted-stack")(12))
    assert rec["rank"] is None and rec["full_capacity"] is None


def test_a_prime_dividing_a_denominator_is_skipped_with_a_note(monkeypatch):
    p = get("restricted")(6)
    order = dft_order(p)
    first, _ = choose_prime(order)
    good = rational_point(p, 0, LARGE_HEIGHT)
    bad = [Fraction(1, first)] + good[1:]  # the first phase's tangent has the first prime as denominator
    monkeypatch.setattr(modular, "rational_point", lambda *a, **k: bad)
    m = modular_rank(p)
    assert [q for q, _ in m.skipped] == [first] and "divides a denominator" in m.skipped[0][1]
    assert m.prime != first and m.rank == 35


def test_sizes_beyond_memory_or_time_are_refused_with_the_estimate():
    entry = get("restricted")
    with pytest.raises(UsageError, match=r"57344 x 57344 sketch .*GiB"):
        check_sketch_fits("restricted", 8192, entry.structure(8192))
    cost = check_sketch_fits("restricted", 64, entry.structure(64))
    assert cost.params == 448 and cost.seconds < 60
    with pytest.raises(UsageError, match="would take longer"):
        check_sketch_fits("restricted", 64, entry.structure(64), max_seconds=1e-6)


def test_identity_upper_bound_of_a_full_capacity_map_is_the_dimension():
    b = identity_upper_bound(get("householder")(3))
    assert b["upper_bound"] == 9 and b["known_redundancies"] == 3 + 3 + 3


def test_cli_certificate_only_above_the_gram_threshold(capsys):
    # N = 160: the float64 rank would take the Gram path, so --exact gives the certificate alone.
    assert main(["capacity", "--param", "restricted", "--n", "160", "--exact"]) == 0
    out = capsys.readouterr().out
    assert "restricted N=160: certified rank 1113" in out
    assert "upper bound 1113: min(dim 25600, P 1120 - 7 known redundancies)" in out
    assert "float64 rank not measured" in out


def phases(n):
    """A user map: ``diag(exp(i theta))``."""
    return (lambda theta: jnp.diag(jnp.exp(1j * theta)), lambda key: jax.random.uniform(key, (n,)))


def test_cli_exact_refuses_a_user_map_and_a_size_too_large(capsys):
    assert main(["capacity", "--param", "tests.capacity.test_certificate:phases", "--n", "3"]) == 0
    capsys.readouterr()
    err = one_line_exit_2(capsys, ["capacity", "--param", "tests.capacity.test_certificate:phases", "--n", "3",
                                   "--exact"], "opaque JAX function")
    assert "--exact" in err
    one_line_exit_2(capsys, ["capacity", "--param", "restricted", "--n", "8192", "--exact"], "57344 x 57344")
