"""The capacity atlas: every registered family's rank against its manifold's dimension over a range of N.

For each family the atlas measures the numerical rank (float64, two random points) at every
N, checks it against the family's *rank law* (a formula stated below, not fitted), names the
wasted directions it can, and, where the family has an exact form, certifies the rank
(:mod:`rnnlab.capacity.certificate`: F_p lower bound = redundancy upper bound). Results are
records first (:func:`run_atlas`), then a table (:func:`summary_rows`, :func:`markdown_table`)
and a figure (:func:`plot_atlas`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from rnnlab.capacity.kronecker import prime_sizes


@dataclass(frozen=True)
class Family:
    name: str
    reference: str
    params: str  # P as a formula
    law: Callable[[int], int]  # the generic rank at size n
    law_text: str


def _kru_law(n: int) -> int:
    sizes = prime_sizes(n)
    return min(n * n, sum(k * k for k in sizes) - (len(sizes) - 1))


def _eunn_fft_law(n: int) -> int:
    from rnnlab.capacity.parameterizations import get
    from rnnlab.capacity.phase_pushing import phase_pushing_directions

    p = get("eunn-fft")(n)
    return min(n * n, p.num_params - len(phase_pushing_directions(p)))


FAMILIES: list[Family] = [
    Family("restricted", "Arjovsky, Shah & Bengio 2016", "7N", lambda n: min(n * n, 7 * n - 7), "min(N^2, 7N - 7)"),
    # Observed, not derived: P - rank = N + 21 from N = 12 on (N + 18 named, 3 not yet explained).
    Family("restricted-stack", "2 restricted blocks", "14N", lambda n: min(n * n, 13 * n - 21),
           "min(N^2, 13N - 21) (observed)"),
    Family("full", "Wisdom et al. 2016", "N^2", lambda n: n * n, "N^2"),
    Family("givens", "tunable EUNN, Jing et al. 2017 (L = N)", "N^2", lambda n: n * n - n + 1, "N^2 - N + 1"),
    Family("householder", "N complex reflections + phases", "2N^2 + N", lambda n: n * n, "N^2"),
    Family("cayley", "Cayley map + phases", "N^2 + N", lambda n: n * n, "N^2"),
    Family("eunn-fft", "FFT-style EUNN, Jing et al. 2017", "N log2 N + N", _eunn_fft_law,
           "P - k, k = pushed phases (N - 1 at N = 2^m)"),
    Family("kru", "KRU, Jose et al. 2018", "sum n_k^2", _kru_law, "sum n_k^2 - (m - 1)"),
    Family("lie-algebra", "Hyland & Ratsch 2017", "N^2", lambda n: n * n, "N^2"),
    Family("reck", "Reck et al. 1994", "N^2", lambda n: n * n, "N^2"),
    Family("clements", "Clements et al. 2016", "N^2", lambda n: n * n, "N^2"),
    Family("exprnn", "Lezcano-Casado & Martinez-Rubio 2019", "N(N-1)/2", lambda n: n * (n - 1) // 2, "N(N-1)/2"),
    Family("scornn", "Helfrich, Willmott & Ye 2018", "N(N-1)/2", lambda n: n * (n - 1) // 2, "N(N-1)/2"),
    Family("householder-real", "oRNN, Mhammedi et al. 2017 (k = N)", "N^2", lambda n: n * (n - 1) // 2,
           "N(N-1)/2"),
    Family("givens-real", "Givens product, L = N brick layers", "N(N-1)/2", lambda n: n * (n - 1) // 2,
           "N(N-1)/2"),
]


#: Points measured where the float64 rank at the first ones misses the family's law.
RECHECK_POINTS = 3


def run_atlas(sizes, families=None, seeds=(0, 1), certify_up_to: int = 16, progress: bool = True) -> list[dict]:
    """One record per (family, N): the measured rank, the law's value, and the certificate where computed."""
    from tqdm import tqdm

    from rnnlab.capacity.certificate import certify
    from rnnlab.capacity.jacobian import measure
    from rnnlab.capacity.parameterizations import get

    fams = [f for f in FAMILIES if families is None or f.name in families]
    jobs = [(f, n) for f in fams for n in sizes]
    records = []
    for fam, n in tqdm(jobs, desc="atlas", unit="map", disable=not progress or None, file=sys.stderr):
        p = get(fam.name)(n)
        law = fam.law(n) if fam.law else None
        rec = measure(p, seeds=seeds).as_record()
        if law is not None and rec["rank"] != law and len(seeds) < RECHECK_POINTS:
            # One unlucky point (a Jacobian with singular values under the tolerance) must not
            # decide the row: measure at more points, keeping the best as measure() does.
            rec = measure(p, seeds=tuple(range(RECHECK_POINTS))).as_record()
        rec["law"] = law
        if n <= certify_up_to:
            try:
                rec.update(certify(p, rec))
            except ValueError as e:
                rec["certificate_error"] = str(e)
        records.append(rec)
    return records


