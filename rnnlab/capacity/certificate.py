"""A certified rank: a proven lower bound that meets the upper bound of the known redundancies.

- Lower bound: the rank at one rational point, computed exactly, over F_p
  (:mod:`rnnlab.capacity.modular`, python-flint, any N) or over Q(zeta_M)
  (:mod:`rnnlab.capacity.exact`, sympy, small N). Either is at most the generic rank.
- Upper bound: ``min(dim, P - k)``, where ``k`` counts the known redundancies found
  independent in the null space (:func:`rnnlab.capacity.jacobian.explain_null_space`). Each is
  an identity that holds at every parameter point (a reflection does not see the scale or
  phase of its vector, a global phase commutes with everything, two reflections act through
  their product on a plane), so ``k`` independent directions of the kernel at one point bound
  the generic rank by ``P - k``.

When the two meet, the generic rank is that number: ``certified``.
"""

from __future__ import annotations

from rnnlab.capacity.factors import SMALL_HEIGHT
from rnnlab.capacity.parameterizations import Parameterization

METHODS = ("modular", "sympy", "both")


def exact_lower_bound(p: Parameterization, method: str = "modular", seed: int = 0) -> dict:
    """``{"exact_rank", "exact_method", ...}``: a proven lower bound on the generic rank of ``p``.

    ``modular``: over F_p at a point of large height; ``sympy``: over Q(zeta_M) at a point of
    small height; ``both``: the modular bound, plus both exact ranks at the sympy path's point
    (``sympy_rank``, ``modular_rank_at_sympy_point``), which must agree.
    """
    if method not in METHODS:
        raise ValueError(f"unknown exact method {method!r}; choose from {', '.join(METHODS)}")
    if not all(hasattr(f, "exact") for f in p.factors):
        raise ValueError(f"{p.name} has no exact form (a factor without rational points); no certificate")
    out: dict = {}
    if method in ("modular", "both"):
        from rnnlab.capacity.modular import modular_rank

        m = modular_rank(p, seed=seed)
        out.update(exact_rank=m.rank, exact_method=m.method, prime=m.prime)
    if method in ("sympy", "both"):
        from rnnlab.capacity.exact import exact_rank

        e = exact_rank(p, seed=seed)
        out["sympy_rank"] = e.rank
        if method == "sympy":
            out.update(exact_rank=e.rank, exact_method=f"rank over {e.field} (sympy DomainMatrix) of the Jacobian "
                       "at a rational point: a proven lower bound")
        else:  # modular_rank was imported above, for the bound itself
            out["modular_rank_at_sympy_point"] = modular_rank(p, seed=seed, height=SMALL_HEIGHT).rank
    return out


def certify(p: Parameterization, record: dict, method: str = "modular", seed: int = 0, points: int = 3) -> dict:
    """The exact lower bound, the redundancy upper bound, and whether they meet, for a measured ``record``.

    Each point's exact rank is a proven lower bound, so up to ``points`` points (seeds
    ``seed``, ``seed + 1``, ...) are tried until one meets the upper bound; the best is kept.
    The ``both`` cross-check is made once, at the first point; later points use F_p alone.
    """
    known = sum(r["count"] for r in record["redundant_directions"])
    upper = min(record["manifold_dim"], record["params"] - known)
    best = dict(exact_lower_bound(p, method, seed), point_seed=seed)
    again = "modular" if method == "both" else method
    for k in range(1, points):
        if best["exact_rank"] >= upper:
            break
        out = exact_lower_bound(p, again, seed + k)
        if out["exact_rank"] > best["exact_rank"]:
            best.update(out, point_seed=seed + k)
    best.update(upper_bound=upper, known_redundancies=known, certified=best["exact_rank"] == upper)
    return best
