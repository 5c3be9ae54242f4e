"""Speech next-frame prediction: STFT log-magnitude features, loaders, segments and metrics.

Task (the speech experiment of the full-capacity uRNN paper, Wisdom et al. 2016): given log-magnitude STFT frames ``0..t`` of an
utterance, predict frame ``t + 1``.

Features
--------
8 kHz mono audio, frames of :data:`FRAME_LENGTH` = 256 samples (32 ms) every
:data:`HOP_LENGTH` = 128 samples (16 ms, 50% overlap), periodic Hann window (its shifted
copies at 50% overlap sum to exactly 1, and it is the usual speech-STFT choice),
``rfft`` -> :data:`NUM_BINS` = 129 bins (0..4 kHz). Frames are ``log(|X| + 1e-6)`` of the
unnormalised transform of a ``[-1, 1)`` waveform. The signal is padded with
:data:`HOP_LENGTH` zeros in front and enough zeros behind that every sample lies in
exactly two frames: ``T = ceil(S / 128) + 1`` frames for ``S`` samples, so :func:`istft`
inverts :func:`stft` exactly (weighted overlap-add, least-squares for modified spectra).

Metrics (:func:`evaluate_prediction`)
-------------------------------------
- ``mse``: mean over frames ``1..T-1`` and 129 bins of the squared log-magnitude error.
- ``segsnr``: segmental SNR on waveforms. The estimate is resynthesised from the
  predicted magnitudes with the *target's* phase (oracle phase, as no phase is predicted);
  frame 0, which has no history to predict from, is copied from the target. Both
  waveforms are cut into non-overlapping :data:`SEGSNR_SEGMENT` = 256-sample (32 ms)
  rectangular segments (a trailing partial one is dropped), each segment's
  ``10 log10(sum s^2 / sum (s - s_hat)^2)`` is clipped to ``[-10, 35]`` dB (a segment with
  zero error scores 35, a silent one with any error -10), and the clipped values are
  averaged.
- ``stoi`` / ``pesq`` (narrow-band, 8 kHz), optional: only when the PyPI packages
  ``pystoi`` and ``pesq`` are installed (``pip install pystoi pesq``; ``pesq`` compiles C
  code, so it needs a C compiler), requested with ``extra_metrics=True``.

Sources
-------
``load_speech("espeak", split)`` is the espeak-ng corpus of
:mod:`~rnnlab.training.datasets.espeak` (default; needs the Debian package espeak-ng the
first time); ``load_speech("synthetic", split)`` a small generated corpus that needs nothing
installed (:mod:`~rnnlab.training.datasets.synthetic`, for tests and first tries);
``load_speech(Path(timit_dir), split)`` reads a user's TIMIT
(:mod:`~rnnlab.training.datasets.timit`). Splits are ``"train"``, ``"val"``, ``"test"``.
Waveforms are trimmed to a whole number of hops (less than 16 ms lost).

Public API
----------
- :func:`load_speech` ``(source="espeak", split="train", *, cache_dir=None, progress=True)
  -> list[Utterance]``
- :class:`Utterance` ``name``, ``waveform (S,) float32``, ``frames (T, 129) float32``,
  ``spectrum (T, 129) complex64``
- :func:`stft`, :func:`istft`, :func:`log_magnitude`, :func:`resynthesize`
- :func:`speech_corpus` ``(data=None, train_subset=0) -> SpeechCorpus``: the three splits
  and the training frames packed back to back, with per-bin mean and standard deviation
  (what the training task reads)
- :func:`segmental_snr`, :func:`log_spectral_mse`, :func:`evaluate_prediction`
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.errors import UsageError
from rnnlab.training.datasets.espeak import load_espeak
from rnnlab.training.datasets.synthetic import load_synthetic
from rnnlab.training.datasets.timit import load_timit

SAMPLE_RATE = 8000
FRAME_LENGTH = 256
HOP_LENGTH = 128
NUM_BINS = FRAME_LENGTH // 2 + 1
LOG_EPSILON = 1e-6
SEGSNR_SEGMENT = 256
SEGSNR_CLIP = (-10.0, 35.0)
SPLITS = ("train", "val", "test")
#: The source name of the generated corpus (``--data synthetic``).
SYNTHETIC = "synthetic"


@functools.cache
def window() -> np.ndarray:
    """The periodic Hann analysis window, shape ``(256,)`` float64."""
    n = np.arange(FRAME_LENGTH)
    return 0.5 - 0.5 * np.cos(2 * np.pi * n / FRAME_LENGTH)


def num_frames(num_samples: int) -> int:
    """Frames :func:`stft` makes of ``num_samples`` samples: ``ceil(S / 128) + 1``."""
    return -(-num_samples // HOP_LENGTH) + 1


def stft(waveform: np.ndarray) -> np.ndarray:
    """Waveform ``(S,)`` -> complex spectrum ``(T, 129)``, ``T = num_frames(S)``."""
    waveform = np.asarray(waveform, np.float64)
    if waveform.ndim != 1:
        raise UsageError(f"expected a mono waveform of shape (S,), got {waveform.shape}")
    t = num_frames(len(waveform))
    padded = np.zeros((t + 1) * HOP_LENGTH)
    padded[HOP_LENGTH : HOP_LENGTH + len(waveform)] = waveform
    frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME_LENGTH)[::HOP_LENGTH]
    return np.fft.rfft(frames * window(), axis=-1)


def istft(spectrum: np.ndarray, num_samples: int) -> np.ndarray:
    """Complex spectrum ``(T, 129)`` -> waveform ``(num_samples,)`` float64.

    Weighted overlap-add ``sum_t w * frame_t / sum_t w^2``: the least-squares waveform for a
    modified spectrum, and the exact inverse of :func:`stft` for an unmodified one.
    """
    spectrum = np.asarray(spectrum)
    t = len(spectrum)
    if spectrum.ndim != 2 or spectrum.shape[1] != NUM_BINS or t != num_frames(num_samples):
        raise UsageError(
            f"spectrum of shape {spectrum.shape} does not fit {num_samples} samples "
            f"(expected ({num_frames(num_samples)}, {NUM_BINS}))"
        )
    frames = np.fft.irfft(spectrum, n=FRAME_LENGTH, axis=-1) * window()
    total = np.zeros((t + 1) * HOP_LENGTH)
    weight = np.zeros_like(total)
    for half in range(2):
        # Frames k and k + 2 never overlap, so each half of every frame adds in one sweep.
        sl = slice(half * HOP_LENGTH, (half + 1) * HOP_LENGTH)
        total[half * HOP_LENGTH : (t + half) * HOP_LENGTH] += frames[:, sl].ravel()
        weight[half * HOP_LENGTH : (t + half) * HOP_LENGTH] += np.tile(window()[sl] ** 2, t)
    return (
        total[HOP_LENGTH : HOP_LENGTH + num_samples] / weight[HOP_LENGTH : HOP_LENGTH + num_samples]
    )


def log_magnitude(spectrum: np.ndarray) -> np.ndarray:
    """``log(|X| + 1e-6)`` as float32, same shape as ``spectrum``."""
    return np.log(np.abs(spectrum) + LOG_EPSILON).astype(np.float32)


def resynthesize(frames: np.ndarray, phase_spectrum: np.ndarray, num_samples: int) -> np.ndarray:
    """Waveform ``(num_samples,)`` from log-magnitudes ``(T, 129)`` and the phase of a spectrum.

    ``phase_spectrum`` ``(T, 129)`` lends its phase (e.g. the target's, for oracle-phase SegSNR).
    """
    magnitude = np.maximum(np.exp(np.asarray(frames, np.float64)) - LOG_EPSILON, 0.0)
    return istft(magnitude * np.exp(1j * np.angle(phase_spectrum)), num_samples)


@dataclass(frozen=True)
class Utterance:
    """One utterance: ``waveform (S,)`` float32 at 8 kHz and its features (made on first use)."""

    name: str
    waveform: np.ndarray

    @functools.cached_property
    def spectrum(self) -> np.ndarray:
        """Complex STFT ``(T, 129)``, ``T = ceil(S / 128) + 1``."""
        return stft(self.waveform).astype(np.complex64)

    @functools.cached_property
    def frames(self) -> np.ndarray:
        """Log-magnitude frames ``(T, 129)`` float32: the model's inputs and targets."""
        return log_magnitude(self.spectrum)


def load_speech(
    source: str | Path = "espeak",
    split: str = "train",
    *,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> list[Utterance]:
    """Utterances of ``split`` from ``source``: ``"espeak"`` (the espeak-ng corpus),
    ``"synthetic"`` (the small generated corpus of :mod:`~.synthetic`) or a TIMIT folder.

    ``cache_dir`` is where the espeak corpus lives (default ``$RNNLAB_CACHE/speech`` or
    ``~/.cache/rnnlab/speech``); ``progress`` shows a bar while synthesising or reading.
    """
    if split not in SPLITS:
        raise UsageError(f"unknown speech split {split!r}; choose train, val or test")
    if isinstance(source, str) and source == "espeak":
        pairs = load_espeak(split, cache_dir, sample_rate=SAMPLE_RATE, progress=progress)
    elif isinstance(source, str) and source == SYNTHETIC:
        pairs = load_synthetic(split, SAMPLE_RATE)
    else:
        pairs = load_timit(source, split, SAMPLE_RATE, progress=progress)
    # Trim to whole hops (< 16 ms lost) so the last frame holds a full hop of signal, not a
    # few samples under the window's near-zero start (whose log-magnitude is the floor).
    return [Utterance(name, wave[: len(wave) // HOP_LENGTH * HOP_LENGTH]) for name, wave in pairs]


@dataclass(frozen=True)
class SpeechCorpus:
    """The utterances of each split plus the training frames packed for on-device cropping."""

    source: str  # "espeak", "synthetic" or the TIMIT folder
    splits: dict[str, list[Utterance]]
    frames: np.ndarray  # (sum of training lengths, 129) float32, utterances back to back
    offsets: np.ndarray  # (n_train,) int32: first row of each training utterance in ``frames``
    lengths: np.ndarray  # (n_train,) int32: frames of each training utterance
    mean: np.ndarray  # (129,) float32 per-bin training-set mean of the log-magnitudes
    std: np.ndarray  # (129,) float32 per-bin training-set standard deviation (at least 1e-3)


@functools.lru_cache(maxsize=2)
def speech_corpus(data: str | None = None, train_subset: int = 0) -> SpeechCorpus:
    """The speech task's data: ``data`` None = the espeak corpus, ``"synthetic"`` = the
    generated one, else a TIMIT folder; ``train_subset`` K > 0 keeps the first K training
    utterances. Cached per process (a sweep loads the corpus once)."""
    if data is None or data in ("espeak", SYNTHETIC):
        source: str | Path = data or "espeak"
    else:
        source = Path(data).expanduser()
    progress = sys.stderr.isatty()
    splits = {name: load_speech(source, name, progress=progress) for name in SPLITS}
    if train_subset:
        splits["train"] = splits["train"][:train_subset]
    train = splits["train"]
    lengths = np.array([len(u.frames) for u in train], np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    frames = np.concatenate([u.frames for u in train]).astype(np.float32)
    std = np.maximum(frames.std(axis=0), 1e-3)
    return SpeechCorpus(str(source), splits, frames, offsets, lengths,
                        frames.mean(axis=0).astype(np.float32), std.astype(np.float32))


def segmental_snr(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    segment: int = SEGSNR_SEGMENT,
    clip: tuple[float, float] = SEGSNR_CLIP,
) -> float:
    """Mean over ``segment``-sample segments of the per-segment SNR in dB, clipped to ``clip``.

    Segments do not overlap. ``reference`` and ``estimate`` are waveforms ``(S,)``; a trailing
    partial segment is dropped (unless the signal is shorter than one segment).
    """
    reference = np.asarray(reference, np.float64)
    estimate = np.asarray(estimate, np.float64)
    if reference.shape != estimate.shape or reference.ndim != 1 or len(reference) == 0:
        raise UsageError(
            "segmental SNR needs two non-empty 1-d signals of one shape, "
            f"got {reference.shape} and {estimate.shape}"
        )
    n = max(len(reference) // segment, 1) * segment
    ref = reference[:n].reshape(-1, min(segment, n))
    err = ref - estimate[:n].reshape(ref.shape)
    signal = np.sum(ref**2, axis=1)
    noise = np.sum(err**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = 10 * np.log10(signal) - 10 * np.log10(noise)
    # Zero error is a perfect segment whatever its energy (log of 0/0 would be nan).
    snr = np.where(noise == 0, clip[1], snr)
    return float(np.mean(np.clip(snr, *clip)))


def log_spectral_mse(target_frames: np.ndarray, predicted_frames: np.ndarray) -> float:
    """Mean squared difference of two log-magnitude arrays of the same shape."""
    target_frames = np.asarray(target_frames, np.float64)
    predicted_frames = np.asarray(predicted_frames, np.float64)
    if target_frames.shape != predicted_frames.shape:
        raise UsageError(f"shapes differ: {target_frames.shape} vs {predicted_frames.shape}")
    return float(np.mean((target_frames - predicted_frames) ** 2))


def evaluate_prediction(
    utterance: Utterance, predicted: np.ndarray, *, extra_metrics: bool = False
) -> dict[str, float]:
    """Metrics of one utterance's next-frame predictions ``(T - 1, 129)`` (of frames ``1..T-1``).

    Returns ``mse`` and ``segsnr`` (see the module docstring); with ``extra_metrics`` also
    ``stoi`` and narrow-band ``pesq`` (UsageError if pystoi / pesq are not installed).
    """
    target = utterance.frames
    predicted = np.asarray(predicted, np.float32)
    if predicted.shape != (len(target) - 1, NUM_BINS):
        raise UsageError(
            f"predictions of {utterance.name} should be ({len(target) - 1}, {NUM_BINS}), "
            f"got {predicted.shape}"
        )
    clean = np.asarray(utterance.waveform, np.float64)
    estimate = resynthesize(np.concatenate([target[:1], predicted]), utterance.spectrum, len(clean))
    metrics = {
        "mse": log_spectral_mse(target[1:], predicted),
        "segsnr": segmental_snr(clean, estimate),
    }
    if extra_metrics:
        metrics.update(perceptual_metrics(clean, estimate))
    return metrics


def perceptual_metrics(clean: np.ndarray, estimate: np.ndarray) -> dict[str, float]:
    """STOI and narrow-band PESQ of 8 kHz waveforms ``(S,)`` (optional packages pystoi, pesq).

    PESQ is ``nan`` where the ITU-T P.862 code finds no speech (e.g. a silent reference).
    """
    try:
        import pesq
        from pystoi import stoi
    except ImportError:
        raise UsageError("STOI/PESQ need the optional packages: pip install pystoi pesq") from None
    try:
        pesq_value = float(pesq.pesq(SAMPLE_RATE, clean, estimate, "nb"))
    except pesq.PesqError:
        pesq_value = float("nan")
    return {"stoi": float(stoi(clean, estimate, SAMPLE_RATE)), "pesq": pesq_value}
