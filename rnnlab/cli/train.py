"""Training subcommands: ``train``, ``models``, ``tasks``, ``cayley-drift``.

Nothing heavy is imported here at import time: JAX loads inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from rnnlab.cli import progress
from rnnlab.cli.config_files import find_config
from rnnlab.errors import UsageError
from rnnlab.file_names import relative_out
from rnnlab.memory import check_memory
from rnnlab.cli.outputs import check_folder
from rnnlab.training.config import FIELDS, field_type


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train", help="train a model on a task (see docs/training.md)",
        description="Train a model on a synthetic task. Every flag is also a key of --config FILE.toml.",
    )
    train.add_argument("--config", metavar="FILE.toml|NAME",
                       help="TOML file of options, or the name of a shipped one (e.g. copy-full-urnn; "
                       "listed by 'rnnlab configs'); flags override it")
    for name, f in FIELDS.items():
        flag = "--" + name.replace("_", "-")
        kind = field_type(name)
        if kind is bool:
            train.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=_with_default(f))
        else:
            train.add_argument(flag, type=kind, default=None, metavar=name.upper(), help=_with_default(f))
    train.set_defaults(func=_train)

    models = subparsers.add_parser(
        "models", help="list the models and their parameter counts for a task",
        description="Every registered model with its trainable real parameter count on one task "
        "and size, to set up equal-count comparisons (a model the task cannot train is listed "
        "with the reason).")
    models.add_argument("--task", default="copy", help="task name, see 'rnnlab tasks' (default copy)")
    models.add_argument("--n", type=int, default=128, help="hidden units, one int (default 128)")
    models.add_argument("--T", type=int, default=100, help="sequence length or delay of the task (default 100)")
    models.add_argument("--data", metavar="DIR", help="the task's data folder (action: sets the input size)")
    models.set_defaults(func=_models)

    tasks = subparsers.add_parser("tasks", help="list the training tasks",
                                  description="Every registered training task with a one-line description.")
    tasks.set_defaults(func=_tasks)

    drift = subparsers.add_parser(
        "cayley-drift", help="measure float32 unitarity drift of repeated Cayley steps with random gradients",
        description="Apply STEPS Cayley steps to a Haar-random complex64 W with fresh random "
        "gradients and no re-projection, and print max|W^H W - I| every REPORT_EVERY steps: "
        "how often a float32 run needs to re-project onto U(N).",
    )
    drift.add_argument("--n", type=int, default=128, help="size of W, one int (default 128)")
    drift.add_argument("--steps", type=int, default=100_000, help="Cayley steps (default 100000)")
    drift.add_argument("--lr", type=float, default=1e-3, help="learning rate of the step (default 1e-3)")
    drift.add_argument("--seed", type=int, default=0, help="seed of W and the gradients (default 0)")
    drift.add_argument("--report-every", type=int, default=10_000, metavar="K",
                       help="print the error every K steps (default 10000)")
    drift.add_argument("--rms-normalise", action="store_true",
                       help="normalise the gradient by RMSprop statistics before the step")
    # nargs="?" only to catch the old form --json FILE with a clear message.
    drift.add_argument("--json", nargs="?", const=True, default=False, metavar="",
                       help="print the measurements as JSON on stdout, nothing else (as in every command)")
    drift.set_defaults(func=_drift)


def _with_default(f) -> str:
    """A train flag's help with its default (the value used when neither flag nor --config sets it)."""
    default = f.default
    if default is None:
        return f.metadata["help"]
    return f"{f.metadata['help']} (default {str(default).lower() if isinstance(default, bool) else default})"


