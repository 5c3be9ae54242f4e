"""Fuzzed checkpoints: cut short, bit-flipped, a pickle renamed ``.npz``, object arrays, headers
declaring huge shapes, zip bombs, values out of range. Every reader of ``checkpoint.npz`` (its
counters, the state on resume, the resume check of the run folder) reads it or refuses it in one
line naming it; none runs code from it, allocates what its headers declare, or changes a file of
the run folder."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.errors import UsageError
from rnnlab.training import config as config_mod
from rnnlab.training import run_folder
from tests.fuzz import folders
from tests.fuzz.damage import budget, damaged, fingerprint, fuzz_settings, hostile_archive, read_or_refuse


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return folders.run(tmp_path_factory.mktemp("ckpt") / "run")


def _readers(folder: Path):
    """Each reader of the run folder's checkpoint, with the names its refusal may give."""
    path = folder / run_folder.CHECKPOINT
    resume = config_mod.TrainConfig(**{**folders.TINY, "steps": 20}, resume=True)
    return [
        (lambda: run_folder.read_checkpoint_meta(path), path),
        (lambda: run_folder.load_checkpoint(path, folders.like(), folders.data_keys()), path),
        (lambda: run_folder.check(resume, folder), folder),
    ]


def _check_every_reader(finished: Path, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = folders.copy(finished, Path(tmp) / "run")
        (folder / run_folder.CHECKPOINT).write_bytes(data)
        before = fingerprint(folder)
        for call, name in _readers(folder):
            read_or_refuse(call, name)
        assert fingerprint(folder) == before
        assert not (Path(tmp) / "marker").exists(), "a reader ran code from the checkpoint"


def test_the_untouched_checkpoint_is_read(finished):
    state, meta = run_folder.load_checkpoint(finished / run_folder.CHECKPOINT, folders.like(), folders.data_keys())
    np.testing.assert_array_equal(np.asarray(state.params["W"]), np.asarray(folders.train_state().params["W"]))
    assert meta["step"] == 10 and run_folder.checkpoint_step(finished / run_folder.CHECKPOINT) == 10


@budget
def test_damaged_bytes_are_read_or_refused(finished, examples):
    original = (finished / run_folder.CHECKPOINT).read_bytes()

    @fuzz_settings(examples)
    @given(data=damaged(original))
    def prop(data):
        _check_every_reader(finished, data)

    prop()


@budget
def test_hostile_archives_are_refused_without_running_code_or_allocating(finished, examples):
    original = (finished / run_folder.CHECKPOINT).read_bytes()

    @fuzz_settings(examples)
    @given(st.data())
    def prop(data):
        with tempfile.TemporaryDirectory() as tmp:
            archive = data.draw(hostile_archive(original, Path(tmp) / "marker"))
        _check_every_reader(finished, archive)

    prop()


@pytest.mark.parametrize("log_every", [0, -5])
def test_a_run_config_with_a_log_interval_below_one_is_refused_not_divided_by(finished, tmp_path, log_every):
    folder = folders.copy(finished, tmp_path / "run")
    text = (folder / run_folder.CONFIG).read_text().replace("log_every = 5", f"log_every = {log_every}")
    (folder / run_folder.CONFIG).write_text(text)
    with pytest.raises(UsageError, match="log_every") as refused:
        run_folder.read_checkpoint_meta(folder / run_folder.CHECKPOINT)
    assert str(folder / run_folder.CONFIG) in str(refused.value)


def _local_header_field(archive: bytes, offset: int, value: bytes) -> bytes:
    """``archive`` with ``value`` written at ``offset`` of every local and central file header."""
    b = bytearray(archive)
    for sig, shift in ((b"PK\x03\x04", 0), (b"PK\x01\x02", 2)):  # the central header has one more field first
        at = b.find(sig)
        while at >= 0:
            b[at + offset + shift:at + offset + shift + len(value)] = value
            at = b.find(sig, at + 4)
    return bytes(b)


@pytest.mark.parametrize("offset, value, what", [
    (4, b"\x40\x00", "zip version 6.4 (zipfile: NotImplementedError)"),
    (6, b"\x01\x00", "an encryption flag (zipfile: RuntimeError, password required)"),
    (8, b"\x63\x00", "compression method 99 (zipfile: NotImplementedError)"),
], ids=["version", "encrypted", "method"])
def test_zip_headers_zipfile_cannot_read_are_refused_as_damage(finished, tmp_path, offset, value, what):
    folder = folders.copy(finished, tmp_path / "run")
    path = folder / run_folder.CHECKPOINT
    path.write_bytes(_local_header_field(path.read_bytes(), offset, value))
    for call, name in _readers(folder):
        refused = read_or_refuse(call, name)
        assert isinstance(refused, UsageError), what
        assert "is damaged" in str(refused)
