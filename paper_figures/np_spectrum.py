"""Eigenvalues of the np initialiser against the Marchenko-Pastur prediction.

Rows: one per histogram bin and size n, with the empirical and predicted densities; the
JSON config also records the Kolmogorov-Smirnov distance per n.
"""

from __future__ import annotations

from paper_figures._common import parser, save_figure, save_rows

NAME = "np_spectrum"


def main(argv=None) -> int:
    args = parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    import jax
    import numpy as np

    from rnnlab.dynamics.spectrum import ks_distance, np_eigenvalues, np_predicted_density

    sizes, trials = ((25, 100), 10) if args.quick else ((25, 100, 400), 50)
    edges = np.linspace(0.15, 1.05, 46)
    centers = (edges[1:] + edges[:-1]) / 2
    rows, ks, spectra = [], {}, {}
    for n in sizes:
        e = np_eigenvalues(jax.random.key(n), n, trials)
        spectra[n] = e
        ks[n] = ks_distance(e)
        hist, _ = np.histogram(e.ravel(), bins=edges, density=True)
        rows += [dict(n=n, bin_center=c, empirical_density=h, predicted_density=float(p))
                 for c, h, p in zip(centers, hist, np_predicted_density(centers))]
    save_rows(args.out, NAME, rows, dict(sizes=sizes, trials=trials, ks_distance=ks,
                                         prediction="5 p_MP(5 mu - 1), ratio 1"))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.6), sharey=True)
    mu = np.linspace(0.15, 1.05, 600)
    for ax, n in zip(axes, sizes):
        ax.hist(spectra[n].ravel(), bins=edges, density=True, color="tab:blue", alpha=0.6,
                label=f"np init, {trials} draws")
        ax.plot(mu, np_predicted_density(mu), "k-", lw=1.5, label="Marchenko-Pastur")
        ax.set_title(f"n = {n}  (KS distance {ks[n]:.3f})", fontsize=10)
        ax.set_xlabel("eigenvalue of $W_{hh}$")
    axes[0].set_ylabel("density")
    # The predicted density diverges at the lower edge 1/5; keep the bulk readable.
    axes[0].set_ylim(0, 8)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, args.out, NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
