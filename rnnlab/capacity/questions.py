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

    ``print(report)`` gives a summary: the rank, the verdict and one line per reason.

    Attributes:
        report: the full measurement (every seed's rank, gap and tolerance, the singular
            values).
    """

    report: CapacityReport

    @property
    def name(self) -> str:
        """The parameterization's registry name."""
        return self.report.parameterization

    @property
    def n(self) -> int:
        """The size N."""
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
        """The generic rank of the Jacobian (the largest over the seeds)."""
        return self.report.rank

    @property
    def full_capacity(self) -> bool:
        """Whether the rank equals ``dim``: the map reaches an open set of its manifold."""
        return self.report.full_capacity

    @property
    def gap(self) -> float | None:
        """The singular-value gap at the rank (None: no gap, every singular value kept)."""
        return self.report.gap

    @property
    def explained(self) -> dict[str, int]:
        """Each named reason for a wasted direction, and how many directions it accounts for."""
        return {red.reason: red.count for red in self.report.redundancies}

    @property
    def unexplained(self) -> int:
        """The null directions no reason names (for a full-capacity map: its excess of P over ``dim``)."""
        return self.report.unexplained

    def as_record(self) -> dict:
        """The JSON-ready record the CLI prints with ``--json``.

        Returns:
            The record (see :meth:`CapacityReport.as_record`).
        """
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
    (the generic rank), and the null space is split into named redundancies.

    Args:
        name: a registered name (:func:`names`) or ``package.module:function``, a map of
            your own (the contract is in ``docs/capacity.md``).
        n: the size N.
        layers: the number of layers of a layered family (default: the family's; see
            ``rnnlab capacity --help``).
        seeds: one random point per seed.

    Returns:
        The rank, the verdict and where the wasted directions go.

    Raises:
        UsageError: an unknown name (the message names the choices), a bad size, or a size
            whose Jacobian would not fit in memory. ``UsageError`` is a ``ValueError``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise UsageError(f"n must be a size >= 1, got {n!r}")
    return RankReport(measure(get(name)(n, layers=layers), seeds=tuple(seeds)))


@dataclass(frozen=True)
class AtlasTable:
    """The atlas over some families and sizes: one record per (family, N) and one row per family.

    ``str(table)`` is the Markdown table (one row per family), :meth:`figure` the atlas figure.

    Attributes:
        records: :func:`rnnlab.capacity.atlas.run_atlas`'s records, one per (family, N): the
            rank, the family's rank law, the certificate where computed.
    """

    records: list[dict]

    @property
    def rows(self) -> list[dict]:
        """The per-family summary: rank law, where it holds, first N short, waste, certified sizes."""
        return atlas_module.summary_rows(self.records)

    def record(self, name: str, n: int) -> dict:
        """The record of one family at one size.

        Args:
            name: the family.
            n: the size.

        Returns:
            The record.

        Raises:
            KeyError: the atlas did not measure ``name`` at ``n``.
        """
        for rec in self.records:
            if rec["parameterization"] == name and rec["n"] == n:
                return rec
        raise KeyError((name, n))

    def figure(self):
        """The atlas figure: ``dim - rank`` against N, every family on one plot.

        Returns:
            A matplotlib Figure (built without pyplot: display it or save it).
        """
        return atlas_module.plot_atlas(self.records)

    def __str__(self) -> str:
        return atlas_module.markdown_table(self.rows)


def atlas(families: Sequence[str] | None = None, n: int | Iterable[int] = range(2, 9), *,
          seeds: Sequence[int] = (0, 1), certify_up_to: int = 0, progress: bool = False) -> AtlasTable:
    """Rank against dimension for ``families`` at every size in ``n``, each against its rank law.

    Args:
        families: atlas families (default: every one).
        n: a size or sizes.
        seeds: one random point per seed at each size.
        certify_up_to: also certify the rank exactly (F_p lower bound against the redundancy
            upper bound) at N up to this (default 0: none).
        progress: show a progress bar on stderr.

    Returns:
        The records and the per-family table.

    Raises:
        UsageError: a family the atlas does not cover (the message names the choices), or a
            bad size. ``UsageError`` is a ``ValueError``.
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
