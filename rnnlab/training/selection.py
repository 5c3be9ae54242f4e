"""Reading a sweep fairly: every seed counted, settings chosen on validation, reported on test.

A cell of a results table is one setting (task, T, model, optimiser, learning rate, ...) run
at several seeds. Each seed ends in one of two ways: it finishes with a final metric, or a
non-finite loss stops it (it *diverged*). A median over the finished seeds alone hides the
second kind: a model that diverges on two seeds of three would look as good as its one
survivor. So a cell is summarised over **all** seeds that ended (:func:`cell_stats`):

- the success rate: the fraction of seeds that finished with a final metric below a stated
  threshold, by default ``SUCCESS_FRACTION`` (10%) of the empirical baseline of the same
  batch (the loss of the input-blind guess on the very sequences the metric is measured on);
  a diverged seed is a failure;
- the median over all seeds, a diverged seed counting as ``+inf`` (so a cell where half the
  seeds or more diverged has an infinite median: it is not a good setting, whatever its
  survivors did), and the range (``high`` is ``inf`` when any seed diverged).

Seeds still running (status "incomplete ...") or whose process failed for another reason
are not outcomes of the model: they are left out and counted in ``pending``.

:func:`select` chooses, for each group of cells that differ only in one hyperparameter,
the cell with the lowest median of the *validation* metric (ties: the higher success rate,
then the earlier value in the grid). Test metrics are then read for the chosen cells only.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: A seed succeeds when its final metric is below this fraction of the empirical baseline.
SUCCESS_FRACTION = 0.1


@dataclass(frozen=True)
class CellStats:
    """Summary of one cell's seeds (see the module docstring).

    Attributes:
        seeds: seeds that ended (finished or diverged).
        diverged: seeds stopped by a non-finite loss.
        successes: finished seeds whose metric is below ``threshold``.
        median: median over all ended seeds, a diverged seed counting as ``inf``.
        low: the smallest final metric (``inf`` if every seed diverged).
        high: the largest (``inf`` if any seed diverged).
        threshold: the success threshold used, or None (then ``successes`` is 0).
        pending: seeds not ended as a model outcome (still running, or failed otherwise).
    """

    seeds: int
    diverged: int
    successes: int
    median: float
    low: float
    high: float
    threshold: float | None
    pending: int = 0

    @property
    def success_rate(self) -> float:
        """``successes / seeds`` (NaN for a cell with no ended seed)."""
        return self.successes / self.seeds if self.seeds else math.nan


def outcome(row: Mapping[str, Any], metric: str) -> float | None:
    """A seed's final ``metric`` from its results row: the value when the row's status is
    ``complete``, ``inf`` when it ``diverged`` (or finished without a finite value), None when
    it is not a model outcome (incomplete, failed)."""
    status = row.get("status", "complete")
    if status == "diverged":
        return math.inf
    if status != "complete":
        return None
    value = row.get(metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return math.inf
    return float(value)


def cell_stats(outcomes: Iterable[float | None], threshold: float | None = None) -> CellStats:
    """Summarise a cell's seed outcomes (:func:`outcome`: a value, ``inf`` for diverged, None
    for pending). ``threshold``: a seed with a value below it is a success."""
    values, pending = [], 0
    for v in outcomes:
        if v is None:
            pending += 1
        else:
            values.append(float(v))
    if threshold is not None and not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number or None, got {threshold!r}")
    if not values:
        return CellStats(0, 0, 0, math.nan, math.nan, math.nan, threshold, pending)
    return CellStats(
        seeds=len(values),
        diverged=sum(v == math.inf for v in values),
        successes=0 if threshold is None else sum(v < threshold for v in values),
        median=statistics.median(values),
        low=min(values),
        high=max(values),
        threshold=threshold,
        pending=pending,
    )


def group(rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Hashable],
          seed: Callable[[Mapping[str, Any]], Hashable]) -> dict[Hashable, list[Mapping[str, Any]]]:
    """Rows by ``key(row)``, each (key, seed) pair once (the first row wins: a sweep point that
    repeats another's setting and seed is the same run)."""
    out: dict[Hashable, list[Mapping[str, Any]]] = {}
    seen: set = set()
    for row in rows:
        k = key(row)
        if (k, seed(row)) in seen:
            continue
        seen.add((k, seed(row)))
        out.setdefault(k, []).append(row)
    return out


def select(cells: Mapping[tuple, CellStats], choose: int, order: Sequence | None = None) -> dict[tuple, tuple]:
    """For each group of ``cells`` (keys are tuples) that agree everywhere but at position
    ``choose``, the key of the cell with the lowest median, then the highest success rate,
    then the earliest value in ``order`` (default: ascending). Groups whose every cell has an
    infinite or undefined median (every choice diverged, or nothing ended) choose nothing.

    Returns ``{key without position choose: chosen key}``."""
    rank = {v: i for i, v in enumerate(order)} if order is not None else None
    best: dict[tuple, tuple] = {}
    for key, stats in cells.items():
        if not (stats.seeds and math.isfinite(stats.median)):
            continue
        rest = key[:choose] + key[choose + 1:]
        value = key[choose]
        score = (stats.median, -stats.success_rate, rank[value] if rank is not None else value)
        if rest not in best or score < best[rest][0]:
            best[rest] = (score, key)
    return {rest: key for rest, (_, key) in best.items()}


def cells(rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], tuple],
          seed: Callable[[Mapping[str, Any]], Hashable], metric: str,
          baseline: Callable[[Mapping[str, Any]], float | None] | None = None,
          fraction: float = SUCCESS_FRACTION) -> dict[tuple, CellStats]:
    """:func:`cell_stats` of ``metric`` for every cell ``key(row)`` of a sweep's results rows
    (each setting and seed once, :func:`group`); a seed succeeds below ``fraction`` times
    ``baseline(row)`` (the empirical baseline of the batch the metric is measured on; no
    threshold where it is None)."""
    out = {}
    for k, mine in group(rows, key, seed).items():
        base = baseline(mine[0]) if baseline is not None else None
        out[k] = cell_stats((outcome(r, metric) for r in mine), None if base is None else fraction * base)
    return out
