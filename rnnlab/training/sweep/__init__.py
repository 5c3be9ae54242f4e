"""Grid sweeps: ``rnnlab sweep CONFIG.toml`` runs one training run per grid point.

The sweep file::

    # scalar keys at the top level: every point's base config (TrainConfig keys)
    task = "addition"
    steps = 20000

    [grid]                      # the product of these lists, one run per combination
    model = ["irnn", "np-rnn"]
    T = [150, 200]
    # a list of tables sets several keys together (not a product over them):
    # size = [{model = "lstm", n = 68}, {model = "full-urnn", n = 128}]

    [quick]                     # applied with --quick: scalars or lists, base or grid keys
    steps = 20
    T = [10]

Each point is its own run folder ``OUT/<key>-<value>_...`` (``seeds`` are vmapped inside
it, as in ``rnnlab train``), run as a separate ``rnnlab train`` process by :func:`attempt`,
on one of two backends: ``local`` (threads of this process, ``--jobs`` at a time) or
``ray`` (one Ray task per point, :mod:`rnnlab.training.sweep_ray`). ``--where KEY=VALUE``
runs only the matching points, e.g. one column of a table.

A point whose ``summary.json`` shows all its steps is skipped; a point interrupted
part-way is resumed from its checkpoint. A point stopped by a non-finite loss is recorded
as ``diverged`` and one that crashed twice (a retry) as ``failed``, both in
``OUT/<point>.status.json``, and skipped by later runs unless ``retry_failed``.
``OUT/results.csv`` holds one row per point and seed: the grid keys, ``status``
(complete, diverged, failed, or incomplete with the last logged step) and ``detail``,
every config key, the parameter count, wall time and final metrics. ``OUT/summary.csv``
aggregates the seeds of each point (median, min, max of every final metric). Both cover
every point of the folder: a ``--where`` call keeps the rows of the points earlier calls ran
(``OUT/sweep.json`` lists the calls). A sweep holds ``OUT/.lock`` while it runs (a second
sweep on the folder is refused), checks everything (the file, the points' paths, a Ray
cluster) before it writes, and refuses a grid key or folder that would lead outside ``OUT``.

Modules: :mod:`~rnnlab.training.sweep.grid` (the file, its points),
:mod:`~rnnlab.training.sweep.point` (one attempt at a point, on any machine),
:mod:`~rnnlab.training.sweep.results` (the two CSV files), :mod:`~rnnlab.training.sweep.runner`
(backends and :func:`run`); the Ray backend is :mod:`rnnlab.training.sweep_ray`.
"""

from rnnlab.training.sweep.grid import SECTIONS, Point, Sweep, load, parse_where, points
from rnnlab.training.sweep.point import DIVERGED, Outcome, attempt, interrupt_children, recorded
from rnnlab.training.sweep.results import RESULTS, SUMMARY, curves, gather, read_results, summarize
from rnnlab.training.sweep.runner import ATTEMPTS, BACKENDS, LocalBackend, run

__all__ = [
    "ATTEMPTS", "BACKENDS", "DIVERGED", "RESULTS", "SECTIONS", "SUMMARY", "LocalBackend", "Outcome",
    "Point", "Sweep", "attempt", "curves", "gather", "interrupt_children", "load", "parse_where",
    "points", "read_results", "recorded", "run", "summarize",
]