def generic_rank(record: dict) -> int:
    """The rank a record stands for: the certified one where the F_p lower bound met the
    redundancy upper bound (a proof), else the float64 rank at the measured points."""
    if record.get("certified"):
        return record.get("exact_rank", record["rank"])
    return record["rank"]


def summary_rows(records: list[dict]) -> list[dict]:
    """One row per family: P, the rank law, where it was confirmed, the first N short of capacity, waste.

    A law counts as confirmed at N where the float64 rank equals it, or where the rank is
    certified equal to it; ``float_rank_short_at`` lists the sizes where only the certificate
    reaches it (the float64 Jacobian's smallest singular values fall under the rank tolerance,
    as they do for the deep rotation meshes at large N).
    """
    rows = []
    for fam in FAMILIES:
        recs = sorted((r for r in records if r["parameterization"] == fam.name), key=lambda r: r["n"])
        if not recs:
            continue
        ns = [r["n"] for r in recs]
        law_ok = [r for r in recs if r["law"] is not None and generic_rank(r) == r["law"]]
        law_bad = [r["n"] for r in recs if r["law"] is not None and generic_rank(r) != r["law"]]
        float_short = [r["n"] for r in recs if r["rank"] != generic_rank(r)]
        short = [r["n"] for r in recs if generic_rank(r) < r["manifold_dim"]]
        certified = [r["n"] for r in recs if r.get("certified")]
        last = recs[-1]
        waste: dict[str, int] = {}
        for red in last["redundant_directions"]:
            waste[red["reason"]] = red["count"]
        lost = last["params"] - generic_rank(last)
        rest = lost - sum(waste.values())
        if rest > 0:
            # A full-capacity map's null directions beyond the named ones are its excess over dim.
            key = "excess of P over dim" if generic_rank(last) == last["manifold_dim"] else "not explained"
            waste[key] = rest
        rows.append({
            "family": fam.name,
            "reference": fam.reference,
            "params": fam.params,
            "rank_law": fam.law_text,
            "law_confirmed_at": f"{min(ns)}..{max(ns)}" if law_ok and not law_bad else None,
            "law_fails_at": law_bad,
            "float_rank_short_at": float_short,
            "first_n_short": short[0] if short else None,
            "wasted_at_largest_n": {"n": last["n"], "P - rank": lost, "named": waste},
            "certified_n": certified,
        })
    return rows


def _ranges(ns: list[int]) -> str:
    if not ns:
        return "-"
    out, start, prev = [], ns[0], ns[0]
    for x in ns[1:] + [None]:
        if x is not None and x == prev + 1:
            prev = x
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if x is not None:
            start = prev = x
    return ", ".join(out)


def markdown_table(rows: list[dict]) -> str:
    head = "| family | reference | P | rank law | law holds at N | first N short | wasted (largest N) | certified at N |"
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        w = r["wasted_at_largest_n"]
        named = "; ".join(f"{c} {k}" for k, c in w["named"].items()) or "none"
        holds = r["law_confirmed_at"] or ("fails at " + _ranges(r["law_fails_at"]) if r["law_fails_at"] else "-")
        if r.get("float_rank_short_at"):
            holds += f" (float64 rank short at {_ranges(r['float_rank_short_at'])}, certified there)"
        lines.append(f"| `{r['family']}` | {r['reference']} | {r['params']} | {r['rank_law']} | {holds} | "
                     f"{r['first_n_short'] or 'never'} | N={w['n']}: {w['P - rank']} ({named}) | "
                     f"{_ranges(r['certified_n'])} |")
    return "\n".join(lines)


def plot_atlas(records: list[dict]):
    """Rank deficit ``dim - rank`` (:func:`generic_rank`) vs N, one line per family: a
    matplotlib Figure (no backend chosen here)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    colors = plt.get_cmap("tab20")
    for i, fam in enumerate(FAMILIES):  # a colour and a marker each: fifteen families, no two alike
        recs = sorted((r for r in records if r["parameterization"] == fam.name), key=lambda r: r["n"])
        if recs:
            ax.plot([r["n"] for r in recs], [r["manifold_dim"] - generic_rank(r) for r in recs],
                    marker="osD^v<>"[i % 7], ms=3, color=colors(i % 20), label=fam.name)
    ax.set_xlabel("N")
    ax.set_ylabel("dim - rank (0 = full capacity)")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_title("Capacity atlas: rank deficit of each parameterization")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
