"""Maps that differ only in their structure seed are different maps, also to the caches."""

import numpy as np
import pytest

from rnnlab.capacity import parameterizations
from rnnlab.capacity.jacobian import jacobian


@pytest.mark.parametrize("name", ["full", "restricted"])
def test_structure_seed_is_part_of_the_map(name):
    a = parameterizations.get(name)(4, structure_seed=0)
    b = parameterizations.get(name)(4, structure_seed=1)
    assert a != b and a.structure_seed == 0 and b.structure_seed == 1
    assert a == parameterizations.get(name)(4, structure_seed=0)
    assert hash(a) == hash(parameterizations.get(name)(4, structure_seed=0))


def test_jacobians_of_full_maps_with_different_base_points_differ():
    # The compiled tangents are cached per map: a second seed must not get the first's W0.
    n = 3
    a = parameterizations.get("full")(n, structure_seed=0)
    b = parameterizations.get("full")(n, structure_seed=1)
    theta = np.zeros(a.num_params)
    ja, jb = jacobian(a, theta), jacobian(b, theta)
    # At theta = 0 the tangent of A_k is W0 E_k, so column k of each Jacobian is W0 times
    # the k-th skew-Hermitian basis matrix: compare with each map's own W0, to rounding.
    eps = 16 * n * np.finfo(np.float64).eps
    for p, jac in ((a, ja), (b, jb)):
        w0 = p.factors[0].matrix
        w = np.asarray(p.matrix(np.zeros(p.num_params, np.float32)))
        np.testing.assert_allclose(w, w0, atol=1e-5)
        cols = jac.reshape(2, n, n, -1)
        tangent = cols[0] + 1j * cols[1]  # (n, n, P)
        basis = np.einsum("ij,jkp->ikp", w0.conj().T, tangent)  # W0^H dW = E_k
        np.testing.assert_allclose(basis + basis.conj().transpose(1, 0, 2), 0, atol=eps)
    assert np.max(np.abs(ja - jb)) > 0.1
