"""A finished sweep folder with one damaged file, swept again: the sweep refuses in one line
naming the folder before it writes anything, or it runs only the points whose own files no
longer say they finished, and every finished point keeps its files and its rows."""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.errors import UsageError
from rnnlab.training import run_folder
from rnnlab.training.sweep import point as point_mod
from rnnlab.training.sweep import results, runner
from tests.fuzz import folders
from tests.fuzz.damage import budget, damaged, fingerprint, fuzz_settings, read_or_refuse


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "out"
    spec, pts = folders.sweep(out)
    return spec, out, pts


def _rows_of(out: Path, name: str) -> list[dict[str, str]]:
    return [r for r in results.read_table(out / results.RESULTS) if r["point"] == name]


@budget
def test_a_damaged_file_in_a_finished_sweep_is_refused_or_only_its_point_reruns(swept, examples, monkeypatch):
    spec, out, pts = swept
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    ran: list[str] = []

    def attempt(point, folder, devices=None):  # a training run: recorded, not started
        ran.append(point.name)
        return point_mod.Outcome("crashed", "not run in this test")

    monkeypatch.setattr(runner, "attempt", attempt)

    @fuzz_settings(examples)
    @given(name=st.sampled_from(names), data=st.data())
    def prop(name, data):
        original = (out / name).read_bytes()
        content = data.draw(st.one_of(damaged(original), st.just(json.dumps([]).encode())), label="content")
        ran.clear()
        with tempfile.TemporaryDirectory() as tmp:
            folder = folders.copy(out, Path(tmp) / "out")
            (folder / name).write_bytes(content)
            before = fingerprint(folder)
            rows = {p.name: _rows_of(out, p.name) for p in pts}
            done = read_or_refuse(lambda: runner.run(spec, folder, progress=False, log=lambda *a: None), folder)
            if isinstance(done, UsageError):
                assert fingerprint(folder) == before  # refused before anything was written
                return
            damaged_point = name.split("/")[0] if "/" in name else None
            for p in pts:
                if p.name in ran:  # only a point whose own files no longer say it finished
                    assert p.name == damaged_point, (p.name, name)
                    continue
                for f in (run_folder.SUMMARY, run_folder.CHECKPOINT, run_folder.METRICS):
                    key = f"{p.name}/{f}"
                    assert fingerprint(folder).get(key) == before.get(key), key
                if p.name != damaged_point:  # its rows as they were (a column another point added: empty)
                    now = _rows_of(folder, p.name)
                    assert [{k: r[k] for k in old} for r, old in zip(now, rows[p.name])] == rows[p.name]
                    assert all(r[k] == "" for r, old in zip(now, rows[p.name]) for k in r.keys() - old.keys())

    prop()


def test_a_damaged_point_config_is_refused_before_the_sweep_writes_or_trains(swept, tmp_path, monkeypatch):
    spec, out, pts = swept
    folder = folders.copy(out, tmp_path / "out")
    (folder / pts[1].name / run_folder.SUMMARY).unlink()  # a point left to run beside the damaged one
    (folder / pts[0].name / run_folder.CONFIG).write_text("[]\n")
    before = fingerprint(folder)
    monkeypatch.setattr(runner, "attempt", lambda *a, **k: pytest.fail("a point was started"))
    with pytest.raises(UsageError, match=f"{pts[0].name}/config.toml"):
        runner.run(spec, folder, progress=False, log=lambda *a: None)
    assert fingerprint(folder) == before  # not even the lock or sweep.json


def test_a_grid_of_more_seeds_than_a_results_table_can_hold_is_refused_before_anything_runs(tmp_path, monkeypatch):
    # Each point's train process refuses its own size; the table of its placeholder rows (one
    # per seed) was then built all the same, a MemoryError after the sweep.
    spec = tmp_path / "huge.toml"
    spec.write_text(folders.SWEEP.replace("[grid]", "seeds = 1000000000000\n[grid]"))
    monkeypatch.setattr(runner, "attempt", lambda *a, **k: pytest.fail("a point was started"))
    with pytest.raises(UsageError, match="results.csv of 2000000000000 rows"):
        runner.run(spec, tmp_path / "out", progress=False, log=lambda *a: None)
    assert not (tmp_path / "out").exists()
