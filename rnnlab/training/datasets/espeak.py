"""A synthetic speech corpus made offline with espeak-ng: the default stand-in for TIMIT.

Every sentence of :data:`SENTENCES` (read from ``espeak_sentences.txt``, shipped with the
package) is spoken by each voice of :data:`VOICES` (espeak-ng
voice + variant, pitch and speed chosen to spread over male/female-like registers, accents
and speaking rates). The split is by sentence, fixed by index: sentence ``i`` is *val* when
``i % 10 == 8``, *test* when ``i % 10 == 9``, *train* otherwise (64 / 8 / 8 sentences,
512 / 64 / 64 utterances), so no sentence text is shared between splits; the voices are.

Each utterance is synthesised at espeak-ng's 22050 Hz, resampled to 8 kHz
(``resample_poly(160, 441)``), given seeded white dither at -60 dBFS (standard deviation
0.001 of full scale: espeak-ng's pauses are digital zeros, whose log-magnitude would be a
constant floor no recording has) and stored as 16-bit PCM WAV under
``<cache>/espeak-<key>/<split>/``, where ``<cache>`` is ``$RNNLAB_CACHE/speech`` or
``~/.cache/rnnlab/speech`` and ``<key>`` hashes the sentences, voices and processing.
``manifest.json`` in each split folder records the espeak-ng version and each file's
SHA-256: a different espeak-ng version produces (slightly) different audio, so a run should
save :func:`espeak_manifest`'s ``digest``. Generation resumes where an interrupted one
stopped; a finished split is read without calling espeak-ng at all.

Caveat: this is far easier than TIMIT (a handful of rule-based voices, no recording noise
or room, identical prosody rules), so its numbers are not comparable with the paper's.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy.io.wavfile
from tqdm import tqdm

from rnnlab.errors import UsageError
from rnnlab.files import atomic_path, atomic_write
from rnnlab.training.datasets.audio import resample

ESPEAK_INSTALL = (
    "install it with: apt-get install -y espeak-ng (Debian/Ubuntu; `make speech-data` does it), "
    "or train on the small generated corpus with --data synthetic"
)
DITHER_STD = 1e-3
# Bump when the processing below changes, so old caches are not mistaken for new ones.
CORPUS_FORMAT = 1


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings of one speaker: ``-v voice``, ``-p pitch`` (0-99), ``-s`` words/min."""

    voice: str
    pitch: int
    speed: int

    @property
    def name(self) -> str:
        return f"{self.voice.replace('+', '_')}-p{self.pitch}-s{self.speed}"


VOICES: tuple[Voice, ...] = (
    Voice("en-us+m3", 40, 150),
    Voice("en-us+f2", 62, 165),
    Voice("en-gb+f4", 70, 155),
    Voice("en-gb-scotland+m2", 35, 140),
    Voice("en-029+f3", 66, 175),
    Voice("en-gb-x-rp+m4", 48, 185),
    Voice("en-us-nyc+f1", 55, 160),
    Voice("en-gb-x-gbclan+m7", 30, 170),
)

#: File shipped with the package: the corpus sentences, one per line, in index order.
SENTENCES_FILE = "espeak_sentences.txt"


def _read_sentences() -> tuple[str, ...]:
    text = importlib.resources.files(__package__).joinpath(SENTENCES_FILE).read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


SENTENCES: tuple[str, ...] = _read_sentences()


def split_of(sentence_index: int) -> str:
    """Split of sentence ``i``: val if ``i % 10 == 8``, test if ``i % 10 == 9``, else train."""
    return {8: "val", 9: "test"}.get(sentence_index % 10, "train")


