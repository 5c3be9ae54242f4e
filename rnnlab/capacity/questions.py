"""One call per question, for a notebook: ``rank(name, n)`` and ``atlas(names, n)``.

Both return objects (nothing is printed, no progress bar unless asked) built on
:func:`rnnlab.capacity.jacobian.measure` and :func:`rnnlab.capacity.atlas.run_atlas`::

    import rnnlab.capacity as cap
    r = cap.rank("restricted", 8)   # r.rank == 49, r.full_capacity is False, r.explained
    table = cap.atlas(["restricted", "full"], n=range(2, 9))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rnnlab.capacity import atlas as atlas_module
from rnnlab.capacity.jacobian import CapacityReport, measure
from rnnlab.capacity.parameterizations import get, names
from rnnlab.errors import UsageError


@dataclass(frozen=True)
class RankReport:
    """The Jacobian rank of one parameterization at one size, with where its waste goes.

    ``explained`` maps each named reason for a wasted direction to how many directions it
    accounts for; ``unexplained`` counts the null directions no reason names (for a
    full-capacity map: its excess of parameters over ``dim``). ``report`` is the full
    measurement (every seed's rank, gap and tolerance, the singular values).
    """

    report: CapacityReport

    @property
    def name(self) -> str:
        return self.report.parameterization

    @property
    def n(self) -> int:
        return self.report.n

    @property
    def params(self) -> int:
        """P, the number of real parameters."""
        return self.report.params

    @property
    def dim(self) -> int:
        """The dimension of the manifold the map lands on (N^2 for U(N))."""
        return self.report.manifold_dim

    @property
    def rank(self) -> int:
        return self.report.rank

    @property
    def full_capacity(self) -> bool:
        return self.report.full_capacity

    @property
    def gap(self) -> float | None:
        """The singular-value gap at the rank (None: no gap, every singular value kept)."""
        return self.report.gap

    @property
    def explained(self) -> dict[str, int]:
        return {red.reason: red.count for red in self.report.redundancies}

    @property
    def unexplained(self) -> int:
        return self.report.unexplained

    def as_record(self) -> dict:
        """The JSON-ready record the CLI prints with ``--json``."""
        return self.report.as_record()

    def __str__(self) -> str:
        verdict = "full capacity" if self.full_capacity else f"short of dim = {self.dim}"
        lines = [f"{self.name} N={self.n}: P = {self.params}, rank {self.rank} ({verdict})"]
        lines += [f"  {count:>4}  {reason}" for reason, count in self.explained.items()]
        if self.unexplained:
            lines.append(f"  {self.unexplained:>4}  not named")
        return "\n".join(lines)


def _sizes(n: int | Iterable[int]) -> list[int]:
    sizes = [n] if isinstance(n, int) else list(n)
    if not sizes or any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in sizes):
        raise UsageError(f"n must be a size >= 1 or a non-empty collection of them, got {n!r}")
    return sizes


def rank(name: str, n: int, *, layers: int | None = None, seeds: Sequence[int] = (0, 1, 2)) -> RankReport:
    """The Jacobian rank of the registered parameterization ``name`` at size ``n``.

    Measured in float64 at one random point per seed; the reported rank is the largest seen
    (the generic rank). ``layers`` applies to the layered families (see ``rnnlab capacity
    --help``). Raises ValueError naming the choices for an unknown name.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise UsageError(f"n must be a size >= 1, got {n!r}")
    return RankReport(measure(get(name)(n, layers=layers), seeds=tuple(seeds)))


@dataclass(frozen=True)
class AtlasTable:
    """The atlas over some families and sizes: one record per (family, N) and one row per family.

    ``records`` are :func:`rnnlab.capacity.atlas.run_atlas`'s records (rank, the family's rank
    law, the certificate where computed); ``rows`` the per-family summary; ``str(table)`` the
    markdown table; :meth:`figure` the atlas figure.
    """

    records: list[dict]

    @property
    def rows(self) -> list[dict]:
        return atlas_module.summary_rows(self.records)

    def record(self, name: str, n: int) -> dict:
        """The record of ``name`` at size ``n`` (KeyError if the atlas did not measure it)."""
        for rec in self.records:
            if rec["parameterization"] == name and rec["n"] == n:
                return rec
        raise KeyError((name, n))

    def figure(self):
        return atlas_module.plot_atlas(self.records)

    def __str__(self) -> str:
        return atlas_module.markdown_table(self.rows)


def atlas(families: Sequence[str] | None = None, n: int | Iterable[int] = range(2, 9), *,
          seeds: Sequence[int] = (0, 1), certify_up_to: int = 0, progress: bool = False) -> AtlasTable:
    """Rank against dimension for ``families`` (default: every atlas family) at every size in ``n``.

    ``certify_up_to``: also certify the rank exactly (F_p lower bound against the redundancy
    upper bound) at N up to this (default 0: none). Raises ValueError naming the choices for a
    family the atlas does not cover.
    """
    covered = [f.name for f in atlas_module.FAMILIES]
    chosen = covered if families is None else list(families)
    unknown = [f for f in chosen if f not in covered]
    if unknown:
        extra = [f for f in unknown if f in names()]
        why = f" ({', '.join(extra)} has no rank law in the atlas: use rank())" if extra else ""
        raise UsageError(f"unknown atlas family {unknown[0]!r}{why}; choose from {', '.join(covered)}")
    return AtlasTable(atlas_module.run_atlas(_sizes(n), families=chosen, seeds=tuple(seeds),
                                             certify_up_to=certify_up_to, progress=progress))
