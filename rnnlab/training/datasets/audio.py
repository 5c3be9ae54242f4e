"""Waveform helpers shared by the speech sources (espeak-ng corpus, TIMIT)."""

from __future__ import annotations

from math import gcd

import numpy as np


def resample(wave: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """``wave`` recorded at ``rate`` Hz, converted to ``sample_rate`` Hz by a polyphase filter
    (``scipy.signal.resample_poly`` with its default Kaiser window, ratio reduced by the gcd)."""
    from scipy.signal import resample_poly  # here, not at the top: a second to import

    g = gcd(int(rate), int(sample_rate))
    return resample_poly(wave, sample_rate // g, rate // g)
