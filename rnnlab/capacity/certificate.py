"""A certified rank: a proven lower bound that meets the upper bound of the known redundancies.

- Lower bound: the rank at one rational point, computed exactly, over F_p
  (:mod:`rnnlab.capacity.modular`, python-flint, any N the machine can hold: a ``P x P``
  sketch, never the Jacobian) or over Q(zeta_M) (:mod:`rnnlab.capacity.exact`, sympy, small
  N). Either is at most the generic rank.
- Upper bound: ``min(dim, P - k)``, where ``k`` counts the known redundancies found
  independent in the kernel: in the measured null space when a float64 record is given
  (:func:`rnnlab.capacity.explain.explain_null_space`), else by a directional derivative
  each (:func:`rnnlab.capacity.explain.named_redundancies`), so that no Jacobian is formed.
  Each is an identity that holds at every parameter point (a reflection does not see the
  scale or phase of its vector, a global phase commutes with everything, two reflections act
  through their product on a plane), so ``k`` independent directions of the kernel at one
  point bound the generic rank by ``P - k``.

When the two meet, the generic rank is that number: ``certified``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.capacity.factors import SMALL_HEIGHT
from rnnlab.capacity.parameterizations import Parameterization

METHODS = ("modular", "sympy", "both")

#: Why a map of the user's own cannot be certified (the CLI refuses ``--exact`` on one with it).
USER_MAP_REASON = ("a map of your own is an opaque JAX function: rnnlab has no rational form of it to rank "
                   "exactly over F_p (the lower bound) and knows no identities of it (the upper bound)")


def exact_lower_bound(p: Parameterization, method: str = "modular", seed: int = 0) -> dict:
    """``{"exact_rank", "exact_method", ...}``: a proven lower bound on the generic rank of ``p``.

    ``modular``: over F_p at a point of large height; ``sympy``: over Q(zeta_M) at a point of
    small height; ``both``: the modular bound, plus both exact ranks at the sympy path's point
    (``sympy_rank``, ``modular_rank_at_sympy_point``), which must agree.
    """
    if method not in METHODS:
        raise ValueError(f"unknown exact method {method!r}; choose from {', '.join(METHODS)}")
    if not all(hasattr(f, "exact") for f in p.factors):
        from rnnlab.capacity.custom import CustomFactor

        if any(isinstance(f, CustomFactor) for f in p.factors):
            raise ValueError(f"{p.name}: no certificate: {USER_MAP_REASON}")
        raise ValueError(f"{p.name} has no exact form (a factor without rational points); no certificate")
    out: dict = {}
    if method in ("modular", "both"):
        from rnnlab.capacity.modular import modular_rank

        m = modular_rank(p, seed=seed)
        out.update(exact_rank=m.rank, exact_method=m.method, prime=m.prime)
        if m.skipped:
            out["skipped_primes"] = [{"prime": q, "why": why} for q, why in m.skipped]
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


def identity_upper_bound(p: Parameterization, seed: int = 0) -> dict:
    """``min(dim, P - k)`` with ``k`` the known redundancies of ``p``, checked at the random
    point of ``seed`` without a Jacobian (:func:`rnnlab.capacity.explain.named_redundancies`)."""
    from rnnlab.capacity.explain import named_redundancies

    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(seed), jnp.float64))
    reds = named_redundancies(p, theta)
    known = sum(r.count for r in reds)
    return {"upper_bound": min(p.manifold_dim, p.num_params - known), "known_redundancies": known,
            "redundant_directions": [{"reason": r.reason, "count": r.count, "where": r.where} for r in reds]}


def certify(p: Parameterization, record: dict | None = None, method: str = "modular", seed: int = 0,
            points: int = 3) -> dict:
    """The exact lower bound, the redundancy upper bound, and whether they meet.

    With a measured float64 ``record`` (:meth:`CapacityReport.as_record`) the upper bound
    counts the redundancies its null-space explanation found; without one they are checked
    by directional derivatives (:func:`identity_upper_bound`), and the result carries them
    (``redundant_directions``). Each point's exact rank is a proven lower bound, so up to
    ``points`` points (seeds ``seed``, ``seed + 1``, ...) are tried until one meets the upper
    bound; the best is kept. The ``both`` cross-check is made once, at the first point; later
    points use F_p alone. The F_p sketch's cost is checked first
    (:func:`rnnlab.capacity.modular.check_sketch_fits`: a ``UsageError`` with the estimate).
    """
    if method in ("modular", "both") and all(hasattr(f, "exact") for f in p.factors):
        from rnnlab.capacity.modular import check_sketch_fits

        check_sketch_fits(p.name, p.n, p.factors)
    if record is None:
        bound = identity_upper_bound(p, seed)
    else:
        known = sum(r["count"] for r in record["redundant_directions"])
        bound = {"upper_bound": min(record["manifold_dim"], record["params"] - known), "known_redundancies": known}
    upper = bound["upper_bound"]
    best = dict(exact_lower_bound(p, method, seed), point_seed=seed)
    again = "modular" if method == "both" else method
    for k in range(1, points):
        if best["exact_rank"] >= upper:
            break
        out = exact_lower_bound(p, again, seed + k)
        if out["exact_rank"] > best["exact_rank"]:
            best.update(out, point_seed=seed + k)
    best.update(bound, certified=best["exact_rank"] == upper)
    return best


def certified_record(p: Parameterization, method: str = "modular", seed: int = 0) -> dict:
    """A record with the keys of :meth:`CapacityReport.as_record` from the certificate alone.

    For sizes where the float64 rank would need the Gram path (minutes and gigabytes): the
    ``rank`` is the certified one (``None`` when the bounds do not meet), ``gap`` and ``tol``
    are ``None``, and ``rank_source`` says where the rank came from.
    """
    cert = certify(p, None, method, seed)
    rank = cert["exact_rank"] if cert["certified"] else None
    rec = {
        "parameterization": p.name, "n": p.n, "layers": p.layers, "params": p.num_params, "rank": rank,
        "manifold_dim": p.manifold_dim, "full_capacity": None if rank is None else rank == p.manifold_dim,
        "gap": None, "seeds": [], "ranks_per_seed": [], "tol": None,
        "unexplained_null_directions": None if rank is None else p.num_params - rank - cert["known_redundancies"],
        "unexplained_loadings": {},
        "rank_source": "certificate (float64 rank not measured)",
    }
    rec.update(cert)
    return rec
