# %% [markdown]
# # Capacity: is my parameterization full-capacity?
#
# A unitary RNN keeps its recurrent matrix on the unitary group U(N) by building it from
# parameters, $\theta \mapsto W(\theta)$. Such a map is **full-capacity** when its image
# contains an open set of U(N): the Jacobian $\partial W / \partial \theta$ then has rank
# $\dim U(N) = N^2$ at a generic point. Counting parameters is not enough. The restricted uRNN
# of Arjovsky, Shah & Bengio,
#
# $$W = D_3 R_2 F^{-1} D_2 \Pi R_1 F D_1$$
#
# (diagonal phases $D_k$, complex reflections $R_k$, the DFT $F$ and a fixed permutation
# $\Pi$), has $P = 7N$ real parameters, more than $N^2$ up to N = 7, yet it is short of U(N)
# from N = 6 on. This page measures that, explains where the wasted
# directions go, checks a map of your own, and proves a rank exactly.
#
# Everything here is one call of [`rnnlab.capacity`](../api/capacity.md); the method is in
# the [capacity guide](../capacity.md).

# %%
# %matplotlib inline
import numpy as np

import rnnlab.capacity as cap

cap.names()

# %% [markdown]
# ## A built-in family
#
# `cap.rank(name, n)` builds the registered map at size `n`, evaluates its real Jacobian
# `d[Re W, Im W]/dtheta` in float64 at one random point per seed, and takes its numerical rank
# from the singular values (the rank is the largest over the seeds: the generic rank).

# %%
r = cap.rank("restricted", 6)
print(r)

# %% [markdown]
# At N = 6 the map has `P = 42` parameters for a 36-dimensional group, and still reaches only
# a 35-dimensional piece of it. The report names the seven wasted directions: each is a
# family of parameter changes that leaves `W` unchanged (scaling a reflection vector, giving it
# a phase, moving a global phase between two diagonal factors, two reflections that act only
# through their product on a 2-plane). `unexplained` counts null directions that no named
# reason accounts for: none here.

# %%
print("P =", r.params, " rank =", r.rank, " dim U(N) =", r.dim, " full capacity:", r.full_capacity)
print("wasted directions:", r.explained, " not named:", r.unexplained)
print(f"singular-value gap at the rank: {r.gap:.1e}")

# %% [markdown]
# The gap `sigma_r / sigma_(r+1)` says how clean the cut is: a gap of 1e8 or more in float64
# is a clean rank. The full-capacity map of Wisdom et al. (the Cayley step moves `W` on all of
# U(N)) reaches the whole group with exactly `N^2` parameters:

# %%
full = cap.rank("full", 6)
print(full)

# %% [markdown]
# The evidence behind both verdicts is the Jacobian's singular values (`report.singular_values`):
# the restricted map's last seven sit at rounding, the gap printed above (about 1e14) below the rest.

# %%
from matplotlib.figure import Figure

fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.subplots()
for rep, marker in ((r, "o"), (full, "s")):
    sv = rep.report.singular_values
    ax.semilogy(range(1, len(sv) + 1), sv, marker, ms=4, label=f"{rep.name}: P = {rep.params}, rank {rep.rank}")
ax.axvline(36.5, color="k", lw=0.6, ls="--")
ax.text(36.8, 1e-6, "dim U(6) = 36", fontsize=8)
ax.set(xlabel="index", ylabel="singular value of the Jacobian", title="N = 6")
ax.legend(fontsize=8)
fig

# %% [markdown]
# ## Rank against size
#
# `cap.atlas` measures families over a range of N, each against its *rank law*. The restricted
# map's is $\operatorname{rank} = \min(N^2, 7N - 7)$: full at N = 5, short from N = 6 on, where
# $7N - 7 < N^2$, not from N = 8, where the parameter count $7N < N^2$ would put it. One
# record per size:

# %%
from IPython.display import Markdown

