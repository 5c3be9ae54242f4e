"""What the fuzz tests share: damaged bytes, hostile archives, real files written by rnnlab's
own writers, and the property every reader must keep.

The property (:func:`read_or_refuse`): reading a file either succeeds or raises one
:class:`~rnnlab.errors.UsageError` whose message is one line naming the file (or its folder);
any other exception is a traceback for the user and fails the test with its own traceback.
While the reader runs, no more than :data:`MEMORY_LIMIT` bytes are allocated (numpy reports
its arrays to ``tracemalloc``, virtual ones included), so a header that declares a huge shape
must be refused before anything of that size is allocated.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import matplotlib.figure  # noqa: F401
import rnnlab.training.loop  # noqa: F401
from rnnlab.errors import UsageError

# The modules readers import on first use (rnnlab.training.loop brings most; matplotlib.figure for
# rnnlab plot) are imported above, not inside a reader while tracemalloc watches: that makes importing ~20 times slower.

#: Peak bytes a reader may allocate on files of a few KiB: far above what reading them takes,
#: far below what a hostile header declares (GiB to EiB).
MEMORY_LIMIT = 64 << 20

#: Examples per property: QUICK in ``make test`` (the whole fuzz suite in about 30 s), LONG in
#: ``make test-slow``.
QUICK, LONG = 12, 300
budget = pytest.mark.parametrize("examples", [QUICK, pytest.param(LONG, marks=pytest.mark.slow)],
                                 ids=["quick", "long"])


def fuzz_settings(examples: int):
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


def read_or_refuse(call, *names: str | Path, memory: int = MEMORY_LIMIT):
    """``call()``'s result, or the :class:`UsageError` it raised (returned, not raised), after
    checking the refusal is one line naming one of ``names``; any other exception propagates.
    Fails if ``call`` allocates more than ``memory`` bytes (a reader whose files may hold large
    arrays by design passes its own bound)."""
    tracemalloc.start()
    try:
        result = call()
    except UsageError as exc:
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < memory, f"the reader allocated {peak} bytes"
    if isinstance(result, UsageError):
        message = str(result)
        assert "\n" not in message and message.strip(), repr(message)
        assert any(str(name) in message for name in names), f"{message!r} names none of {names}"
    return result


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path) -> sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@st.composite
def damaged(draw, original: bytes) -> bytes:
    """``original`` cut short, bit-flipped, overwritten, grown, or replaced by noise."""
    b, n = bytearray(original), len(original)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "append", "empty", "noise"]))
    if kind == "truncate" and n:
        return bytes(b[:draw(st.integers(0, n - 1))])
    if kind == "flip" and n:
        for pos in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8)):
            b[pos] ^= 1 << draw(st.integers(0, 7))
        return bytes(b)
    if kind == "overwrite" and n:
        start = draw(st.integers(0, n - 1))
        junk = draw(st.binary(min_size=1, max_size=64))
        b[start:start + len(junk)] = junk
        return bytes(b)
    if kind == "insert":
        pos = draw(st.integers(0, n))
        return bytes(b[:pos] + draw(st.binary(min_size=1, max_size=64)) + b[pos:])
    if kind == "append":
        return bytes(b) + draw(st.binary(min_size=1, max_size=64))
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=512))


# --- hostile .npy and .npz content -------------------------------------------------------------

class Marker:
    """Unpickling this object creates the file ``path``: proof that a reader ran code from a file."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __reduce__(self):
        return (Path.touch, (self.path,))


def pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps({"W": Marker(marker)})


def object_array_npy(marker: Path) -> bytes:
    """A ``.npy`` of an object array (a pickle inside) whose loading would touch ``marker``."""
    buffer = io.BytesIO()
    np.save(buffer, np.array([Marker(marker)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8", data: bytes = b"") -> bytes:
    """A version 1.0 ``.npy`` whose header declares ``shape`` of ``descr``, followed by ``data``
    (usually far less than the shape needs)."""
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def replace_members(archive: bytes, members: dict[str, bytes], compress: bool = False) -> bytes:
    """The zip ``archive`` with the given members replaced or added (``name.npy`` -> bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in members:
                dst.writestr(info.filename, src.read(info.filename))
        for name, data in members.items():
            dst.writestr(name, data, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
    return out.getvalue()


def member_names(archive: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return z.namelist()


#: Shapes no reader may allocate: from 16 GiB of float64 to overflowing a 64-bit size.
HUGE_SHAPES = [(1 << 31,), (1 << 20, 1 << 20), (1 << 62,), (1 << 40, 1 << 40), (0, 1 << 62), (3, 1 << 61)]


@st.composite
def hostile_archive(draw, archive: bytes, marker: Path) -> bytes:
    """``archive`` (a real ``.npz``) with one hostile change: an entry whose header declares a huge
    shape, an object (pickle) array, a pickle in place of the archive, an entry of another dtype or
    shape, a value out of range, a missing entry, a member that is not an array, a compressed
    array far larger than its stored bytes, or plain byte damage."""
    names = member_names(archive)
    name = draw(st.sampled_from(names))
    kind = draw(st.sampled_from(["huge", "object", "pickle", "dtype", "shape", "value", "missing", "stray",
                                 "bomb", "bytes"]))
    if kind == "huge":
        return replace_members(archive, {name: npy_header(draw(st.sampled_from(HUGE_SHAPES)),
                                                          draw(st.sampled_from(["<f8", "<f4", "|u1", "<c16"])),
                                                          b"\0" * draw(st.integers(0, 64)))})
    if kind == "object":
        return replace_members(archive, {name: object_array_npy(marker)})
    if kind == "pickle":
        return pickle_bytes(marker)
    if kind == "dtype":
        dtype = draw(st.sampled_from(["U3", "b1", "c8", "i1", "f2", "M8[s]", "V4"]))
        return replace_members(archive, {name: npy(np.zeros((), dtype=dtype))})
    if kind == "shape":
        return replace_members(archive, {name: npy(np.zeros(draw(st.sampled_from([(0,), (2,), (1, 1), (3, 2)]))))})
    if kind == "value":
        value = draw(st.sampled_from([-1, -(1 << 62), 1 << 62, 7, 3, float("nan"), float("inf"), -0.5, 0.0, 2.0,
                                      1e308]))
        return replace_members(archive, {name: npy(np.asarray(value))})
    if kind == "missing":
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                if info.filename != name:
                    dst.writestr(info.filename, src.read(info.filename))
        return out.getvalue()
    if kind == "stray":
        stray = draw(st.sampled_from(["code.py", "x.pkl", "../../escape.npy", "dir/"]))
        return replace_members(archive, {stray: b"print(1)"})
    if kind == "bomb":  # 96 MiB of zeros (over MEMORY_LIMIT), deflated to about 100 KiB, declared as such
        return replace_members(archive, {name: npy_header((12 << 20,), "<f8") + bytes(96 << 20)}, compress=True)
    return draw(damaged(archive))


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)
