"""``rnnlab action-data``: write the generated action-recognition feature set.

Nothing is imported at import time; the defaults live in
:class:`rnnlab.training.datasets.actions.GeneratedSpec`.
"""

from __future__ import annotations

#: Flags of ``action-data``: the fields of ``GeneratedSpec``, with their types and meaning.
_OPTIONS = (
    ("classes", int, "number of classes (default 6)"),
    ("features", int, "features per frame (default 16)"),
    ("train_per_class", int, "training clips per class (default 40)"),
    ("val_per_class", int, "validation clips per class (default 10)"),
    ("test_per_class", int, "test clips per class (default 10)"),
    ("min_frames", int, "shortest clip (default 10)"),
    ("max_frames", int, "longest clip (default 40)"),
    ("noise", float, "standard deviation of the Gaussian noise added to every feature (default 0.3)"),
    ("seed", int, "seed of everything drawn (default 0)"),
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "action-data", help="write a generated action-recognition feature set (the UCF-101 folder layout)",
        description="Write a small synthetic per-clip feature set in the folder layout of "
        "docs/datasets.md (classes.txt, labels.csv, features/*.npy, splits/*.txt), for "
        "`rnnlab train --task action --data OUT`. Pairs of classes turn one way or the other "
        "in a 2-D plane of feature space; it stands in for UCF-101 features, it is not them.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) folder to write")
    for name, kind, text in _OPTIONS:
        p.add_argument("--" + name.replace("_", "-"), type=kind, metavar=name.upper(), help=text)
    p.set_defaults(func=_action_data)


def _action_data(args) -> int:
    from rnnlab.training.datasets.actions import GeneratedSpec, load_actions, write_generated

    spec = GeneratedSpec(**{name: getattr(args, name) for name, _, _ in _OPTIONS if getattr(args, name) is not None})
    root = write_generated(args.out, spec)
    data = load_actions(root)
    counts = ", ".join(f"{name} {len(s.clips)}" for name, s in data.splits.items())
    print(f"wrote {root}: {len(data.classes)} classes, {data.feature_dim} features per frame, clips: {counts}")
    return 0