def _train(args) -> int:
    from rnnlab.training import config

    file_values = config.load_toml(find_config(args.config)) if args.config else {}
    if args.config and args.out is None:  # a config file's out stays below the current folder; --out may go anywhere
        relative_out(file_values.get("out"), args.config)
    flags = {name: getattr(args, name) for name in FIELDS}
    if flags["progress"] is None and not progress.enabled():  # the one progress policy
        flags["progress"] = False
    cfg = config.resolve(file_values, flags)
    check_folder(cfg.run_dir(), "--out")
    check_memory(train_bytes(cfg), f"training {cfg.model} at n={cfg.n}, T={cfg.T}, batch {cfg.batch}, "
                 f"{cfg.seeds} seed(s)")
    from rnnlab.training import loop  # JAX loads here, once the config is known to be good

    return loop.run(cfg)


def train_bytes(cfg) -> int:
    """Rough peak memory of a training run, per seed (float32): about four N x N weight
    matrices with their gradients, optimiser state and the Cayley solve's workspace; the
    activations kept for the backward pass (a few per unit, step and sequence of the batch)
    and the test batch's forward pass."""
    length = cfg.T + 20  # the copy task's sequences are T + 20 long; the others are T
    weights = 4 * 4 * cfg.n * cfg.n * 10
    activations = 4 * length * cfg.n * (8 * cfg.batch + cfg.eval_batch)
    return cfg.seeds * (weights + activations)


def _models(args) -> int:
    from rnnlab.training import cells, loop, tasks
    from rnnlab.training.config import TrainConfig, validate

    if args.task not in tasks.names():
        raise UsageError(f"unknown task {args.task!r}; choose from {', '.join(tasks.names())}")
    cfg = TrainConfig(task=args.task, n=args.n, T=args.T, data=args.data)
    validate(cfg)
    # The task once on its own: an error of the task or its data (a missing --data folder) is
    # the command's error, not a reason listed against every model.
    tasks.make(cfg.task, cfg.T, cfg.n, target=cfg.target, target_seed=cfg.target_seed,
               permutation_seed=cfg.permutation_seed, data=cfg.data, train_subset=cfg.train_subset)
    # The largest cells hold about four N x N float32 matrices, with their gradients.
    check_memory(2 * 4 * 4 * args.n * args.n, f"building the models at n={args.n}")
    print(f"task {args.task}, n={args.n}, T={args.T}; parameters are trainable real degrees of freedom")
    for name in cells.names():
        spec = cells.get(name)
        try:
            count = str(loop.num_params(loop.build(TrainConfig(task=args.task, model=name, n=args.n, T=args.T,
                                                                data=args.data))))
        except UsageError as exc:  # a model this task cannot train is listed with the reason
            count, why = "-", f" ({exc})"
        else:
            why = ""
        print(f"{name:<17} {count:>8}  {spec.description}{why}")
    return 0


def _tasks(args) -> int:
    from rnnlab.training import tasks

    for name in tasks.names():
        print(f"{name:<15} {tasks.REGISTRY.describe(name)}")
    return 0


def _drift(args) -> int:
    if args.n < 1 or args.steps < 1 or args.report_every < 1:
        raise UsageError("n, steps and report-every must be >= 1")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a finite number > 0, got {args.lr}")
    if isinstance(args.json, str):
        raise UsageError(f"--json takes no FILE: it prints JSON on stdout, as in every command "
                         f"(use --json > {args.json})")
    # W, the gradient, the Cayley solve and its workspace: about a dozen complex64 N x N.
    check_memory(12 * 8 * args.n * args.n, f"Cayley steps at n={args.n}")

    from rnnlab.training.drift import cayley_drift

    rows = cayley_drift(args.n, args.steps, args.lr, args.seed, args.report_every, args.rms_normalise)
    if args.json:
        json.dump({"n": args.n, "lr": args.lr, "seed": args.seed, "steps": args.steps,
                   "rms_normalise": args.rms_normalise, "dtype": "complex64", "rows": rows}, sys.stdout, indent=2)
        print()
        return 0
    for row in rows:
        print(f"step {row['step']:>8}  unitarity error {row['unitarity_error']:.3e}")
    print(f"final float32 unitarity error after {args.steps} Cayley steps: {rows[-1]['unitarity_error']:.3e}")
    return 0

