"""Exact fixed sets of the piecewise-linear map ``h -> relu(W h + b)``.

A fixed point ``h`` has a *support* ``S = {i : h_i > 0}``. On it the map is linear, so
the fixed points with support ``S`` are the polyhedron::

    (W_SS - I) h_S = -b_S,   h_S > 0,   h_{not S} = 0,   (W h + b)_{not S} <= 0.

Every fixed point has exactly one support, so these polyhedra partition the fixed set.
For each support we solve the linear system (SVD: an affine space of dimension
``|S| - rank(W_SS - I)``), intersect it with the sign conditions by linear programming,
and read off the dimension from the constraints that hold with equality everywhere on the
piece ("ties": units with ``(W h + b)_i = 0`` throughout). A piece lying in the closure of
another (the origin at the end of a line of fixed points, an edge of a quadrant of them) is
merged into it, so each reported :class:`FixedSet` is a maximal convex piece.

Supports enumerated: all ``2^n`` for ``n <= exact_max_n`` (10 by default), otherwise
only those visited by trajectories from many random starts, or those given (a trained
network's: :func:`supports_of` its states), which can miss repelling or hard-to-reach fixed
sets. Before the exact solve, a batched screen drops the supports whose linear system is
well conditioned and whose one solution breaks a sign condition (most of them);
:func:`_may_hold_fixed_points` says why that drops nothing the exact solve would keep.

Stability comes from the eigenvalues of the map's Jacobian in the regions adjacent to
the piece. Inside a region the map is ``D_P W`` (``D_P`` keeps the active units ``P``), so
the eigenvalues that matter are those of ``W_PP``. At a region boundary (ties) only the
eigenvectors that point *into* a region can be followed by trajectories, so an
eigenvalue counts only if its eigenvector, with one of its signs, keeps tied units that it
switches on non-negative and tied units that stay off at ``(W x)_i <= 0``. Then with
``rho`` the largest such ``|eigenvalue|``: ``rho < 1 - tol`` attracting,
``|rho - 1| <= tol`` marginal, ``rho > 1 + tol`` repelling. This is a linearisation
verdict: for general (non-symmetric) ``W`` a piecewise-linear map can also grow by
switching between regions, so check doubtful cases with
:func:`rnnlab.dynamics.relu_map.simulate_outcomes`.

The module stays whole (a little over 350 lines, a third of them this explanation): the
pieces, their linear programs and their stability are one algorithm, each step feeding the
next.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rnnlab.dynamics.relu_map import check_weights, relu_step
from rnnlab.errors import UsageError

STABILITIES = ("attracting", "marginal", "repelling")

#: Largest n for which all 2^n supports are enumerated by default.
EXACT_MAX_N = 10
#: Largest number of tied units whose 2^k adjacent regions are all examined for stability.
_MAX_TIES_ENUMERATED = 10


@dataclass(frozen=True)
class FixedSet:
    """A maximal convex piece of the fixed-point set of ``h -> relu(W h + b)``.

    Attributes:
        support: the units with ``h_i > 0`` in the piece's relative interior.
        dimension: the piece's dimension (0: an isolated point, 1: a line or ray, ...).
        point: ``(n,)``, a point of the relative interior; for ``b = 0`` the pieces are
            cones and ``point`` has unit norm.
        basis: ``(n, dimension)``, orthonormal, spanning the directions of the piece's
            affine hull.
        ties: the units that are off with ``(W h + b)_i = 0`` on the whole piece.
        eigenvalues: the eigenvalues of W restricted to the support (complex, sorted by
            modulus).
        spectral_radius: the largest modulus of an eigenvalue that trajectories can follow
            (see the module's docstring).
        stability: one of ``attracting``, ``marginal``, ``repelling``.
    """

    support: tuple[int, ...]  # units with h_i > 0 in the relative interior
    dimension: int
    point: np.ndarray  # (n,)
    basis: np.ndarray  # (n, dimension)
    ties: tuple[int, ...]  # units off with (W h + b)_i = 0 on the whole piece
    eigenvalues: np.ndarray  # of W restricted to the support (complex, sorted by |.|)
    spectral_radius: float  # largest |eigenvalue| trajectories can follow (see module doc)
    stability: str  # one of STABILITIES

    def to_dict(self) -> dict:
        """The piece as JSON-ready data.

        Returns:
            Plain lists and numbers (complex eigenvalues as ``[re, im]``, the basis as rows).
        """
        return {
            "dimension": self.dimension,
            "stability": self.stability,
            "point": self.point.tolist(),
            "support": list(self.support),
            "basis": self.basis.T.tolist(),
            "ties": list(self.ties),
            "eigenvalues": [[float(e.real), float(e.imag)] for e in self.eigenvalues],
            "spectral_radius": self.spectral_radius,
        }


def unit_eigenvalue_tolerance(w, dtype=np.float64) -> float:
    """``100 n eps(dtype) max(1, ||W||_2)``: how close an eigenvalue must be to 1 to count as 1.

    Pass the dtype the weights were *made* in: a float32 matrix has its eigenvalues only to
    about 1e-7, even after conversion to float64.
    """
    w = np.asarray(w, dtype=np.float64)
    return 100 * w.shape[0] * float(np.finfo(dtype).eps) * max(1.0, float(np.linalg.norm(w, 2)))


@dataclass(frozen=True)
class _Piece:
    support: tuple[int, ...]
    point: np.ndarray
    basis: np.ndarray
    ties: tuple[int, ...]


def _lp_tol(tol: float) -> float:
    # HiGHS solves to about 1e-9 relative accuracy, coarser than a float64 eigenvalue
    # tolerance; LP answers are trusted only above that floor.
    return max(tol, 1e-9)


def _slack_lp(a_ub: np.ndarray, b_ub: np.ndarray, a_eq, b_eq, cap: float = 1.0):
    """Maximise ``t <= cap`` subject to ``a_ub z + t <= b_ub`` and ``a_eq z = b_eq`` (z free).

    ``t`` is the smallest slack of the inequalities at the best point: positive means a
    point satisfying all of them strictly exists. Returns ``(t, z)``, or ``None`` when the
    equalities cannot hold. The cap keeps the LP bounded on unbounded pieces (rays, cones).
    """
    import scipy.optimize  # here, not at import: the command line lists the cases without it

    d = a_ub.shape[1]
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    a = np.hstack([a_ub, np.ones((len(a_ub), 1))])
    eq = None if a_eq is None else np.hstack([a_eq, np.zeros((len(a_eq), 1))])
    res = scipy.optimize.linprog(
        cost, A_ub=a, b_ub=b_ub, A_eq=eq, b_eq=b_eq,
        bounds=[(None, None)] * d + [(None, cap)], method="highs",
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"fixed-point LP failed: {res.message}")
    return float(res.x[-1]), res.x[:d]


def _max_slack(i: int, a_ub: np.ndarray, b_ub: np.ndarray, cap: float = 1.0) -> float:
    """The largest slack ``b_i - a_i z`` (capped) of constraint ``i`` on ``a_ub z <= b_ub``;
    ``-inf`` when the constraints hold nowhere to HiGHS's accuracy (a piece that the first LP
    found only within its tolerance of empty, as trained weights give: no point has a slack)."""
    import scipy.optimize

    d = a_ub.shape[1]
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    # t <= b_i - a_i z, i.e. a_i z + t <= b_i, plus the constraints themselves.
    row = np.concatenate([a_ub[i], [1.0]])[None, :]
    a = np.vstack([row, np.hstack([a_ub, np.zeros((len(a_ub), 1))])])
    res = scipy.optimize.linprog(
        cost, A_ub=a, b_ub=np.concatenate([[b_ub[i]], b_ub]),
        bounds=[(None, None)] * d + [(None, cap)], method="highs",
    )
    if res.status == 2:
        return -np.inf
    if res.status != 0:
        raise RuntimeError(f"fixed-point LP failed: {res.message}")
    return float(res.x[-1])


def _piece(w: np.ndarray, b: np.ndarray, support: tuple[int, ...], tol: float) -> _Piece | None:
    """The fixed points whose support is exactly ``support``, or ``None`` if there are none."""
    n = w.shape[0]
    s = np.array(support, dtype=int)
    off = np.setdiff1d(np.arange(n), s)
    if len(s) == 0:
        pre = b[off]
        if np.any(pre > tol):
            return None
        ties = tuple(int(i) for i in off[np.abs(pre) <= tol])
        return _Piece(support, np.zeros(n), np.zeros((n, 0)), ties)
    c_off = w[np.ix_(off, s)]  # pre-activations of the inactive units, from the active ones
    m = w[np.ix_(s, s)] - np.eye(len(s))
    u, sv, vt = np.linalg.svd(m)
    rank = int(np.sum(sv > tol))
    rhs = -b[s]
    # Minimum-norm solution of the rank-truncated system, then check it really solves it.
    x0 = vt[:rank].T @ ((u[:, :rank].T @ rhs) / sv[:rank])
    if np.linalg.norm(m @ x0 - rhs) > tol * (1.0 + np.linalg.norm(rhs)):
        return None
    null = vt[rank:].T  # (|S|, d): directions of the affine solution space
    d = null.shape[1]
    pre0 = c_off @ x0 + b[off]
    scale = 1.0 + np.linalg.norm(x0)
    h = np.zeros(n)
    if d == 0:
        if np.any(x0 <= tol * scale) or np.any(pre0 > tol * scale):
            return None
        h[s] = x0
        ties = tuple(int(i) for i in off[np.abs(pre0) <= tol * scale])
        return _Piece(support, h, np.zeros((n, 0)), ties)

    # h_S = x0 + null z. Constraints: -null z <= x0 (active units positive, strictly) and
    # c_off null z <= -pre0 (inactive units stay off).
    n_pos = len(s)
    a_all = np.vstack([-null, c_off @ null])
    b_all = np.concatenate([x0, -pre0])
    lp_tol = _lp_tol(tol) * scale
    # A constraint reading 0 <= 0 (to the LP's accuracy) is tight everywhere without asking
    # an LP (W = I has one for every inactive unit, in each of its 2^n supports).
    trivial = (np.linalg.norm(a_all, axis=1) <= lp_tol) & (np.abs(b_all) <= lp_tol)
    if np.any(trivial[:n_pos]):
        return None
    tied = [int(i) - n_pos for i in np.flatnonzero(trivial)]
    rest = np.flatnonzero(~trivial)
    # Cheap guess before any LP: the solution nearest to h_S = (1, ..., 1). It is strictly
    # inside the piece for the common cones (W = I, a line along a positive eigenvector).
    z = null.T @ (np.ones(len(s)) - x0)
    slack = float(np.min(b_all[rest] - a_all[rest] @ z, initial=1.0))
    if slack <= lp_tol:
        found = _slack_lp(a_all[rest], b_all[rest], None, None)
        assert found is not None  # no equalities, so the LP is always feasible
        slack, z = found
    if slack <= lp_tol:
        if slack < -lp_tol:
            return None
        # Some constraint is tight on the whole piece. A positivity one means no point has
        # exactly this support; an inactive one is a tie, which lowers the dimension.
        for i in rest:
            if _max_slack(i, a_all, b_all) <= lp_tol:
                if i < n_pos:
                    return None
                tied.append(int(i) - n_pos)
        keep = np.setdiff1d(np.arange(len(b_all)), np.array(tied, dtype=int) + n_pos)
        a_tie = a_all[n_pos:][tied]
        found = _slack_lp(a_all[keep], b_all[keep], a_tie, b_all[n_pos:][tied])
        if found is None or found[0] <= lp_tol:
            return None
        z = found[1]
    tied.sort()
    directions = null
    if tied:
        _, ts, tvt = np.linalg.svd(c_off[tied] @ null)
        trank = int(np.sum(ts > lp_tol))
        directions = null @ tvt[trank:].T
    h[s] = x0 + null @ z
    basis = np.zeros((n, directions.shape[1]))
    # Each direction's sign is arbitrary from the SVD: make its largest entry positive.
    largest = directions[np.argmax(np.abs(directions), axis=0), np.arange(directions.shape[1])]
    basis[s] = directions * np.where(largest < 0, -1.0, 1.0) + 0.0
    return _Piece(support, h, basis, tuple(int(off[i]) for i in tied))


def _spectral_radius(
    w: np.ndarray, piece: _Piece, tol: float, visited: list[tuple[int, ...]]
) -> float:
    """The largest |eigenvalue| of ``W_PP`` over the regions ``P`` adjacent to ``piece``
    whose eigenvector trajectories can actually follow (see the module docstring).

    With more than ``_MAX_TIES_ENUMERATED`` tied units the adjacent regions are too many
    to visit: then only those with none, one or all tied units on, and the ``visited``
    supports that are adjacent, are examined.
    """
    ties = list(piece.ties)
    if len(ties) <= _MAX_TIES_ENUMERATED:
        switched_on = [c for k in range(len(ties) + 1) for c in itertools.combinations(ties, k)]
    else:
        support, tie_set = set(piece.support), set(ties)
        switched_on = [(), tuple(ties)] + [(i,) for i in ties]
        switched_on += [
            tuple(sorted(set(v) - support)) for v in visited
            if support <= set(v) <= support | tie_set
        ]
    vec_tol = _lp_tol(tol)
    rho = 0.0
    for on in switched_on:
        p = sorted(piece.support + on)
        if not p:
            continue
        on_pos = [p.index(i) for i in on]
        stay_off = [i for i in ties if i not in on]
        values, vectors = np.linalg.eig(w[np.ix_(p, p)])
        for lam, x in zip(values, vectors.T):
            if abs(lam) <= rho:
                continue
            if abs(lam.imag) > tol:
                # A rotation in the plane (Re x, Im x) visits every sign of it, so it can be
                # followed only if the plane switches no tied unit on and pushes none that
                # stays off.
                plane = np.stack([x.real, x.imag], axis=1)
                plane = plane / np.linalg.norm(plane)
                if (np.all(np.abs(plane[on_pos]) <= vec_tol)
                        and np.all(np.abs(w[np.ix_(stay_off, p)] @ plane) <= vec_tol)):
                    rho = abs(lam)
                continue
            x = x.real / np.linalg.norm(x.real)
            wx = w[np.ix_(stay_off, p)] @ x
            for sign in (1.0, -1.0):
                if np.all(sign * x[on_pos] >= -vec_tol) and np.all(sign * wx <= vec_tol):
                    rho = abs(lam)
                    break
    return float(rho)


def classify(rho: float, tol: float) -> str:
    """``attracting`` / ``marginal`` / ``repelling`` from the largest followable |eigenvalue|."""
    if rho > 1.0 + tol:
        return "repelling"
    if rho >= 1.0 - tol:
        return "marginal"
    return "attracting"


def visited_supports(
    w, b=None, *, seed: int = 0, starts: int = 200, steps: int = 500, tail: int = 20,
    max_supports: int = 2000,
) -> list[tuple[int, ...]]:
    """Supports ``{i : h_i > 0}`` of the states visited in the last ``tail`` steps of
    trajectories from ``starts`` random non-negative starts, most frequent first.

    This is how :func:`fixed_points` samples supports when ``2^n`` is too many: fixed sets
    that trajectories reach (attracting and marginal ones) are found; repelling ones only
    if a trajectory happens to pass through their support.

    Args:
        w: ``(n, n)``, the weights.
        b: ``(n,)``, the bias (default zeros).
        seed: the seed of the starts (drawn at scales from 1e-2 to 1e2).
        starts: the number of trajectories.
        steps: the steps each runs.
        tail: the last steps whose supports are counted.
        max_supports: at most this many supports are returned.

    Returns:
        The supports as sorted index tuples, most frequent first.

    Raises:
        UsageError: bad weights (see :func:`check_weights`).
    """
    w, b = check_weights(w, b)
    rng = np.random.default_rng(seed)
    # Starts at several scales, so that bias-dominated and weight-dominated regimes are seen.
    h = np.abs(rng.standard_normal((starts, w.shape[0]))) * np.logspace(-2, 2, starts)[:, None]
    counts: dict[tuple[int, ...], int] = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            h = relu_step(w, h, b)
            if t >= steps - tail:
                for row in h[np.all(np.isfinite(h), axis=1)]:
                    key = tuple(int(i) for i in np.flatnonzero(row > 0))
                    counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts, key=lambda k: -counts[k])
    return ordered[:max_supports]


def supports_of(states) -> list[tuple[int, ...]]:
    """The distinct supports ``{i : h_i > 0}`` of the rows of ``states``, most frequent first
    (ties in order of first appearance): the supports a trained network's trajectories visit,
    to pass to :func:`fixed_points` as ``supports``.

    Args:
        states: ``(m, n)``, states of an ``n``-unit ReLU network.

    Returns:
        The supports as sorted index tuples.

    Raises:
        UsageError: ``states`` is not a 2-D array.
    """
    states = np.asarray(states)
    if states.ndim != 2:
        raise UsageError(f"states must be an (m, n) array, got shape {states.shape}")
    on = states > 0
    if len(on) == 0:
        return []
    packed = np.packbits(on, axis=1)
    _, first, counts = np.unique(packed, axis=0, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    return [tuple(int(i) for i in np.flatnonzero(on[first[k]])) for k in order]


def _may_hold_fixed_points(w: np.ndarray, b: np.ndarray, supports: list[tuple[int, ...]],
                           tol: float, chunk: int = 256) -> np.ndarray:
    """A quick screen before :func:`_piece`: False for the supports that certainly hold no
    fixed point, True for the rest (which :func:`_piece` then decides).

    For each support ``S`` the system ``A = W_SS - I``, ``A h_S = -b_S`` is handled for many
    supports at once, as one ``n x n`` system with ``h_i = 0`` off ``S``. A Cholesky
    factorisation of ``A^T A - theta^2 I`` succeeds only if every singular value of ``A`` is
    above ``theta = max(2 tol, sqrt(100 n eps) ||A||_F)`` (the second term keeps ``theta^2``
    above the rounding of ``A^T A``); then :func:`_piece` sees full rank, and the batched LU
    solution is its one candidate, accurate to ``n eps ||A|| / theta`` relative. Such a support
    is dropped when that solution breaks a sign condition by more than a margin covering this
    error. A system that may be singular to ``tol`` (where :func:`_piece` finds an affine set,
    not a point) is always kept."""
    n = w.shape[0]
    keep = np.ones(len(supports), bool)
    eye = np.eye(n)
    wm = w - eye
    eps = float(np.finfo(np.float64).eps)
    for start in range(0, len(supports), chunk):
        block = supports[start:start + chunk]
        d = np.zeros((len(block), n))
        for k, s in enumerate(block):
            d[k, list(s)] = 1.0
        a = d[:, :, None] * wm[None] * d[:, None, :] - (1.0 - d)[:, :, None] * eye[None]
        size = np.linalg.norm(a, axis=(1, 2))
        theta = np.maximum(2 * tol, np.sqrt(100 * n * eps) * size)
        gram = np.swapaxes(a, 1, 2) @ a - (theta**2)[:, None, None] * eye[None]
        regular = np.ones(len(block), bool)
        try:
            np.linalg.cholesky(gram)
        except np.linalg.LinAlgError:  # some factorisation failed: find which, one by one
            for k in range(len(block)):
                try:
                    np.linalg.cholesky(gram[k])
                except np.linalg.LinAlgError:
                    regular[k] = False
        rhs = -d * b
        try:
            h = np.linalg.solve(a, rhs[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # some system exactly singular (so not regular): one by one
            h = np.full(rhs.shape, np.nan)
            for k in np.flatnonzero(regular):
                h[k] = np.linalg.solve(a[k], rhs[k])
        with np.errstate(invalid="ignore", over="ignore"):
            scale = 1.0 + np.linalg.norm(h, axis=1)
            pre = h @ w.T + b
            margin = (max(tol, 1e-6) + 1e3 * n * eps * size / theta) * scale
            low = np.min(np.where(d > 0, h, np.inf), axis=1)
            high = np.max(np.where(d > 0, -np.inf, pre), axis=1)
            broken = (low < -margin) | (high > margin)
        keep[start:start + len(block)] = ~(regular & np.all(np.isfinite(h), axis=1) & broken)
    return keep


def fixed_points(
    w, b=None, *, tol: float | None = None, exact_max_n: int = EXACT_MAX_N, seed: int = 0,
    starts: int = 200, steps: int = 500, supports=None,
) -> list[FixedSet]:
    """Every fixed set of ``h -> relu(W h + b)``: maximal convex pieces, largest first.

    For ``n <= exact_max_n`` all ``2^n`` supports are examined (exact); above, only the
    supports visited from ``starts`` random starts over ``steps`` steps, or, when
    ``supports`` is given, those supports and the empty one instead.

    Args:
        w: ``(n, n)``, the weights.
        b: ``(n,)``, the bias (default zeros).
        tol: when an eigenvalue counts as 1 (default :func:`unit_eigenvalue_tolerance` in
            the weights' dtype).
        exact_max_n: the largest ``n`` at which every support is examined.
        seed: the seed of the sampled trajectories (above ``exact_max_n``).
        starts: the number of sampled trajectories (above ``exact_max_n``).
        steps: the steps each runs (above ``exact_max_n``).
        supports: an iterable of index tuples (for example :func:`supports_of` of a trained
            network's states) to examine instead of sampled ones (for ``n <= exact_max_n``:
            as well as all ``2^n``).

    Returns:
        The maximal fixed sets, largest dimension first, each with its stability.

    Raises:
        UsageError: non-square, empty or non-finite weights, or a support naming a unit
            outside ``0 .. n - 1``.
    """
    in_dtype = np.asarray(w).dtype
    w, b = check_weights(w, b)
    if tol is None:
        tol = unit_eigenvalue_tolerance(w, in_dtype if np.issubdtype(in_dtype, np.floating) else np.float64)
    n = w.shape[0]
    given = None
    if supports is not None:
        given = list(dict.fromkeys(tuple(sorted(int(i) for i in s)) for s in supports))
        if any(s and (s[0] < 0 or s[-1] >= n) for s in given):
            raise UsageError(f"supports must hold unit indices 0..{n - 1}")
    if n <= exact_max_n:
        supports = [c for k in range(n + 1) for c in itertools.combinations(range(n), k)]
        visited: list[tuple[int, ...]] = []
    elif given is not None:
        visited = [s for s in given if s]
        supports = [()] + visited
    else:
        visited = visited_supports(w, b, seed=seed, starts=starts, steps=steps)
        supports = [()] + [s for s in visited if s]
    supports = [s for s, ok in zip(supports, _may_hold_fixed_points(w, b, supports, tol)) if ok]
    pieces = [p for p in map(lambda s: _piece(w, b, s, tol), supports) if p is not None]
    # A piece whose every point also lies in the closure of another piece (its support is
    # smaller, and the extra units are tied at 0 on it) is a face of that piece.
    on = np.zeros((len(pieces), n), bool)
    tied = np.zeros((len(pieces), n), bool)
    for k, q in enumerate(pieces):
        on[k, list(q.support)] = True
        tied[k, list(q.ties)] = True
    maximal = [
        q for k, q in enumerate(pieces)
        if not np.any(
            np.all(on >= on[k], axis=1) & np.any(on > on[k], axis=1)
            & np.all(on <= on[k] | tied[k], axis=1)
        )
    ]
    homogeneous = not np.any(b)
    out = []
    for q in maximal:
        point = q.point
        if homogeneous and np.any(point):
            point = point / np.linalg.norm(point)
        s = list(q.support)
        eig = np.linalg.eigvals(w[np.ix_(s, s)]) if s else np.zeros(0, complex)
        eig = eig[np.argsort(-np.abs(eig))]
        rho = _spectral_radius(w, q, tol, visited)
        out.append(FixedSet(
            support=q.support, dimension=q.basis.shape[1], point=point, basis=q.basis,
            ties=q.ties, eigenvalues=eig.astype(complex), spectral_radius=rho,
            stability=classify(rho, tol),
        ))
    out.sort(key=lambda f: (-f.dimension, f.support))
    return out
