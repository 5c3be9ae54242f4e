"""Atomic files: a failed write leaves the old file as it was and no temporary behind."""

import csv

import pytest

from rnnlab.files import atomic_folder, atomic_path, atomic_write, write_csv


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.json"
    atomic_write(path, "old")
    atomic_write(path, b"new", durable=True)
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    path = tmp_path / "rec"
    path.mkdir()
    (path / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_folder(path) as stage:
            stage.mkdir()
            (stage / "new.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert [p.name for p in path.iterdir()] == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]
    with atomic_folder(path) as stage:
        stage.mkdir()
        (stage / "new.txt").write_text("new")
    assert [p.name for p in path.iterdir()] == ["new.txt"]  # replaced, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]


def test_write_csv_columns_are_every_key_in_first_seen_order(tmp_path):
    path = write_csv(tmp_path / "r.csv", [{"b": 1, "a": 2}, {"a": 3, "c": 4}])
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["b", "a", "c"], ["1", "2", ""], ["", "3", "4"]]