def default_cache_dir() -> Path:
    """``$RNNLAB_CACHE/speech`` if set, else ``~/.cache/rnnlab/speech``."""
    base = os.environ.get("RNNLAB_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "rnnlab") / "speech"


def espeak_executable() -> str:
    """Path of ``espeak-ng``; UsageError saying how to install it when absent."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise UsageError(
            f"the espeak speech corpus needs espeak-ng, which is not installed; {ESPEAK_INSTALL}"
        )
    return path


def espeak_version() -> str:
    """``espeak-ng --version`` without its data path, e.g. ``eSpeak NG text-to-speech: 1.51``."""
    out = subprocess.run(
        [espeak_executable(), "--version"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[0].split("  Data at:")[0].strip()


def synthesize(text: str, voice: Voice, sample_rate: int, *, dither_seed: int) -> np.ndarray:
    """``text`` spoken by ``voice``, dithered: float32 ``(S,)`` in ``[-1, 1)``, at ``sample_rate``.

    Needs espeak-ng (UsageError saying how to install it otherwise).
    """
    with tempfile.TemporaryDirectory(prefix="rnnlab-espeak-") as tmp:
        wav = Path(tmp) / "out.wav"
        command = [
            espeak_executable(),
            "-v",
            voice.voice,
            "-p",
            str(voice.pitch),
            "-s",
            str(voice.speed),
        ]
        result = subprocess.run([*command, "-w", str(wav), text], capture_output=True, text=True)
        if result.returncode != 0 or not wav.is_file():
            raise UsageError(
                f"espeak-ng failed for voice {voice.voice}: {result.stderr.strip()[:200]}"
            )
        rate, samples = scipy.io.wavfile.read(wav)
    wave = resample(samples.astype(np.float64) / 32768.0, rate, sample_rate)
    wave += DITHER_STD * np.random.default_rng(dither_seed).standard_normal(len(wave))
    return np.clip(wave, -1.0, 32767 / 32768).astype(np.float32)


def _corpus_key(sentences: tuple[str, ...], voices: tuple[Voice, ...], sample_rate: int) -> str:
    spec = {
        "format": CORPUS_FORMAT,
        "sentences": list(sentences),
        "voices": [asdict(v) for v in voices],
        "sample_rate": sample_rate,
        "dither_std": DITHER_STD,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def _utterances(
    split: str, sentences: tuple[str, ...], voices: tuple[Voice, ...]
) -> list[tuple[str, int, int]]:
    """``(file stem, sentence index, voice index)`` of every utterance in ``split``."""
    return [
        (f"{i:03d}-{voice.name}", i, j)
        for i in range(len(sentences))
        if split_of(i) == split
        for j, voice in enumerate(voices)
    ]


def split_dir(
    split: str,
    cache_dir: str | Path | None = None,
    *,
    sentences: tuple[str, ...] = SENTENCES,
    voices: tuple[Voice, ...] = VOICES,
    sample_rate: int = 8000,
) -> Path:
    """The folder holding ``split``'s WAVs and ``manifest.json``."""
    if split not in ("train", "val", "test"):
        raise UsageError(f"unknown speech split {split!r}; choose train, val or test")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / f"espeak-{_corpus_key(tuple(sentences), tuple(voices), sample_rate)}" / split


def load_espeak(
    split: str,
    cache_dir: str | Path | None = None,
    *,
    sentences: tuple[str, ...] = SENTENCES,
    voices: tuple[Voice, ...] = VOICES,
    sample_rate: int = 8000,
    progress: bool = True,
) -> list[tuple[str, np.ndarray]]:
    """``(name, waveform (S,) float32)`` for each utterance of ``split``, synthesised on first use.

    Names are ``espeak/<split>/<sentence index>-<voice>``, sorted. ``sentences`` and
    ``voices`` default to the corpus described in the module docstring; other values make a
    separate cache entry.
    """
    folder = split_dir(
        split, cache_dir, sentences=sentences, voices=voices, sample_rate=sample_rate
    )
    plan = _utterances(split, tuple(sentences), tuple(voices))
    if not plan:
        raise UsageError(
            f"no sentence falls in the {split} split (split is by sentence index mod 10)"
        )
    if not (folder / "manifest.json").is_file():
        _generate(folder, plan, sentences, voices, sample_rate, progress)
    out = []
    for stem, _, _ in plan:
        try:
            rate, samples = scipy.io.wavfile.read(folder / f"{stem}.wav")
        except (OSError, ValueError):
            rate, samples = None, None
        if rate != sample_rate or samples.dtype != np.int16:
            raise UsageError(
                f"{folder / stem}.wav is missing or not {sample_rate} Hz 16-bit: "
                f"delete {folder} to rebuild it"
            )
        out.append((f"espeak/{split}/{stem}", samples.astype(np.float32) / 32768.0))
    return out


def _dither_seed(sentence_index: int, voice_index: int) -> int:
    # Distinct per utterance and independent of the split and of which files were cached.
    return 1_000 * sentence_index + voice_index


def _generate(
    folder: Path,
    plan: list[tuple[str, int, int]],
    sentences: tuple[str, ...],
    voices: tuple[Voice, ...],
    sample_rate: int,
    progress: bool,
) -> None:
    version = espeak_version()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the speech cache {folder}: {exc.strerror}") from None
    todo = [item for item in plan if not (folder / f"{item[0]}.wav").is_file()]
    bar = tqdm(todo, desc=f"espeak-ng {folder.name}", unit="utt", disable=not progress)
    for stem, i, j in bar:
        wave = synthesize(sentences[i], voices[j], sample_rate, dither_seed=_dither_seed(i, j))
        with atomic_path(folder / f"{stem}.wav") as tmp:  # an interrupted run leaves no half file
            scipy.io.wavfile.write(tmp, sample_rate, np.round(wave * 32768.0).astype(np.int16))
    files = {
        f"{stem}.wav": hashlib.sha256((folder / f"{stem}.wav").read_bytes()).hexdigest()
        for stem, _, _ in plan
    }
    manifest = {
        "espeak_ng": version,
        "sample_rate": sample_rate,
        "files": files,
        "digest": hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(),
    }
    # The manifest marks the split complete, so it too appears atomically, last.
    atomic_write(folder / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def espeak_manifest(split: str, cache_dir: str | Path | None = None, **corpus) -> dict:
    """Manifest of a generated split: espeak-ng version, each file's SHA-256, overall ``digest``."""
    path = split_dir(split, cache_dir, **corpus) / "manifest.json"
    if not path.is_file():
        raise UsageError(f"the espeak {split} split has not been generated yet ({path} missing)")
    return json.loads(path.read_text())
