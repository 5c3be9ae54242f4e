"""A user's own TIMIT copy: NIST SPHERE reader and the train / val / test file lists.

TIMIT is licensed by the LDC, so rnnlab never ships or downloads it; point
``load_speech(Path("/data/TIMIT"), split)`` (or ``--data DIR``) at a copy. Accepted
layouts: ``DIR/TRAIN`` and ``DIR/TEST`` (any letter case), or the same one level down
(``DIR/TIMIT/TRAIN``, ``DIR/data/TRAIN``), each holding ``DR1..DR8/<SPEAKER>/<UTT>.WAV``.
The ``.WAV`` files are NIST SPHERE (16 kHz, 16-bit PCM); RIFF WAV copies (e.g.
``SA1.WAV.wav`` in re-packaged versions) are read too, one file per utterance.

Split (the uRNN paper's exact TIMIT lists are not public [check]): the dialect sentences
SA1/SA2 are left out (every speaker reads them, so they would leak text across splits),
train = all SI/SX utterances of TRAIN (3696), test = the 24-speaker core test set
(:data:`CORE_TEST_SPEAKERS`, 192 utterances), val = the other TEST speakers (1152).
Speakers never overlap between splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io.wavfile
from tqdm import tqdm

from rnnlab.errors import UsageError
from rnnlab.training.datasets.audio import resample

SPHERE_MAGIC = b"NIST_1A"

#: The TIMIT core test set: 2 male and 1 female speaker of each dialect region (24 x 8 utterances).
CORE_TEST_SPEAKERS = frozenset(
    "MDAB0 MWBT0 FELC0 MTAS1 MWEW0 FPAS0 MJMP0 MLNT0 FPKT0 MLLL0 MTLS0 FJLM0 "
    "MBPM0 MKLT0 FNLP0 MCMJ0 MJDH0 FMGD0 MGRT0 MNJM0 FDHC0 MJLN0 MPAM0 FMLD0".split()
)


def parse_sphere_header(
    raw: bytes, name: str = "<bytes>"
) -> tuple[dict[str, int | float | str], int]:
    """The fields of a NIST SPHERE header and the header's size in bytes.

    The header is ASCII: ``NIST_1A``, the header size (usually 1024), then lines
    ``field -i 123`` (int), ``-r 1.5`` (real) or ``-sN text`` (string of N bytes), up to
    ``end_head``.
    """
    lines = raw[:64].split(b"\n", 2)
    if len(lines) < 3 or lines[0].strip() != SPHERE_MAGIC:
        raise UsageError(f"not a NIST SPHERE file: {name}")
    try:
        size = int(lines[1])
    except ValueError:
        raise UsageError(f"corrupt SPHERE header size in {name}") from None
    if len(raw) < size:
        raise UsageError(f"truncated SPHERE header in {name}")
    text = raw[:size].decode("ascii", errors="replace").split("\n")[2:]
    fields: dict[str, int | float | str] = {}
    for line in text:
        line = line.rstrip("\r")
        if line.strip() == "end_head":
            return fields, size
        if not line.strip() or line.startswith(";"):
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or not parts[1].startswith("-"):
            raise UsageError(f"corrupt SPHERE header line {line!r} in {name}")
        key, kind, value = parts
        try:
            if kind == "-i":
                fields[key] = int(value)
            elif kind == "-r":
                fields[key] = float(value)
            elif kind.startswith("-s"):
                fields[key] = value[: int(kind[2:])]
            else:
                raise ValueError(kind)
        except ValueError:
            raise UsageError(f"corrupt SPHERE header line {line!r} in {name}") from None
    raise UsageError(f"SPHERE header of {name} has no end_head")


def read_sphere(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples and rate of an uncompressed 16-bit PCM SPHERE file.

    Returns ``(samples, sample_rate)``: ``samples`` is int16 of shape ``(S,)`` for one
    channel, ``(S, C)`` for several.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    fields, size = parse_sphere_header(raw, str(path))
    coding = str(fields.get("sample_coding", "pcm"))
    if coding != "pcm":
        raise UsageError(
            f"{path}: SPHERE sample_coding {coding!r} is not supported; "
            "convert to plain PCM first (e.g. sph2pipe -f wav)"
        )
    if fields.get("sample_n_bytes", 2) != 2:
        raise UsageError(f"{path}: only 16-bit SPHERE samples are supported")
    order = {"01": "<", "10": ">"}.get(str(fields.get("sample_byte_format", "01")))
    if order is None:
        raise UsageError(f"{path}: unknown sample_byte_format {fields['sample_byte_format']!r}")
    for key in ("sample_count", "sample_rate"):
        if key not in fields:
            raise UsageError(f"{path}: SPHERE header lacks {key}")
    channels = int(fields.get("channel_count", 1))
    count = int(fields["sample_count"]) * channels
    if len(raw) - size < 2 * count:
        raise UsageError(f"{path}: truncated, header promises {count} samples")
    samples = np.frombuffer(raw, order + "i2", count, offset=size).astype(np.int16)
    return (samples if channels == 1 else samples.reshape(-1, channels)), int(fields["sample_rate"])


def read_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """A SPHERE or RIFF WAV file as mono float32 ``(S,)`` in ``[-1, 1)`` at ``sample_rate``.

    Several channels are averaged; other rates are converted with a polyphase filter
    (``scipy.signal.resample_poly``, its default Kaiser window).
    """
    path = Path(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"RIFF":
        try:
            rate, samples = scipy.io.wavfile.read(path)
        except ValueError as exc:
            raise UsageError(f"corrupt WAV file {path}: {exc}") from None
    else:
        samples, rate = read_sphere(path)
    if samples.dtype != np.int16:
        raise UsageError(f"{path}: expected 16-bit PCM, got {samples.dtype}")
    wave = samples.astype(np.float64) / 32768.0
    if wave.ndim == 2:
        wave = wave.mean(axis=1)
    if rate != sample_rate:
        wave = resample(wave, rate, sample_rate)
    return wave.astype(np.float32)


def _subdir(parent: Path, name: str) -> Path | None:
    """The child directory of ``parent`` called ``name`` in any letter case."""
    for child in sorted(parent.iterdir()):
        if child.is_dir() and child.name.upper() == name:
            return child
    return None


def _timit_part(root: Path, part: str) -> Path:
    for base in [root, *(c for c in sorted(root.iterdir()) if c.is_dir())]:
        found = _subdir(base, part)
        if found is not None:
            return found
    raise UsageError(f"{root} is not a TIMIT directory: no {part}/ folder in it or one level down")


def timit_files(root: str | Path, split: str) -> list[tuple[str, Path]]:
    """``(name, path)`` of each utterance in ``split`` ("train", "val", "test"), sorted by name.

    ``name`` is ``PART/DIALECT/SPEAKER/UTT`` in upper case, e.g. ``TRAIN/DR1/FCJF0/SI1027``.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise UsageError(f"TIMIT directory not found: {root}")
    if split not in ("train", "val", "test"):
        raise UsageError(f"unknown speech split {split!r}; choose train, val or test")
    part = "TRAIN" if split == "train" else "TEST"
    chosen: dict[str, Path] = {}
    for dialect in sorted(_timit_part(root, part).iterdir()):
        if not dialect.is_dir():
            continue
        for speaker in sorted(dialect.iterdir()):
            if not speaker.is_dir():
                continue
            in_core = speaker.name.upper() in CORE_TEST_SPEAKERS
            if split != "train" and in_core != (split == "test"):
                continue
            for path in sorted(speaker.iterdir()):
                utt = path.name.split(".")[0].upper()
                if ".WAV" not in path.name.upper() or utt.startswith("SA"):
                    continue
                name = f"{part}/{dialect.name.upper()}/{speaker.name.upper()}/{utt}"
                # Prefer the original SPHERE "X.WAV" over a converted "X.WAV.wav" beside it.
                if name not in chosen or path.name.upper() == f"{utt}.WAV":
                    chosen[name] = path
    if not chosen:
        raise UsageError(f"no TIMIT {split} utterances (*.WAV) under {root}")
    return sorted(chosen.items())


def load_timit(
    root: str | Path, split: str, sample_rate: int, *, progress: bool = True
) -> list[tuple[str, np.ndarray]]:
    """``(name, waveform (S,) float32 at sample_rate)`` for each utterance of ``split``."""
    files = timit_files(root, split)
    bar = tqdm(files, desc=f"TIMIT {split}", unit="utt", disable=not progress, leave=False)
    return [(name, read_audio(path, sample_rate)) for name, path in bar]
