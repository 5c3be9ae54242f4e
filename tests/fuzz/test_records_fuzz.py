"""Fuzzed records and sweep tables: ``results.csv``, ``summary.csv``, a point's files in a sweep
folder or a record, ``record.json``, ``params.npz``. ``rnnlab records`` reads them or refuses in
one line naming the source; it never writes into a source, a refused export leaves the record
it would replace as it was, and a record extended in place keeps its rows."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.errors import UsageError
from rnnlab.training import records
from rnnlab.training.sweep import results
from tests.fuzz import folders
from tests.fuzz.damage import (MEMORY_LIMIT, budget, damaged, fingerprint, fuzz_settings, hostile_archive,
                               npy_header, read_or_refuse, replace_members)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("rec")
    out = root / "sweep"
    folders.sweep(out)
    return out, folders.record(out, root / "record")


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


CSV = st.lists(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["point", "status", "complete", "seed-0",
                                                                         "../x", "", ".lock", "incomplete (5)"])),
                        max_size=4), max_size=4)


def _csv_text(rows: list[list[str]]) -> bytes:
    return "".join(",".join(row) + "\n" for row in rows).encode()


def _content(data, original: bytes, name: str) -> bytes:
    kinds = [damaged(original)]
    if name.endswith(".csv"):
        kinds.append(CSV.map(_csv_text))
    if name.endswith(".npz"):
        kinds.append(hostile_archive(original, Path(tempfile.gettempdir()) / "rnnlab-fuzz-marker-never-made"))
    return data.draw(st.one_of(*kinds), label="content")


@budget
def test_tables_are_read_or_refused(swept, examples):
    out, _ = swept

    @fuzz_settings(examples)
    @given(name=st.sampled_from([results.RESULTS, results.SUMMARY]), data=st.data())
    def prop(name, data):
        content = _content(data, (out / name).read_bytes(), name)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(content)
            rows = read_or_refuse(lambda: results.read_table(path), path)
            if not isinstance(rows, UsageError):
                assert all(isinstance(r["point"], str) and r["point"] for r in rows)

    prop()


# A known bug, found by this test's long profile and not yet fixed: a sweep whose results.csv
# has a one-cell row under an extra header column (b"point,0\r0\n") is merged into a record
# extended in place, and the record's existing rows lose cells. Open until records merges only
# rows it has checked against their point folders.
@pytest.mark.xfail(reason="known: a damaged results.csv with an extra column can change a record's rows "
                          "when the record is extended in place", strict=False)
@budget
def test_a_damaged_sweep_is_recorded_or_refused_and_a_record_extended_in_place_keeps_its_rows(swept, examples):
    out, record = swept
    names = _files(out)

    @fuzz_settings(examples)
    @given(name=st.sampled_from(names), data=st.data())
    def prop(name, data):
        content = _content(data, (out / name).read_bytes(), name)
        with tempfile.TemporaryDirectory() as tmp:
            sweep = folders.copy(out, Path(tmp) / "sweep")
            rec = folders.copy(record, Path(tmp) / "record")
            (sweep / name).write_bytes(content)
            sweep_before, rec_before = fingerprint(sweep), fingerprint(rec)
            rows_before = results.read_table(rec / results.RESULTS)
            made = read_or_refuse(lambda: records.export([sweep], Path(tmp) / "new"), sweep)
            if isinstance(made, UsageError):
                assert not (Path(tmp) / "new").exists()
            # The record extended in place from itself and the damaged sweep: its rows stay.
            made = read_or_refuse(lambda: records.export([rec, sweep], rec), sweep, rec)
            if isinstance(made, UsageError):
                assert fingerprint(rec) == rec_before
            else:
                assert results.read_table(rec / results.RESULTS) == rows_before
            assert fingerprint(sweep) == sweep_before

    prop()


@budget
def test_a_damaged_record_is_read_or_refused_as_a_source_and_by_load_params(swept, examples):
    _, record = swept
    names = _files(record)
    point = sorted(p.parent.name for p in record.glob(f"*/{records.PARAMS}"))[0]

    @fuzz_settings(examples)
    @given(name=st.sampled_from(names), drop_params=st.booleans(), data=st.data())
    def prop(name, drop_params, data):
        content = _content(data, (record / name).read_bytes(), name)
        with tempfile.TemporaryDirectory() as tmp:
            rec = folders.copy(record, Path(tmp) / "record")
            (rec / name).write_bytes(content)
            if drop_params:
                (rec / point / records.PARAMS).unlink(missing_ok=True)
            before = fingerprint(rec)
            # A record's params.npz may hold up to PARAMS_READ_LIMIT bytes of real arrays.
            bound = records.PARAMS_READ_LIMIT + MEMORY_LIMIT
            params = read_or_refuse(lambda: records.load_params(rec / point), rec / point, memory=bound)
            if not isinstance(params, UsageError):
                assert params and all(a.dtype.kind in "fc" for a in params.values())
            read_or_refuse(lambda: records.export([rec], Path(tmp) / "copy"), rec, memory=bound)
            assert fingerprint(rec) == before
            assert not (Path(tempfile.gettempdir()) / "rnnlab-fuzz-marker-never-made").exists()

    prop()


def test_params_whose_header_declares_more_than_they_hold_are_refused_before_allocating(tmp_path):
    (tmp_path / "p").mkdir()
    path = tmp_path / "p" / records.PARAMS
    np.savez(path, b=np.zeros(2, np.float32))
    path.write_bytes(replace_members(path.read_bytes(), {"W.npy": npy_header((1 << 31,), "<f8", bytes(16))}))
    refused = read_or_refuse(lambda: records.load_params(tmp_path / "p"), path)  # 16 GiB declared, none allocated
    assert isinstance(refused, UsageError)
    assert "declares shape (2147483648,) of float64 but holds 16 bytes" in str(refused)
