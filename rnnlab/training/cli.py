"""Training subcommands: ``train``, ``plot``, ``sweep``, ``models``, ``tasks``, ``cayley-drift``.

Nothing heavy is imported here at import time: JAX loads inside the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab import progress
from rnnlab.config_files import find_config
from rnnlab.errors import UsageError
from rnnlab.memory import check_memory
from rnnlab.outputs import check_file, check_folder, write_json
from rnnlab.training import sweep as sweep_mod
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

    plot = subparsers.add_parser(
        "plot", help="draw and compare the training curves of run folders",
        description="Read metrics.jsonl of each RUN folder and draw the training loss and the evaluation "
        "metric against the step, one line per run and seed, with the task's baseline where it has one.",
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders (written by rnnlab train)")
    plot.add_argument("--out", default="curves.png", metavar="FILE",
                      help="picture to write: .png, .pdf or .svg (default: curves.png)")
    plot.set_defaults(func=_plot)

    sweep = subparsers.add_parser(
        "sweep", help="run a grid of training runs from a TOML file and gather one CSV",
        description=sweep_mod.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument("config", metavar="CONFIG.toml|NAME",
                       help="the sweep file (format above), or the name of a shipped one (e.g. np-rnn-addition)")
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
    sweep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                       help="progress bar of the grid points on stderr when it is a terminal (default on)")
    sweep.set_defaults(func=_sweep)

    models = subparsers.add_parser(
        "models", help="list the models and their parameter counts for a task",
        description="Every registered model with its trainable real parameter count on one task "
        "and size, to set up equal-count comparisons (a model the task cannot train is listed "
        "with the reason).")
    models.add_argument("--task", default="copy", help="task name, see 'rnnlab tasks' (default copy)")
    models.add_argument("--n", type=int, default=128, help="hidden units (default 128)")
    models.add_argument("--T", type=int, default=100, help="sequence length or delay of the task (default 100)")
    models.add_argument("--data", metavar="DIR", help="the task's data folder (action: sets the input size)")
    models.set_defaults(func=_models)

    tasks = subparsers.add_parser("tasks", help="list the training tasks",
                                  description="Every registered training task with a one-line description.")
    tasks.set_defaults(func=_tasks)

    configs = subparsers.add_parser(
        "configs", help="list the shipped run and sweep configurations (usable by name)",
        description="The configurations shipped with rnnlab, usable by name with 'rnnlab train "
        "--config NAME' and 'rnnlab sweep NAME', and the folder that holds them.")
    configs.set_defaults(func=_configs)

    drift = subparsers.add_parser(
        "cayley-drift", help="measure float32 unitarity drift of repeated Cayley steps with random gradients",
        description="Apply STEPS Cayley steps to a Haar-random complex64 W with fresh random "
        "gradients and no re-projection, and print max|W^H W - I| every REPORT_EVERY steps: "
        "how often a float32 run needs to re-project onto U(N).",
    )
    drift.add_argument("--n", type=int, default=128, help="size of W (default 128)")
    drift.add_argument("--steps", type=int, default=100_000, help="Cayley steps (default 100000)")
    drift.add_argument("--lr", type=float, default=1e-3, help="learning rate of the step (default 1e-3)")
    drift.add_argument("--seed", type=int, default=0, help="seed of W and the gradients (default 0)")
    drift.add_argument("--report-every", type=int, default=10_000, metavar="K",
                       help="print the error every K steps (default 10000)")
    drift.add_argument("--rms-normalise", action="store_true",
                       help="normalise the gradient by RMSprop statistics before the step")
    drift.add_argument("--json", metavar="FILE", help="also write the measurements as JSON to FILE")
    drift.set_defaults(func=_drift)


def _with_default(f) -> str:
    """A train flag's help with its default (the value used when neither flag nor --config sets it)."""
    default = f.default
    if default is None:
        return f.metadata["help"]
    return f"{f.metadata['help']} (default {str(default).lower() if isinstance(default, bool) else default})"


def _train(args) -> int:
    from rnnlab.training import config, loop

    file_values = config.load_toml(find_config(args.config)) if args.config else {}
    flags = {name: getattr(args, name) for name in FIELDS}
    if flags["progress"] is None and not progress.enabled():  # the one progress policy
        flags["progress"] = False
    cfg = config.resolve(file_values, flags)
    check_folder(cfg.run_dir(), "--out")
    check_memory(train_bytes(cfg), f"training {cfg.model} at n={cfg.n}, T={cfg.T}, batch {cfg.batch}, "
                 f"{cfg.seeds} seed(s)")
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


def _plot(args) -> int:
    from pathlib import Path

    from rnnlab.errors import UsageError
    from rnnlab.training import curves

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise UsageError(f"--out {out}: the picture must end in .png, .pdf or .svg")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist")
    folders = [Path(run) for run in args.runs]
    try:
        curves.write(folders, out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    print(f"{len(folders)} run(s) drawn in {out}")
    return 0


def _sweep(args) -> int:
    from rnnlab.training import sweep

    check_folder(Path(args.out) if args.out else Path("runs"), "--out")
    overrides = {k: v for k, v in (("seeds", args.seeds), ("steps", args.steps)) if v is not None}
    return sweep.run(str(find_config(args.config)), args.out, jobs=args.jobs, quick=args.quick, overrides=overrides,
                     where=sweep.parse_where(args.where), progress=args.progress and progress.enabled(),
                     backend=args.backend, address=args.address, cpus_per_run=args.cpus_per_run,
                     retry_failed=args.retry_failed)


def _models(args) -> int:
    from rnnlab.training import cells, loop, tasks
    from rnnlab.training.config import TrainConfig, validate

    if args.task not in tasks.names():
        raise UsageError(f"unknown task {args.task!r}; choose from {', '.join(tasks.names())}")
    validate(TrainConfig(task=args.task, n=args.n, T=args.T, data=args.data))
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
        print(f"{name:<15} {tasks.REGISTRY[name].description}")
    return 0


def _configs(args) -> int:
    from rnnlab.config_files import config_dir, config_names

    for name in config_names():
        first = (config_dir() / f"{name}.toml").read_text().splitlines()[:1]
        about = first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""
        print(f"{name:<22} {about}")
    print(f"(in {config_dir()})")
    return 0


def _drift(args) -> int:
    if args.n < 1 or args.steps < 1 or args.report_every < 1:
        raise UsageError("n, steps and report-every must be >= 1")
    if args.json:
        check_file(args.json, "--json")
    # W, the gradient, the Cayley solve and its workspace: about a dozen complex64 N x N.
    check_memory(12 * 8 * args.n * args.n, f"Cayley steps at n={args.n}")

    from rnnlab.training.drift import cayley_drift

    rows = cayley_drift(args.n, args.steps, args.lr, args.seed, args.report_every, args.rms_normalise)
    for row in rows:
        print(f"step {row['step']:>8}  unitarity error {row['unitarity_error']:.3e}")
    if args.json:
        write_json(args.json, {"n": args.n, "lr": args.lr, "seed": args.seed, "steps": args.steps,
                               "rms_normalise": args.rms_normalise, "dtype": "complex64", "rows": rows})
    print(f"final float32 unitarity error after {args.steps} Cayley steps: {rows[-1]['unitarity_error']:.3e}")
    return 0

