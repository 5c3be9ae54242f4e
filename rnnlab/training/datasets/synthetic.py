"""A small generated speech-like corpus: numpy only, deterministic, nothing to install.

It exists so that the speech task runs anywhere (tests, continuous integration, a first try
on a machine without espeak-ng): ``load_speech("synthetic", split)`` or ``--data synthetic``.
It is not speech and its numbers mean nothing beyond "the code path works and a model can
learn something"; use the espeak corpus or TIMIT for experiments.

Each utterance (0.35-0.75 s at 8 kHz) is a chain of segments drawn from a seeded generator:

- *voiced* (a vowel, 60-160 ms): harmonics ``k f0`` of a fundamental f0 (90-240 Hz per
  utterance, with a slow vibrato), the k-th weighted by ``1 / k`` (a falling source
  spectrum) times a formant envelope, the sum of three resonances
  ``1 / (1 + ((f - F_j) / B_j)^2)`` at the formants of one of five vowels;
- *unvoiced* (a fricative, 40-100 ms): white noise shaped in frequency by one broad
  resonance between 2 and 3.6 kHz;
- *closure* (a stop, 20-60 ms): silence followed by a 10 ms noise burst.

Segments get 8 ms raised-cosine ramps, the utterance is scaled to a peak of 0.5 and white
dither of standard deviation 1e-3 is added (as for the espeak corpus: no digital silence).
Splits use disjoint seeds: :data:`SPLIT_SIZES` utterances each.
"""

from __future__ import annotations

import numpy as np

from rnnlab.errors import UsageError

SPLIT_SIZES = {"train": 16, "val": 4, "test": 4}
DITHER_STD = 1e-3
PEAK = 0.5
RAMP_SECONDS = 0.008
#: (F1, F2, F3) in Hz of the vowels /a/, /i/, /u/, /e/, /o/ (adult male averages).
VOWEL_FORMANTS = (
    (730.0, 1090.0, 2440.0),
    (270.0, 2290.0, 3010.0),
    (300.0, 870.0, 2240.0),
    (530.0, 1840.0, 2480.0),
    (570.0, 840.0, 2410.0),
)
FORMANT_BANDWIDTHS = (90.0, 110.0, 170.0)
_SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def _ramp(n: int, sample_rate: int) -> np.ndarray:
    """A window of ``n`` samples rising and falling over raised-cosine ramps of 8 ms."""
    r = min(int(RAMP_SECONDS * sample_rate), n // 2)
    w = np.ones(n)
    if r:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(r) + 0.5) / r)
        w[:r], w[n - r :] = rise, rise[::-1]
    return w


def _shaped_noise(rng: np.random.Generator, n: int, sample_rate: int, centre: float, width: float):
    """White noise of ``n`` samples filtered by one resonance at ``centre`` Hz, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    out = np.fft.irfft(spectrum / (1.0 + ((f - centre) / width) ** 2), n)
    return out / max(np.sqrt(np.mean(out**2)), 1e-12)


def _voiced(rng, phase: np.ndarray, f0: float, sample_rate: int) -> np.ndarray:
    """Harmonics below Nyquist of the running ``phase`` (f0 cycles), formant-weighted."""
    formants = VOWEL_FORMANTS[rng.integers(len(VOWEL_FORMANTS))]
    # Formants shift a little between speakers and tokens.
    formants = [f * rng.uniform(0.9, 1.1) for f in formants]
    out = np.zeros(len(phase))
    for k in range(1, int(0.5 * sample_rate / (1.1 * f0)) + 1):
        gain = sum(1.0 / (1.0 + ((k * f0 - F) / B) ** 2) for F, B in zip(formants, FORMANT_BANDWIDTHS))
        out += gain / k * np.sin(k * phase)  # 1/k: the glottal source's falling spectrum
    return out / max(np.sqrt(np.mean(out**2)), 1e-12)


def synthetic_utterance(seed: int, sample_rate: int = 8000) -> np.ndarray:
    """One utterance ``(S,)`` float32 in ``[-1, 1)`` from ``seed`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    length = int(rng.uniform(0.35, 0.75) * sample_rate)
    t = np.arange(length) / sample_rate
    f0 = rng.uniform(90.0, 240.0)
    vibrato = 1.0 + 0.05 * np.sin(2 * np.pi * rng.uniform(2.0, 5.0) * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(f0 * vibrato) / sample_rate
    wave = np.zeros(length)
    start = 0
    while start < length:
        kind = rng.choice(("voiced", "unvoiced", "closure"), p=(0.6, 0.25, 0.15))
        seconds = {"voiced": (0.06, 0.16), "unvoiced": (0.04, 0.10), "closure": (0.02, 0.06)}[kind]
        n = min(int(rng.uniform(*seconds) * sample_rate), length - start)
        if kind == "voiced":
            seg = rng.uniform(0.6, 1.0) * _voiced(rng, phase[start : start + n], f0, sample_rate)
        elif kind == "unvoiced":
            centre = rng.uniform(2000.0, 3600.0)
            seg = rng.uniform(0.15, 0.4) * _shaped_noise(rng, n, sample_rate, centre, 600.0)
        else:
            seg = np.zeros(n)
            burst = min(int(0.01 * sample_rate), n)
            seg[n - burst :] = 0.5 * _shaped_noise(rng, burst, sample_rate, 1500.0, 1500.0)
        wave[start : start + n] = seg * _ramp(n, sample_rate)
        start += n
    wave *= PEAK / max(np.abs(wave).max(), 1e-12)
    wave += DITHER_STD * rng.standard_normal(length)
    return np.clip(wave, -1.0, 32767 / 32768).astype(np.float32)


def load_synthetic(split: str, sample_rate: int = 8000) -> list[tuple[str, np.ndarray]]:
    """``(name, waveform (S,) float32)`` for each utterance of ``split``, generated in memory."""
    if split not in SPLIT_SIZES:
        raise UsageError(f"unknown speech split {split!r}; choose train, val or test")
    return [
        (f"synthetic/{split}/{i:03d}", synthetic_utterance(1000 * _SPLIT_INDEX[split] + i, sample_rate))
        for i in range(SPLIT_SIZES[split])
    ]
