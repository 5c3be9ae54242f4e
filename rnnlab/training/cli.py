"""Training subcommands: ``train``, ``sweep``, ``models``, ``tasks``, ``cayley-drift``.

Nothing heavy is imported here at import time: JAX loads inside the handlers.
"""

from __future__ import annotations

import argparse
import json

from rnnlab.training.config import FIELDS, field_type


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train", help="train a model on a task (see docs/training.md)",
        description="Train a model on a synthetic task. Every flag is also a key of --config FILE.toml.",
    )
    train.add_argument("--config", metavar="FILE.toml", help="TOML file of options (flags override it)")
    for name, f in FIELDS.items():
        flag = "--" + name.replace("_", "-")
        kind = field_type(name)
        if kind is bool:
            train.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=f.metadata["help"])
        else:
            train.add_argument(flag, type=kind, default=None, metavar=name.upper(), help=f.metadata["help"])
    train.set_defaults(func=_train)

    sweep = subparsers.add_parser(
        "sweep", help="run a grid of training runs from a TOML file and gather one CSV",
        description="Run every point of the [grid] of CONFIG.toml as its own run folder under --out "
        "(complete points are skipped, interrupted ones resumed, diverged and failed ones skipped unless "
        "--retry-failed) and write OUT/results.csv and OUT/summary.csv. "
        "See rnnlab/training/sweep.py for the file format.",
    )
    sweep.add_argument("config", metavar="CONFIG.toml")
    sweep.add_argument("--out", metavar="DIR", help="sweep folder (default runs/sweep-NAME)")
    sweep.add_argument("--jobs", type=int, default=1, metavar="J", help="grid points run in parallel (default 1)")
    sweep.add_argument("--quick", action="store_true", help="apply the file's [quick] overrides (tiny runs)")
    sweep.add_argument("--seeds", type=int, metavar="K", help="override: seeds vmapped inside each point")
    sweep.add_argument("--steps", type=int, metavar="S", help="override: training steps of every point")
    sweep.add_argument("--where", action="append", metavar="KEY=VALUE",
                       help="run only the grid points whose config has this value (repeatable), e.g. --where T=150")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="rerun the points a previous sweep recorded as diverged or failed (skipped otherwise)")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local",
                       help="local: child processes of this machine, --jobs at a time (default); "
                       "ray: one Ray task per point (needs pip install 'rnnlab[ray]'; docs/training.md)")
    sweep.add_argument("--address", metavar="ADDRESS",
                       help="ray: the cluster to join ('auto': the one started by 'ray start' here); "
                       "default: start a local one")
    sweep.add_argument("--cpus-per-run", type=int, default=1, metavar="K", help="ray: CPUs each point asks for (default 1)")
    sweep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    sweep.set_defaults(func=_sweep)

    models = subparsers.add_parser("models", help="list the models and their parameter counts for a task")
    models.add_argument("--task", default="copy")
    models.add_argument("--n", type=int, default=128)
    models.add_argument("--T", type=int, default=100)
    models.set_defaults(func=_models)

    tasks = subparsers.add_parser("tasks", help="list the training tasks")
    tasks.set_defaults(func=_tasks)

    drift = subparsers.add_parser(
        "cayley-drift", help="measure float32 unitarity drift of repeated Cayley steps with random gradients"
    )
    drift.add_argument("--n", type=int, default=128)
    drift.add_argument("--steps", type=int, default=100_000)
    drift.add_argument("--lr", type=float, default=1e-3)
    drift.add_argument("--seed", type=int, default=0)
    drift.add_argument("--report-every", type=int, default=10_000)
    drift.add_argument("--rms-normalise", action="store_true")
    drift.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    drift.set_defaults(func=_drift)


def _train(args) -> int:
    from rnnlab.training import config, loop

    file_values = config.load_toml(args.config) if args.config else {}
    flags = {name: getattr(args, name) for name in FIELDS}
    cfg = config.resolve(file_values, flags)
    return loop.run(cfg)


def _sweep(args) -> int:
    from rnnlab.training import sweep

    overrides = {k: v for k, v in (("seeds", args.seeds), ("steps", args.steps)) if v is not None}
    return sweep.run(args.config, args.out, jobs=args.jobs, quick=args.quick, overrides=overrides,
                     where=sweep.parse_where(args.where), progress=args.progress, backend=args.backend,
                     address=args.address, cpus_per_run=args.cpus_per_run, retry_failed=args.retry_failed)


def _models(args) -> int:
    from rnnlab.errors import UsageError
    from rnnlab.training import cells, loop
    from rnnlab.training.config import TrainConfig, validate

    validate(TrainConfig(task=args.task, n=args.n, T=args.T))
    print(f"task {args.task}, n={args.n}, T={args.T}; parameters are trainable real degrees of freedom")
    for name in cells.names():
        spec = cells.get(name)
        try:
            count = str(loop.num_params(loop.build(TrainConfig(task=args.task, model=name, n=args.n, T=args.T))))
        except UsageError as exc:  # a model this task cannot train is listed with the reason
            count, why = "-", f" ({exc})"
        else:
            why = ""
        print(f"{name:<17} {count:>8}  {spec.description}{why}")
    return 0


def _tasks(args) -> int:
    from rnnlab.training import tasks

    for name in tasks.names():
        print(f"{name:<15} {tasks.REGISTRY[name].description}")
    return 0


def _drift(args) -> int:
    from rnnlab.errors import UsageError
    from rnnlab.training.drift import cayley_drift

    if args.n < 1 or args.steps < 1 or args.report_every < 1:
        raise UsageError("n, steps and report-every must be >= 1")
    rows = cayley_drift(args.n, args.steps, args.lr, args.seed, args.report_every, args.rms_normalise)
    for row in rows:
        print(f"step {row['step']:>8}  unitarity error {row['unitarity_error']:.3e}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"n": args.n, "lr": args.lr, "seed": args.seed, "dtype": "complex64", "rows": rows}, fh, indent=1)
    print(f"final float32 unitarity error after {args.steps} Cayley steps: {rows[-1]['unitarity_error']:.3e}")
    return 0

