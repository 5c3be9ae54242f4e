"""The F_p rank: exact modular products, agreement with sympy and the float64 rank, certificates."""

from fractions import Fraction

import flint
import numpy as np
import pytest

from rnnlab.analysis import numerical_rank
from rnnlab.capacity import get
from rnnlab.capacity.atlas import FAMILIES
from rnnlab.capacity.certificate import certify
from rnnlab.capacity.exact import exact_rank, rational_point
from rnnlab.capacity.factors import LARGE_HEIGHT, SMALL_HEIGHT, nonzero_tangent
from rnnlab.capacity.jacobian import jacobian, measure
from rnnlab.capacity.modular import choose_prime, matmul_mod, modular_rank, sketch
from rnnlab.capacity.parameterizations import dft_order


def test_matmul_mod_is_exact():
    p, _ = choose_prime(64)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, p, (7, 300)), rng.integers(0, p, (300, 5))
    want = [[sum(int(x) * int(y) for x, y in zip(a[i], b[:, j])) % p for j in range(5)] for i in range(7)]
    assert matmul_mod(a, b, p).tolist() == want


@pytest.mark.parametrize("order", [4, 12, 64, 100])
def test_choose_prime_gives_a_root_of_exact_order(order):
    p, w = choose_prime(order)
    assert p % order == 1 and p < 2**26
    assert pow(w, order, p) == 1
    assert all(pow(w, k, p) != 1 for k in range(1, order))


@pytest.mark.parametrize("name,n", [("restricted", 3), ("restricted", 4), ("givens", 3), ("cayley", 3),
                                    ("householder", 3), ("clements", 4), ("scornn", 4), ("kru", 4)])
def test_modular_rank_equals_sympy_and_float_rank_at_the_same_point(name, n):
    p = get(name)(n)
    m = modular_rank(p, height=SMALL_HEIGHT)  # the sympy path's point
    assert m.rank == exact_rank(p).rank
    point = exact_rank(p).numeric_point(p)
    assert m.rank == numerical_rank(jacobian(p, point)).rank


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.law is not None], ids=lambda f: f.name)
def test_rank_law_is_reached_exactly_at_small_n(fam):
    # The F_p rank is a lower bound; the law is the generic rank, which a point of large height
    # reaches (a small-height point can sit on the hypersurface where the rank drops).
    for n in (3, 4, 6):
        assert modular_rank(get(fam.name)(n)).rank == fam.law(n), (fam.name, n)


def test_givens_is_certified_and_special_angles_are_avoided():
    # Tangent 0 or +-1 (angle 0 or pi/2) makes a 2x2 rotation the identity or a swap, where the
    # rank drops: the exact paths never draw them, at either height.
    rng = np.random.default_rng(0)
    for height in (SMALL_HEIGHT, LARGE_HEIGHT):
        assert all(abs(nonzero_tangent(rng, height)) not in (0, 1) for _ in range(2000))
    p = get("givens")(8)
    for seed in range(5):
        assert all(abs(t) not in (0, 1) for t in rational_point(p, seed))
    at_zero = [Fraction(0)] * p.num_params  # every rotation the identity, every phase 1
    prime, omega = choose_prime(dft_order(p))
    z = sketch(p, at_zero, prime, omega, dft_order(p), 0)
    assert flint.nmod_mat(*z.shape, z.ravel().tolist(), prime).rank() < 57
    for n in (8, 12):  # generic rank N^2 - N + 1, reached and certified
        q = get("givens")(n)
        cert = certify(q, measure(q, seeds=(0,)).as_record())
        assert cert["certified"] and cert["exact_rank"] == cert["upper_bound"] == n * n - n + 1


def test_restricted_is_certified_at_7_with_rank_7n_minus_7():
    p = get("restricted")(7)
    rec = measure(p, seeds=(0,)).as_record()
    cert = certify(p, rec)
    assert cert["exact_rank"] == cert["upper_bound"] == 7 * 7 - 7
    assert cert["certified"] and cert["known_redundancies"] == 7


@pytest.mark.parametrize("name,n,wasted", [("givens", 4, 3), ("givens", 5, 4), ("eunn-fft", 4, 3)])
def test_rotation_products_lost_directions_are_all_named(name, n, wasted):
    r = measure(get(name)(n), seeds=(0,))
    assert r.params - r.rank == wasted and r.unexplained == 0
    (red,) = r.redundancies
    assert red.reason == "a phase pushed through the later rotations into the diagonal" and red.count == wasted


@pytest.mark.parametrize("n", [12, 13])
def test_restricted_stack_falls_short_of_n_squared_from_12_as_its_observed_law_says(n):
    # Two restricted blocks: 14N parameters, rank 13N - 21 < N^2 from N = 12 (the float rank and
    # the exact F_p lower bound agree on it).
    p = get("restricted-stack")(n)
    assert modular_rank(p).rank == 13 * n - 21 < n * n
    assert measure(p, seeds=(0,)).rank == 13 * n - 21
