# %% [markdown]
# # Dynamics: fixed sets and phase portraits of ReLU maps
#
# An identity-like ReLU RNN (the IRNN of Le et al., the np-RNN of Talathi & Vartak) starts
# from a recurrent matrix whose eigenvalues are at or below 1. With zero input its state
# follows the autonomous map `h -> relu(W h + b)`, which is linear on each *support*
# `S = {i : h_i > 0}`. rnnlab finds the map's fixed sets exactly, support by support: points,
# lines, whole cones, each with its dimension and stability. This page draws the np-RNN
# paper's four 2-unit cases, finds their fixed sets, and checks the np initialiser's
# eigenvalues against the Marchenko-Pastur law.
#
# The functions are in [`rnnlab.dynamics`](../api/dynamics.md); the method and its limits are
# in the [dynamics guide](../dynamics.md).

# %%
# %matplotlib inline
import numpy as np

import rnnlab.dynamics as dyn

dyn.CASES

# %% [markdown]
# ## A line attractor
#
# `two_unit(lam1, lam2, angle)` is the symmetric matrix with eigenvalues `lam1`, `lam2` and
# the first eigenvector at `angle` degrees. With eigenvalues 1 and 0.5, the direction of the
# first eigenvector is kept and the other shrinks: every point on the ray along
# `(cos 30, sin 30)` is fixed.

# %%
w = dyn.two_unit(1.0, 0.5, angle=30)
for s in dyn.fixed_points(w):
    print(f"dimension {s.dimension}, {s.stability}, support {s.support}, point {np.round(s.point, 4)}")

# %% [markdown]
# One fixed set of dimension 1, marginal (its eigenvalue along the line is exactly 1): a line
# attractor. Its point has unit norm and lies on the first eigenvector. The origin is not
# reported apart: it is the end of the ray, a face of the same piece. Trajectories from
# random non-negative starts all converge onto it:

# %%
dyn.simulate_outcomes(w, starts=200, steps=500)

# %% [markdown]
# ## The four cases
#
# The np-RNN paper describes four regimes of a 2-unit map with zero input and bias, by the
# eigenvalues of a symmetric positive definite `W`. For each, `fixed_points` lists every
# maximal fixed set (for `n <= 10` all `2^n` supports are examined, so nothing is missed):

# %%
for case, (lam1, lam2) in dyn.CASES.items():
    sets = dyn.fixed_points(dyn.two_unit(lam1, lam2))
    found = ", ".join(f"dim {s.dimension} {s.stability}" for s in sets)
    print(f"{case:9} eigenvalues {lam1}, {lam2}: {found}")

# %% [markdown]
# Their phase portraits: arrows show the direction of one step of the map (grey level: how
# far it moves), dashed lines the eigenvectors, purple lines trajectories, and the fixed sets
# are marked. `portrait_panel` draws one on any matplotlib Axes (`portrait_figure` puts
# several side by side); figures are built without pyplot, so a notebook shows one when it
# is the cell's value.

# %%
from matplotlib.figure import Figure

fig = Figure(figsize=(8, 8), layout="constrained")
for ax, (case, (lam1, lam2)) in zip(fig.subplots(2, 2).ravel(), dyn.CASES.items()):
    dyn.portrait_panel(ax, dyn.two_unit(lam1, lam2), title=f"{case}: eigenvalues {lam1}, {lam2}")
fig

# %% [markdown]
# A matrix of your own works the same way. Here the eigenvector of eigenvalue 1 is rotated to
# 135 degrees, out of the positive quadrant, where no state stays (after one step every state
# is non-negative): the line of fixed points is gone, and only the origin is fixed.

# %%
w_out = dyn.two_unit(1.0, 0.5, angle=135)
print([(s.dimension, s.stability) for s in dyn.fixed_points(w_out)])
dyn.portrait(w_out)

# %% [markdown]
# ## The np initialiser's spectrum
#
# The np-RNN initialises
#
# $$W = \frac{R^T R / n + I}{e_{\max}}$$
#
# with $R$ standard normal $(n, n)$ and $e_{\max}$ the largest eigenvalue of the numerator:
# symmetric, positive definite, largest eigenvalue exactly 1. As $n$ grows, the eigenvalues of
# $R^T R / n$ follow the Marchenko-Pastur law $p_{MP}(x) = \sqrt{(4 - x)\,x} / (2 \pi x)$ on
# $[0, 4]$, and $e_{\max} \to 5$, so those of $W$ fill $[1/5, 1]$ with the density
# $5\, p_{MP}(5 \mu - 1)$. Twenty draws at n = 100:

# %%
import jax

eigs = dyn.np_eigenvalues(jax.random.key(0), n=100, trials=20)
print(f"largest eigenvalue of each draw: {eigs[:, -1].min():.15f} .. {eigs[:, -1].max():.15f}")
print(f"smallest: {eigs.min():.3f};  Kolmogorov-Smirnov distance to the prediction: {dyn.ks_distance(eigs):.3f}")

fig = Figure(figsize=(6, 3.5))
ax = fig.subplots()
ax.hist(eigs.ravel(), bins=40, density=True, alpha=0.5, label="np, n = 100, 20 draws")
mu = np.linspace(0.15, 1.02, 400)
ax.plot(mu, dyn.np_predicted_density(mu), "k", label="Marchenko-Pastur prediction")
ax.set(xlabel="eigenvalue of W", ylabel="density", ylim=(0, 6))
ax.legend(fontsize=8)
fig

# %% [markdown]
# The predicted density diverges at 1/5, the image of Marchenko-Pastur's hard edge at 0 (the
# plot is cut at 6). At finite `n` the largest eigenvalue of `R^T R / n` falls short of 4,
# which stretches the spectrum slightly to the right of the prediction; the distance shrinks
# as `n` grows (`python -m paper_figures.np_spectrum` draws several sizes; the
# [results](../RESULTS.md) give the distances). The command line asks the same questions:
# `rnnlab fixed-points --eig 1.0 0.5`, `rnnlab portrait --all --out cases.png`.
