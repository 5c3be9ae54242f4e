"""Training curves drawn from run folders: loss and the evaluation metric against the step.

``figure(folders)`` reads each folder's ``metrics.jsonl`` and ``summary.json`` / ``config.toml``
and returns a matplotlib ``Figure`` (built without pyplot, so no backend is chosen and no
global state is touched): left the training loss, right the evaluation metric (the first of
``val_mse``, ``val_xent``, ``val_accuracy``, ``test_mse``, ``test_xent`` a run logs: runs log
validation metrics at every evaluation and test metrics at the end; older records logged
test metrics at every evaluation of a generated task), one line
per run and seed, and a dashed line at the task's baseline where the task has one (the loss
of an input-blind guess) on both panels when the metric is the loss's quantity.
"""

from __future__ import annotations

import json
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
        return json.loads((folder / run_folder.SUMMARY).read_text()).get("baseline")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None


def figure(folders: list[Path]):
    """A Figure comparing the runs in ``folders`` (UsageError if one is not a run folder)."""
    from matplotlib.figure import Figure

    runs = [(Path(f), run_folder.read_rows(Path(f))) for f in folders]
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_eval = fig.subplots(1, 2)
    metric = next((m for m in EVAL_METRICS if any(m in r for _, rows in runs for r in rows)), None)
    baselines = set()
    for folder, rows in runs:
        label = _label(folder)
        seeds = sorted({r["seed"] for r in rows})
        for seed in seeds:
            mine = [r for r in rows if r["seed"] == seed]
            name = label if len(seeds) == 1 else f"{label} seed {seed}"
            for ax, key, marker in ((ax_loss, "loss", None), (ax_eval, metric, ".")):
                points = [(r["step"], r[key]) for r in mine if key and r.get(key) is not None]
                if points:
                    ax.plot(*zip(*points), label=name, lw=1, marker=marker)
        base = _baseline(folder)
        if base is not None:
            baselines.add(base)
    for base in sorted(baselines):
        ax_loss.axhline(base, color="gray", ls="--", lw=1, label=f"baseline {base:.4g}")
        if metric in LOSS_LIKE:
            ax_eval.axhline(base, color="gray", ls="--", lw=1, label=f"baseline {base:.4g}")
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log", title="training loss")
    ax_eval.set(xlabel="step", ylabel=metric or "(no evaluation logged)", title=metric or "")
    if metric in LOSS_LIKE:
        ax_eval.set_yscale("log")
    for ax in (ax_loss, ax_eval):
        if ax.lines:
            ax.legend(fontsize=7)
    return fig


def write(folders: list[Path], path: Path) -> None:
    """Draw :func:`figure` into ``path`` (via a temporary file, so a failed write leaves no half picture)."""
    with atomic_path(path) as tmp:
        figure(folders).savefig(tmp, dpi=120, format=path.suffix.lstrip(".").lower() or None)
