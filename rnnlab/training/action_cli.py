"""``rnnlab action-data``: write the generated action-recognition feature set (no JAX needed)."""

from __future__ import annotations

from rnnlab.training.datasets.actions import GeneratedSpec

_DEFAULTS = GeneratedSpec()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "action-data", help="write a generated action-recognition feature set (the UCF-101 folder layout)",
        description="Write a small synthetic per-clip feature set in the folder layout of "
        "docs/datasets.md (classes.txt, labels.csv, features/*.npy, splits/*.txt), for "
        "`rnnlab train --task action --data OUT`. Pairs of classes rotate one way or the other "
        "in a 2-D plane of feature space; it stands in for UCF-101 features, it is not them.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) folder to write")
    for name, value in _DEFAULTS.__dict__.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value,
                       metavar=name.upper(), help=f"default {value}")
    p.set_defaults(func=_action_data)


def _action_data(args) -> int:
    from rnnlab.training.datasets.actions import load_actions, write_generated

    spec = GeneratedSpec(**{name: getattr(args, name) for name in _DEFAULTS.__dict__})
    root = write_generated(args.out, spec)
    data = load_actions(root)
    counts = ", ".join(f"{name} {len(s.clips)}" for name, s in data.splits.items())
    print(f"wrote {root}: {len(data.classes)} classes, {data.feature_dim} features per frame, clips: {counts}")
    return 0