table = cap.atlas(["restricted"], n=[5, 6, 7], seeds=(0,))
lines = ["| N | P = 7N | rank | rank law | dim = N^2 | full capacity |", "|---|---|---|---|---|---|"]
for rec in table.records:
    lines.append(f"| {rec['n']} | {rec['params']} | {rec['rank']} | {rec['law']} | {rec['manifold_dim']} "
                 f"| {'yes' if rec['full_capacity'] else 'no'} |")
Markdown("\n".join(lines))

# %% [markdown]
# `str(table)` is the atlas's Markdown table and `table.figure()` its figure. The
# [capacity atlas](../atlas/atlas.md) covers fifteen families up to N = 32, with the sizes at
# which each rank is certified exactly.
#
# ## A map of your own
#
# Any JAX function can be measured. The contract (see the [capacity guide](../capacity.md)):
# `matrix(theta) -> W` maps a float vector `(P,)` to an `(n, n)` unitary (or real orthogonal)
# matrix, differentiably in JAX, and `sample(key) -> theta` draws a point. The map is checked
# at a sampled point before any rank is taken.
#
# Here is a small map with a redundancy built in: two diagonal phase layers around a fixed
# DFT, `W = diag(exp(i a)) F diag(exp(i b))`, with `P = 2n` parameters.

# %%
import jax
import jax.numpy as jnp

from rnnlab.capacity.custom import custom_map

n = 6


def matrix(theta):
    a, b = theta[:n], theta[n:]
    dft = jnp.fft.fft(jnp.eye(n)) / jnp.sqrt(n)
    return jnp.exp(1j * a)[:, None] * dft * jnp.exp(1j * b)[None, :]


def sample(key):
    return jax.random.uniform(key, (2 * n,), jnp.float64, -jnp.pi, jnp.pi)


mine = custom_map(matrix, sample, n=n, name="phase-dft-phase")
report = cap.measure(mine)
print(f"P = {report.params}, rank = {report.rank}, dim = {report.manifold_dim}, "
      f"null directions not named: {report.unexplained}")

# %% [markdown]
# The rank is `2n - 1`: one direction is wasted. rnnlab cannot name it (an opaque function
# has no known redundancies), but the null space of the Jacobian shows it. It is the vector
# that adds the same phase to every entry of `a` and subtracts it from every entry of `b`:
# `exp(i c) F exp(-i c) = F`, a global phase moved from one layer to the other.

# %%
from rnnlab.analysis import null_space, numerical_rank
from rnnlab.capacity import jacobian

with jax.enable_x64(True):
    theta = np.asarray(mine.init(jax.random.key(0), jnp.float64))
jac = jacobian(mine, theta)
null = null_space(jac, numerical_rank(jac).rank)[:, 0]
np.round(null / null[0], 12)

# %% [markdown]
# ## An exact certificate
#
# A float64 rank is evidence, not proof. `certify` proves the rank at sizes far beyond
# exact symbolic algebra: a **lower bound** from the rank of the Jacobian over a finite
# field `F_p` at a rational point (a rank mod p never exceeds the true rank), and an
# **upper bound** `P - k` from the `k` known identities (each a direction that leaves `W`
# unchanged at every point). When they meet, the generic rank is proven. For the restricted
# map at N = 12:

# %%
from rnnlab.capacity.certificate import certify

cert = certify(cap.get("restricted")(12))
print("lower bound (F_p rank):", cert["exact_rank"], " prime p =", cert["prime"])
print("upper bound:", cert["upper_bound"], f"= P - {cert['known_redundancies']} known identities")
print("certified:", cert["certified"], " (7N - 7 =", 7 * 12 - 7, ")")

# %% [markdown]
# `rnnlab capacity --param restricted --n 512 --exact` runs the same certificate at the
# paper's MNIST size (rank 3577 = 7N - 7, in about a minute). The same questions from the
# command line: `rnnlab capacity --n 6`, `rnnlab capacity atlas --n 2:16`.
