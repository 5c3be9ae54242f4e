"""Training curves drawn from run folders: loss and the evaluation metric against the step.

``figure(folders)`` reads each folder's ``metrics.jsonl`` and ``summary.json`` / ``config.toml``
and returns a matplotlib ``Figure`` (built without pyplot, so no backend is chosen and no
global state is touched): first the training loss, then one panel per evaluation metric the
runs log (each run's first of ``val_mse``, ``val_xent``, ``val_accuracy``, ``test_mse``,
``test_xent``, ``test_accuracy``: runs log validation metrics at every evaluation and test
metrics at the end; older records logged test metrics at every evaluation of a generated
task), so a copy run's cross-entropy and an addition run's MSE each keep their own axis. One
line per run and seed, and a dashed line at each task's baseline where it has one (the loss
of an input-blind guess) on the loss panel and on the panels of the loss's quantity.

Every folder is read before anything is drawn: a folder that is not a run folder or whose
metrics are damaged is a :class:`UsageError` naming the file, and nothing is drawn (a torn
last line, left by a killed run, is dropped as a resume drops it).
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path

from rnnlab.errors import UsageError
from rnnlab.files import atomic_path
from rnnlab.training import run_folder
from rnnlab.training.config import load_toml

#: Evaluation metrics in order of preference; those with the loss's quantity share its baseline.
EVAL_METRICS = ("val_mse", "val_xent", "val_accuracy", "test_mse", "test_xent", "test_accuracy")
LOSS_LIKE = ("test_mse", "test_xent", "val_xent", "val_mse")


def _label(folder: Path) -> str:
    try:
        saved = load_toml(folder / run_folder.CONFIG)
    except UsageError:  # a label is decoration: a missing or odd config must not lose the plot
        return folder.name
    return f"{saved.get('model', '?')} n={saved.get('n', '?')} ({folder.name})"


def _baseline(folder: Path) -> float | None:
    try:
        base = json.loads((folder / run_folder.SUMMARY).read_text()).get("baseline")
    except (OSError, ValueError, AttributeError):  # no summary yet, or a damaged one: no baseline
        return None
    return float(base) if isinstance(base, numbers.Real) and not isinstance(base, bool) else None


def _number(value) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def read_run(folder: Path) -> list[dict]:
    """The metrics rows of a run folder, each with an integer ``seed`` and numbers (or null)
    for the loss and the evaluation metrics; a :class:`UsageError` naming the file otherwise."""
    rows = run_folder.read_rows(folder)
    for row in rows:
        bad = [k for k in ("loss", *EVAL_METRICS) if not _number(row.get(k))]
        seed = row.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            bad.insert(0, "seed")
        if bad:
            raise UsageError(f"{folder / run_folder.METRICS} is damaged: the row of step {row['step']} has a "
                             f"non-numeric {', '.join(bad)}")
    return rows


def _metric(rows: list[dict]) -> str | None:
    """The evaluation metric drawn for one run: the first of EVAL_METRICS it logs."""
    return next((m for m in EVAL_METRICS if any(r.get(m) is not None for r in rows)), None)


def figure(folders: list[Path]):
    """A Figure comparing the runs in ``folders`` (UsageError if one is not a run folder or
    its metrics are damaged; every folder is read before anything is drawn)."""
    runs = [(Path(f), read_run(Path(f))) for f in folders]
    metrics = list(dict.fromkeys(m for _, rows in runs if (m := _metric(rows))))  # in order of first use

    from matplotlib.figure import Figure

    panels = 1 + max(len(metrics), 1)
    fig = Figure(figsize=(5 * panels, 4), layout="constrained")
    ax_loss, *eval_axes = fig.subplots(1, panels)
    ax_of = dict(zip(metrics, eval_axes))
    for folder, rows in runs:
        label, metric, base = _label(folder), _metric(rows), _baseline(folder)
        seeds = sorted({r["seed"] for r in rows})
        for seed in seeds:
            mine = [r for r in rows if r["seed"] == seed]
            name = label if len(seeds) == 1 else f"{label} seed {seed}"
            _draw(ax_loss, mine, "loss", name, marker=None)
            if metric is not None:
                _draw(ax_of[metric], mine, metric, name, marker=".")
        if base is not None:
            _baseline_line(ax_loss, base)
            if metric in LOSS_LIKE:
                _baseline_line(ax_of[metric], base)
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log", title="training loss")
    for metric, ax in ax_of.items():
        ax.set(xlabel="step", ylabel=metric, title=metric, yscale="log" if metric in LOSS_LIKE else "linear")
    if not metrics:
        eval_axes[0].set(xlabel="step", ylabel="(no evaluation logged)")
    for ax in (ax_loss, *eval_axes):
        if ax.lines:
            ax.legend(fontsize=7)
    return fig


def _draw(ax, rows: list[dict], key: str, name: str, marker: str | None) -> None:
    points = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
    if points:
        ax.plot(*zip(*points), label=name, lw=1, marker=marker)


def _baseline_line(ax, base: float) -> None:
    label = f"baseline {base:.4g}"
    if label not in {line.get_label() for line in ax.lines}:  # runs of one task share one line
        ax.axhline(base, color="gray", ls="--", lw=1, label=label)


def write(folders: list[Path], path: Path) -> None:
    """Draw :func:`figure` into ``path`` (via a temporary file, so a failed write leaves no half picture)."""
    with atomic_path(path) as tmp:
        figure(folders).savefig(tmp, dpi=120, format=path.suffix.lstrip(".").lower() or None)
