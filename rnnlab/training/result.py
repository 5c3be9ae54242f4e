"""``train(cfg)``: one training run as one call, its result as an object (for a notebook).

It runs :func:`rnnlab.training.loop.run` silently (no progress bar, no log lines unless
asked) in the config's run folder, then reads back what the folder holds::

    import rnnlab.training as tr
    res = tr.train(tr.TrainConfig(task="copy", model="full-urnn", n=32, T=20, steps=200))
    res.metrics[-1]["test_loss"], res.params["W"].shape, res.run_dir
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax

from rnnlab.errors import UsageError
from rnnlab.training import loop, run_folder
from rnnlab.training.config import FIELDS, TrainConfig, validate


@dataclass(frozen=True)
class TrainResult:
    """What a training run left in its run folder (:func:`train`).

    Attributes:
        config: the run's config.
        run_dir: the run folder.
        status: 0 finished; 1 stopped by a non-finite loss (``params`` are then those of the
            last good checkpoint); 128 + n stopped by signal n.
        metrics: every logged line of ``metrics.jsonl`` as a dict (one per logged step and
            seed).
        params: the trained parameters, a dict of arrays with a leading axis of
            ``config.seeds``.
        summary: the run's ``summary.json`` (parameter count, wall time, final metrics),
            empty if it stopped early.
    """

    config: TrainConfig
    run_dir: Path
    status: int
    metrics: list[dict[str, Any]]
    params: dict[str, jax.Array]
    summary: dict[str, Any]

    @property
    def final(self) -> list[dict[str, Any]]:
        """The last logged line of each seed."""
        last = self.metrics[-1]["step"] if self.metrics else None
        return [row for row in self.metrics if row["step"] == last]


def train(cfg: TrainConfig, *, progress: bool = False, log: Callable[[str], None] | None = None) -> TrainResult:
    """Train ``cfg`` in ``cfg.run_dir()`` (``cfg.out``, or ``runs/<task>-<model>-n<n>-T<T>-s<seed>``).

    Nothing is printed unless asked. The run folder is the same as ``rnnlab train``'s: the
    config, ``metrics.jsonl``, checkpoints and ``summary.json``.

    Args:
        cfg: the run.
        progress: show a progress bar on stderr.
        log: receives the run's log lines (``log=print`` prints them).

    Returns:
        The run's status, logged metrics, trained parameters and summary.

    Raises:
        UsageError: a bad config, or a run folder that holds another run (set
            ``resume=True`` in the config to continue one). ``UsageError`` is a ``ValueError``.
    """
    cfg = dataclasses.replace(cfg, progress=progress)
    validate(cfg)
    try:
        status = loop.run(cfg, log=log or (lambda _line: None))
    except UsageError as exc:
        raise UsageError(python_names(str(exc))) from None
    out = cfg.run_dir()
    exp = loop.build(cfg)
    init_keys, data_keys = loop.seed_keys(cfg)
    like = jax.eval_shape(jax.vmap(lambda key: loop.init_state(exp, key)), init_keys)
    state, _ = run_folder.load_checkpoint(out / run_folder.CHECKPOINT, like, data_keys)
    metrics = [json.loads(line) for line in run_folder.read_metrics(out / run_folder.METRICS)]
    summary_path = out / run_folder.SUMMARY
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return TrainResult(config=cfg, run_dir=out, status=status, metrics=metrics, params=state.params, summary=summary)


def python_names(message: str) -> str:
    """A run's error message with each flag named as the TrainConfig field it sets: the run
    folder's checks speak to the command line ("pass --resume"), a notebook sets ``resume=True``."""

    def field(match: re.Match) -> str:
        name = match.group(1).replace("-", "_")
        if name not in FIELDS:
            return match.group(0)
        return f"{name}=True" if isinstance(FIELDS[name].default, bool) else name

    return re.sub(r"(?<![\w-])--([a-z][a-z0-9-]*)", field, message)
