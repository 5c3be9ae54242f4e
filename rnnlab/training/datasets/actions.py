"""Per-clip feature sequences for action recognition (UCF-101 style), and a generated stand-in.

The np-RNN paper classifies UCF-101 videos from per-frame CNN features. Those features
cannot be had offline, so rnnlab reads a folder a user prepares (layout in docs/datasets.md)::

    DIR/classes.txt          one class name per line, in class-index order
                             (UCF-101's classInd.txt lines "1 ApplyEyeMakeup" also work)
    DIR/labels.csv           header "clip,label", one row per clip (label: a class name)
    DIR/features/CLIP.npy    (frames, features) array of one clip, or CLIP.npz holding one
                             array (or one named "features"); CLIP may contain "/"
    DIR/splits/train.txt     clip ids, one per line (first token of the line; a trailing
    DIR/splits/val.txt       ".avi" / ".mp4" is dropped, so UCF-101's trainlist01.txt lines
    DIR/splits/test.txt      "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1" work as they are)

:func:`load_actions` checks every piece and raises :class:`~rnnlab.errors.UsageError` (a
``ValueError``) in one line naming the file and the problem. All frames of a split are held
in memory, back to back, as float32 (``frames x features x 4`` bytes).

:func:`write_generated` writes a small synthetic set in the same layout (class-dependent
rotations in feature space, variable lengths, a seed), so the quick runs and the tests go
through the very loader a user's data goes through.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.errors import UsageError, check_int
from rnnlab.memory import check_memory

SPLITS = ("train", "val", "test")
_VIDEO_SUFFIXES = (".avi", ".mp4")
#: The settings :func:`write_generated` used, written beside the data.
GENERATED_RECORD = "generated.json"


@dataclass(frozen=True)
class ActionSplit:
    """The clips of one split, their frames packed back to back."""

    clips: tuple[str, ...]
    labels: np.ndarray  # (n,) int32 class indices
    frames: np.ndarray  # (sum of lengths, features) float32
    offsets: np.ndarray  # (n,) int64: first row of each clip in ``frames``
    lengths: np.ndarray  # (n,) int32: frames of each clip (>= 1)

    def clip(self, i: int) -> np.ndarray:
        """Frames ``(lengths[i], features)`` of clip ``i``."""
        return self.frames[self.offsets[i]: self.offsets[i] + self.lengths[i]]


@dataclass(frozen=True)
class ActionData:
    classes: tuple[str, ...]
    feature_dim: int
    splits: dict[str, ActionSplit]

    @property
    def longest(self) -> int:
        return int(max(s.lengths.max() for s in self.splits.values()))

    def digest(self) -> str:
        """SHA-256 of the classes, clip ids, labels and frames of every split (a run records it)."""
        h = hashlib.sha256("\n".join(self.classes).encode())
        for name in SPLITS:
            s = self.splits[name]
            h.update("\n".join(s.clips).encode())
            for array in (s.labels, s.lengths, s.frames):
                h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()


def _read_lines(path: Path, what: str) -> list[str]:
    if not path.is_file():
        raise UsageError(f"missing {what} {path}")
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _read_classes(path: Path) -> tuple[str, ...]:
    names = []
    for line in _read_lines(path, "class list"):
        parts = line.split()
        names.append(parts[1] if len(parts) == 2 and parts[0].isdigit() else line)
    if not names:
        raise UsageError(f"class list {path} is empty")
    seen = set()
    for name in names:
        if name in seen:
            raise UsageError(f"class {name!r} appears twice in {path}")
        seen.add(name)
    return tuple(names)


def _read_labels(path: Path, classes: tuple[str, ...]) -> dict[str, int]:
    if not path.is_file():
        raise UsageError(f"missing labels file {path}")
    index = {name: i for i, name in enumerate(classes)}
    labels: dict[str, int] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"clip", "label"} <= set(reader.fieldnames):
            raise UsageError(f"{path} must start with the header line 'clip,label'")
        for row in reader:
            clip, label = (row["clip"] or "").strip(), (row["label"] or "").strip()
            where = f"{path} line {reader.line_num}"
            if not clip:
                raise UsageError(f"{where}: empty clip id")
            if label not in index:
                raise UsageError(f"{where}: unknown label {label!r} of clip {clip!r} (not in classes.txt)")
            if clip in labels:
                raise UsageError(f"{where}: clip {clip!r} labelled twice")
            labels[clip] = index[label]
    return labels


def _clip_id(token: str) -> str:
    for suffix in _VIDEO_SUFFIXES:
        if token.lower().endswith(suffix):
            return token[: -len(suffix)]
    return token


def _read_split(path: Path) -> list[str]:
    clips = [_clip_id(line.split()[0]) for line in _read_lines(path, "split list")]
    if not clips:
        raise UsageError(f"split list {path} is empty")
    return clips


def load_clip(path: Path) -> np.ndarray:
    """One clip's ``(frames, features)`` array from a ``.npy`` or ``.npz`` file."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            if "features" in keys:
                array = loaded["features"]
            elif len(keys) == 1:
                array = loaded[keys[0]]
            else:
                raise UsageError(f"{path} holds arrays {keys}; keep one, or name it 'features'")
    else:
        array = loaded
    if array.ndim != 2:
        raise UsageError(f"{path}: expected a (frames, features) array, got shape {array.shape}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise UsageError(f"{path}: empty array of shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise UsageError(f"{path}: features must be real numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise UsageError(f"{path}: features contain NaN or infinity")
    return np.asarray(array, np.float32)


def _clip_file(features: Path, clip: str) -> Path:
    if clip.startswith("/") or ".." in Path(clip).parts:
        raise UsageError(f"clip id {clip!r} must be a relative path inside {features}")
    found = [p for p in (features / f"{clip}.npy", features / f"{clip}.npz") if p.is_file()]
    if not found:
        raise UsageError(f"missing feature file {features / clip}.npy (or .npz) of clip {clip!r}")
    if len(found) > 1:
        raise UsageError(f"clip {clip!r} has both {found[0]} and {found[1]}; keep one")
    return found[0]


def load_actions(folder: str | Path) -> ActionData:
    """Read and check a feature folder laid out as in the module docstring.

    Raises :class:`UsageError` (one line) for: a missing file, an empty list, a repeated
    class, a bad header, an unknown label, a clip labelled twice, a clip in two splits
    or in a split but not in labels.csv, an array that is not ``(frames >= 1, features)``
    or not finite, and clips whose feature counts differ.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UsageError(f"action data folder {str(folder)!r} is not a folder")
    classes = _read_classes(root / "classes.txt")
    labels = _read_labels(root / "labels.csv", classes)
    lists = {name: _read_split(root / "splits" / f"{name}.txt") for name in SPLITS}
    owner: dict[str, str] = {}
    for name, clips in lists.items():
        for clip in clips:
            if clip in owner:
                where = "twice in" if owner[clip] == name else f"in both {owner[clip]} and"
                raise UsageError(f"clip {clip!r} is listed {where} {name} (splits/*.txt)")
            owner[clip] = name
            if clip not in labels:
                raise UsageError(f"clip {clip!r} of splits/{name}.txt has no row in labels.csv")
    features = root / "features"
    feature_dim = None
    splits = {}
    for name, clips in lists.items():
        arrays = []
        for clip in clips:
            path = _clip_file(features, clip)
            array = load_clip(path)
            if feature_dim is None:
                feature_dim, first = array.shape[1], path
            elif array.shape[1] != feature_dim:
                raise UsageError(f"{path} has {array.shape[1]} features per frame but {first} has {feature_dim}")
            arrays.append(array)
        lengths = np.array([len(a) for a in arrays], np.int32)
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)[:-1]])
        splits[name] = ActionSplit(tuple(clips), np.array([labels[c] for c in clips], np.int32),
                                   np.concatenate(arrays), offsets, lengths)
    return ActionData(classes, feature_dim, splits)


@dataclass(frozen=True)
class GeneratedSpec:
    """Settings of :func:`write_generated` (the defaults make the quick set)."""

    classes: int = 6
    features: int = 16
    train_per_class: int = 40
    val_per_class: int = 10
    test_per_class: int = 10
    min_frames: int = 10
    max_frames: int = 40
    noise: float = 0.3
    seed: int = 0

    def check(self) -> None:
        for name in ("train_per_class", "val_per_class", "test_per_class", "min_frames"):
            check_int(getattr(self, name), name)
        if self.classes < 2:
            raise UsageError(f"classes must be >= 2, got {self.classes}")
        if self.features < 2 * math.ceil(self.classes / 2):
            raise UsageError(f"features must be >= {2 * math.ceil(self.classes / 2)} for {self.classes} classes "
                             f"(one 2-D plane per pair of classes), got {self.features}")
        if self.max_frames < self.min_frames:
            raise UsageError(f"max_frames ({self.max_frames}) must be >= min_frames ({self.min_frames})")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise UsageError(f"noise must be a finite number >= 0, got {self.noise}")


def generated_clip(spec: GeneratedSpec, label: int, rng: np.random.Generator,
                   planes: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """One clip ``(frames, features)`` of class ``label`` (see :func:`write_generated`)."""
    frames = int(rng.integers(spec.min_frames, spec.max_frames + 1))
    pair, direction = divmod(label, 2)
    phase = rng.uniform(0, 2 * math.pi) + (1 - 2 * direction) * freqs[pair] * np.arange(frames)
    u, v = planes[pair]
    signal = np.cos(phase)[:, None] * u + np.sin(phase)[:, None] * v
    return (signal + spec.noise * rng.standard_normal((frames, spec.features))).astype(np.float32)


def generated_bytes(spec: GeneratedSpec) -> int:
    """Estimated peak memory of :func:`write_generated` and of loading what it writes, the
    larger of the two: the QR factorisation of a ``features x features`` float64 Gaussian
    (its input, Q, R and workspace), and :func:`load_actions` holding every clip at its
    longest as float32 twice over (the clips, then their concatenation)."""
    clips = spec.classes * (spec.train_per_class + spec.val_per_class + spec.test_per_class)
    return max(4 * 8 * spec.features**2, 2 * 4 * clips * spec.max_frames * spec.features)


def write_generated(out: str | Path, spec: GeneratedSpec = GeneratedSpec()) -> Path:
    """Write a synthetic action set to the empty (or new) folder ``out``; returns it.

    Classes come in pairs: pair ``p`` owns a random 2-D plane ``(u_p, v_p)`` (orthonormal)
    of feature space and an angular speed ``w_p`` (radians per frame, spread over
    [0.3, 1.2]); a clip of class ``2p`` turns along the plane one way, ``2p + 1`` the other:
    ``x_t = cos(phi_t) u_p + sin(phi_t) v_p + noise * N(0, I)`` with
    ``phi_t = phi_0 +- w_p t`` and a random start ``phi_0``. Lengths are uniform in
    ``[min_frames, max_frames]``. A clip of class ``2p + 1`` is distributed as a clip of class
    ``2p`` played backwards, so the two classes of a pair differ only in the order of their
    frames: a classifier blind to the order (of single frames, of the mean frame) can at best
    find the pair and guess within it, 50% accuracy. Everything is a function of ``spec.seed``.
    A set whose :func:`generated_bytes` exceeds the memory available is refused
    (:class:`UsageError`, with the estimate) before anything is written.
    """
    spec.check()
    check_memory(generated_bytes(spec), f"the action set ({spec.classes} classes, {spec.features} features)")
    root = Path(out).expanduser()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(f"{root} exists and is not an empty folder; choose another")
    rng = np.random.default_rng(spec.seed)
    pairs = math.ceil(spec.classes / 2)
    basis = np.linalg.qr(rng.standard_normal((spec.features, spec.features)))[0]
    planes = basis[:, : 2 * pairs].T.reshape(pairs, 2, spec.features)
    freqs = np.linspace(0.3, 1.2, pairs) if pairs > 1 else np.array([0.6])
    names = [f"class{c:02d}" for c in range(spec.classes)]
    (root / "features").mkdir(parents=True, exist_ok=True)
    (root / "splits").mkdir(exist_ok=True)
    (root / "classes.txt").write_text("".join(f"{name}\n" for name in names))
    rows = ["clip,label"]
    per_class = {"train": spec.train_per_class, "val": spec.val_per_class, "test": spec.test_per_class}
    for split, count in per_class.items():
        clips = []
        for c in range(spec.classes):
            for i in range(count):
                clip = f"{split}_{names[c]}_{i:04d}"
                np.save(root / "features" / f"{clip}.npy", generated_clip(spec, c, rng, planes, freqs))
                rows.append(f"{clip},{names[c]}")
                clips.append(clip)
        (root / "splits" / f"{split}.txt").write_text("".join(f"{clip}\n" for clip in clips))
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    # Not read by the loader: a record of how the folder was made, copied into run folders.
    (root / GENERATED_RECORD).write_text(json.dumps(dataclasses.asdict(spec), indent=1) + "\n")
    return root
