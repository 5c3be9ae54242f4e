"""resample: a tone keeps its frequency, and the length scales by the rate ratio."""

import numpy as np
import pytest

from rnnlab.training.datasets.audio import resample


@pytest.mark.parametrize("rate", [22050, 16000])
def test_tone_keeps_its_frequency(rate):
    seconds, freq = 0.5, 440.0
    t = np.arange(int(rate * seconds)) / rate
    out = resample(np.sin(2 * np.pi * freq * t), rate, 8000)
    assert len(out) == int(np.ceil(len(t) * 8000 / rate))
    ref = np.sin(2 * np.pi * freq * np.arange(len(out)) / 8000)
    middle = slice(len(out) // 4, 3 * len(out) // 4)  # away from the filter's edge effects
    assert np.max(np.abs(out[middle] - ref[middle])) < 1e-2
