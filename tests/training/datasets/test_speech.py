"""Speech features, metrics, the packed corpus, the SPHERE/TIMIT reader, the generated and espeak-ng corpora."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal

from rnnlab.errors import UsageError
from rnnlab.training.datasets import espeak, speech, synthetic, timit

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng not installed (system package: apt-get install espeak-ng, or make speech-deps)",
)
needs_perceptual = pytest.mark.skipif(
    importlib.util.find_spec("pystoi") is None or importlib.util.find_spec("pesq") is None,
    reason="optional pystoi / pesq not installed",
)


def _tone(seconds: float = 0.5, seed: int = 0) -> np.ndarray:
    """A voiced-like test signal: harmonics of 150 Hz plus a little noise, at 8 kHz."""
    t = np.arange(int(seconds * speech.SAMPLE_RATE)) / speech.SAMPLE_RATE
    wave = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6)) * 0.2
    return (wave + 0.01 * np.random.default_rng(seed).standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("num_samples", [1, 127, 128, 129, 1000, 4000])
def test_stft_shape_and_exact_inverse(num_samples):
    x = np.random.default_rng(num_samples).standard_normal(num_samples)
    spec = speech.stft(x)
    assert spec.shape == (-(-num_samples // 128) + 1, 129)
    np.testing.assert_allclose(speech.istft(spec, num_samples), x, atol=1e-12)


def test_stft_matches_scipy_on_interior_frames():
    x = _tone().astype(np.float64)
    _, _, ref = scipy.signal.stft(
        x, nperseg=256, noverlap=128, window="hann", boundary=None, padded=False
    )
    ours = speech.stft(x)
    # Our frame k + 1 starts at sample 128 k, as scipy's frame k; scipy divides by sum(window).
    np.testing.assert_allclose(
        ours[1 : 1 + ref.shape[1]], ref.T * speech.window().sum(), atol=1e-10
    )


def test_utterance_features_and_resynthesis():
    u = speech.Utterance("tone", _tone())
    assert (
        u.frames.shape == (-(-len(u.waveform) // 128) + 1, speech.NUM_BINS)
        and u.frames.dtype == np.float32
    )
    back = speech.resynthesize(u.frames, u.spectrum, len(u.waveform))
    np.testing.assert_allclose(back, u.waveform, atol=1e-5)


def test_segmental_snr_known_values():
    x = _tone().astype(np.float64)
    assert speech.segmental_snr(x, x) == 35.0
    assert speech.segmental_snr(x, 0.9 * x) == pytest.approx(20.0)
    assert speech.segmental_snr(x, np.zeros_like(x)) == pytest.approx(0.0)
    noisy = x + 0.3 * np.random.default_rng(1).standard_normal(len(x))
    assert speech.segmental_snr(x, noisy) < 5.0
    assert speech.segmental_snr(np.zeros(512), np.ones(512)) == -10.0
    assert speech.segmental_snr(np.zeros(512), np.zeros(512)) == 35.0
    with pytest.raises(UsageError):
        speech.segmental_snr(x, x[:-1])


def test_evaluate_prediction_perfect_and_naive():
    u = speech.Utterance("tone", _tone(seed=3))
    perfect = speech.evaluate_prediction(u, u.frames[1:])
    assert perfect["mse"] == 0.0 and perfect["segsnr"] == pytest.approx(35.0)
    naive = speech.evaluate_prediction(u, u.frames[:-1] - 1.0)  # last frame, quieter
    assert naive["mse"] > 0.5 and naive["segsnr"] < perfect["segsnr"] - 10
    with pytest.raises(UsageError, match="should be"):
        speech.evaluate_prediction(u, u.frames)


def test_packed_corpus_and_its_statistics(monkeypatch):
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)  # as on a fresh machine
    corpus = speech.speech_corpus("synthetic", 5)
    train = corpus.splits["train"]
    assert corpus.source == "synthetic" and len(train) == 5
    assert [len(corpus.splits[s]) for s in ("val", "test")] == [4, 4]
    for u, start, length in zip(train, corpus.offsets, corpus.lengths, strict=True):
        np.testing.assert_array_equal(corpus.frames[start : start + length], u.frames)
    assert len(corpus.frames) == corpus.lengths.sum()
    stacked = np.concatenate([u.frames for u in train]).astype(np.float64)
    np.testing.assert_allclose(corpus.mean, stacked.mean(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(corpus.std, stacked.std(axis=0), rtol=1e-4)


def test_generated_corpus_is_deterministic_and_speech_like():
    train = synthetic.load_synthetic("train")
    again = synthetic.load_synthetic("train")
    assert [n for n, _ in train] == [f"synthetic/train/{i:03d}" for i in range(16)]
    for (_, a), (_, b) in zip(train, again, strict=True):
        np.testing.assert_array_equal(a, b)
    test = synthetic.load_synthetic("test")
    assert not any(len(a) == len(b) and np.array_equal(a, b) for _, a in train for _, b in test)
    ratios, prev, mean = [], [], []
    for _, wave in train:
        assert wave.dtype == np.float32 and 0.35 <= len(wave) / 8000 <= 0.75
        assert 0.49 < np.abs(wave).max() < 0.51 and np.mean(wave == 0) < 0.01  # peak 0.5, dithered
        frames = speech.Utterance("u", wave).frames.astype(np.float64)
        power = np.exp(2 * frames)
        ratios.append(power[:, 64:].sum(1) / power[:, :32].sum(1))  # above 2 kHz / below 1 kHz
        prev.append(np.mean((frames[2:-1] - frames[1:-2]) ** 2))
        mean.append(np.mean((frames[1:-1] - frames[1:-1].mean(0)) ** 2))
    ratios = np.concatenate(ratios)
    # Voiced frames put their energy low, fricatives high: both kinds occur.
    assert np.mean(ratios < 0.1) > 0.3 and np.mean(ratios > 1.0) > 0.1
    # Frames persist: "the previous frame again" beats "the mean frame", as in real speech.
    assert np.mean(prev) < 0.85 * np.mean(mean)
    with pytest.raises(UsageError, match="unknown speech split"):
        synthetic.load_synthetic("dev")


def test_voiced_segments_are_harmonic():
    # A long voiced stretch: the spectrum peaks at multiples of one fundamental.
    rng = np.random.default_rng(0)
    f0, rate = 125.0, 8000
    t = np.arange(4000) / rate
    wave = synthetic._voiced(rng, 2 * np.pi * f0 * t, f0, rate)
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    freqs = np.fft.rfftfreq(len(wave), 1 / rate)
    peaks = scipy.signal.find_peaks(spectrum, height=0.05 * spectrum.max())[0]
    np.testing.assert_allclose(freqs[peaks] / f0, np.rint(freqs[peaks] / f0), atol=0.02)
    assert len(peaks) >= 5


def _sphere_bytes(samples: np.ndarray, rate: int = 16000, byte_format: str = "01") -> bytes:
    fields = [
        "database_id -s5 TIMIT",
        f"sample_count -i {len(samples)}",
        f"sample_rate -i {rate}",
        "channel_count -i 1",
        f"sample_byte_format -s2 {byte_format}",
        "sample_n_bytes -i 2",
        "sample_sig_bits -i 16",
        "end_head",
    ]
    header = ("NIST_1A\n   1024\n" + "\n".join(fields) + "\n").encode().ljust(1024, b" ")
    return header + samples.astype("<i2" if byte_format == "01" else ">i2").tobytes()


@pytest.mark.parametrize("byte_format", ["01", "10"])
def test_sphere_reader_round_trip(tmp_path, byte_format):
    samples = (np.arange(-500, 500) * 37).astype(np.int16)
    path = tmp_path / "SI1.WAV"
    path.write_bytes(_sphere_bytes(samples, byte_format=byte_format))
    back, rate = timit.read_sphere(path)
    assert rate == 16000 and back.dtype == np.int16
    np.testing.assert_array_equal(back, samples)
    fields, size = timit.parse_sphere_header(path.read_bytes())
    assert size == 1024 and fields["database_id"] == "TIMIT" and fields["sample_sig_bits"] == 16


def test_sphere_reader_errors(tmp_path):
    path = tmp_path / "bad.WAV"
    path.write_bytes(b"RIFX not sphere at all\n1024\n")
    with pytest.raises(UsageError, match="not a NIST SPHERE"):
        timit.read_sphere(path)
    path.write_bytes(_sphere_bytes(np.zeros(100, np.int16))[:-10])
    with pytest.raises(UsageError, match="truncated"):
        timit.read_sphere(path)
    path.write_bytes(
        _sphere_bytes(np.zeros(10, np.int16)).replace(
            b"end_head", b"sample_coding -s21 pcm,embedded-shorten\nend_head", 1
        )[:1024]
        + bytes(20)
    )
    with pytest.raises(UsageError, match="sample_coding"):
        timit.read_sphere(path)


def test_timit_directory_splits_and_resampling(tmp_path):
    tone16k = (np.sin(np.arange(3200) / 5) * 8000).astype(np.int16)
    layout = {
        "TRAIN/DR1/FCJF0/SI1027.WAV": "sphere",
        "TRAIN/DR1/FCJF0/SA1.WAV": "sphere",  # dialect sentence: left out
        "TRAIN/DR1/FCJF0/SI1027.PHN": "text",
        "TEST/DR1/MDAB0/SX49.WAV": "sphere",  # core test speaker
        "TEST/DR2/MABC0/SI500.WAV": "sphere",  # other test speaker: val
        "TEST/DR2/MABC0/SI500.WAV.wav": "riff",  # converted duplicate: ignored
        "TEST/DR2/MABC0/SX7.WAV.wav": "riff",  # converted only
    }
    root = tmp_path / "timit"
    for rel, kind in layout.items():
        path = root / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "sphere":
            path.write_bytes(_sphere_bytes(tone16k))
        elif kind == "riff":
            scipy.io.wavfile.write(path, 16000, tone16k)
        else:
            path.write_text("0 100 h#\n")
    names = {split: [n for n, _ in timit.timit_files(root, split)] for split in speech.SPLITS}
    assert names == {
        "train": ["TRAIN/DR1/FCJF0/SI1027"],
        "val": ["TEST/DR2/MABC0/SI500", "TEST/DR2/MABC0/SX7"],
        "test": ["TEST/DR1/MDAB0/SX49"],
    }
    assert dict(timit.timit_files(root, "val"))["TEST/DR2/MABC0/SI500"].name == "SI500.WAV"
    val = speech.load_speech(root, "val", progress=False)
    assert (
        len(val) == 2 and len(val[0].waveform) == 1536
    )  # 1600 samples at 8 kHz, trimmed to whole hops
    assert val[0].frames.shape == (13, 129)
    np.testing.assert_allclose(val[0].waveform, val[1].waveform, atol=1e-6)  # SPHERE and RIFF agree
    with pytest.raises(UsageError, match="not found"):
        speech.load_speech(tmp_path / "missing", "train")
    with pytest.raises(UsageError, match="not a TIMIT directory"):
        speech.load_speech(tmp_path, "train")


def test_unknown_split():
    with pytest.raises(UsageError, match="unknown speech split"):
        speech.load_speech("espeak", "dev")


def test_missing_espeak_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    with pytest.raises(UsageError, match="apt-get install -y espeak-ng"):
        espeak.load_espeak("train", tmp_path, sentences=("Hello.",), voices=espeak.VOICES[:1])


def test_espeak_split_is_by_sentence():
    splits = [espeak.split_of(i) for i in range(len(espeak.SENTENCES))]
    assert len(espeak.SENTENCES) >= 60 and len(set(espeak.SENTENCES)) == len(espeak.SENTENCES)
    assert (splits.count("train"), splits.count("val"), splits.count("test")) == (64, 8, 8)


@needs_espeak
def test_espeak_generates_two_utterances_then_reads_cache(tmp_path, monkeypatch):
    sentences = ("Hello there.", "Good morning.")
    voices = espeak.VOICES[:1]
    first = espeak.load_espeak(
        "train", tmp_path, sentences=sentences, voices=voices, progress=False
    )
    assert [name for name, _ in first] == [f"espeak/train/00{i}-{voices[0].name}" for i in range(2)]
    for _, wave in first:
        assert wave.dtype == np.float32 and 0.3 < len(wave) / 8000 < 3.0
        assert np.abs(wave).max() > 0.05
        assert np.mean(wave == 0.0) < 0.01  # dithered: pauses are not digital silence
    manifest = espeak.espeak_manifest("train", tmp_path, sentences=sentences, voices=voices)
    assert manifest["espeak_ng"].startswith("eSpeak NG") and len(manifest["files"]) == 2
    monkeypatch.setattr(
        espeak.shutil, "which", lambda name: None
    )  # a cached split needs no espeak-ng
    again = espeak.load_espeak(
        "train", tmp_path, sentences=sentences, voices=voices, progress=False
    )
    for (_, a), (_, b) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    folder = espeak.split_dir("train", tmp_path, sentences=sentences, voices=voices)
    (folder / f"001-{voices[0].name}.wav").unlink()
    with pytest.raises(UsageError, match="missing.*delete"):
        espeak.load_espeak("train", tmp_path, sentences=sentences, voices=voices, progress=False)


@needs_espeak
@needs_perceptual
def test_optional_stoi_and_pesq_rank_clean_above_noisy(tmp_path):
    text, voice = "The morning train was late.", espeak.VOICES[1]
    clean = espeak.synthesize(text, voice, 8000, dither_seed=0).astype(np.float64)
    noisy = clean + 0.05 * np.random.default_rng(0).standard_normal(len(clean))
    good = speech.perceptual_metrics(clean, clean)
    bad = speech.perceptual_metrics(clean, noisy)
    assert good["stoi"] > 0.99 and good["pesq"] > 4.0
    assert bad["stoi"] < good["stoi"] and bad["pesq"] < good["pesq"] - 1.0
