"""Fuzzed text files: ``metrics.jsonl`` (resume, ``rnnlab plot``, a sweep's last step),
``config.toml`` (a run folder's and a ``--config`` file: wrong types, unknown keys, NaN,
negative sizes), a run's ``summary.json``, a point's status file, ``sweep.json`` and sweep
grids. Each is read or refused in one line naming it (or, for a value the config checks, its
key); no file of the folder is changed by reading it."""

import io
import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.errors import UsageError
from rnnlab.file_names import plain_name
from rnnlab.training import config as config_mod
from rnnlab.training import curves, run_folder
from rnnlab.training.sweep import grid, point, results, runner
from tests.fuzz import folders
from tests.fuzz.damage import budget, damaged, fingerprint, fuzz_settings, read_or_refuse


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return folders.run(tmp_path_factory.mktemp("text") / "run")


# --- values ------------------------------------------------------------------------------------

def _toml_key(key: str) -> str:
    return json.dumps(key)


def toml_value(value) -> str:
    """``value`` as an inline TOML value (strings as JSON strings, which TOML reads alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


SCALARS = st.one_of(
    st.integers(-(1 << 63), (1 << 63) - 1), st.sampled_from([0, -1, 1, -5, 1 << 40]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([float("nan"), float("inf"), -0.0, 1e308]),
    st.text(max_size=12), st.sampled_from(["", "../x", "/etc", "nan", "adam", "full-urnn", "copy"]), st.booleans())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=2)),
                      max_leaves=6)
KEYS = st.one_of(st.sampled_from(sorted(config_mod.FIELDS)), st.sampled_from(["bogus", "", "../x", "n-x", "grid"]),
                 st.text(max_size=8))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)


@st.composite
def config_text(draw) -> tuple[str, set[str]]:
    """A run config (the tiny one) with some keys set to other values, removed or added;
    returns the TOML text and the keys changed."""
    values = dict(config_mod.TrainConfig(**folders.TINY).identity())
    changed = set()
    for _ in range(draw(st.integers(1, 3))):
        key = draw(KEYS)
        if draw(st.booleans()) and key in values:
            del values[key]
        else:
            values[key] = draw(VALUES)
        changed.add(key)
    lines = [f"{_toml_key(k)} = {toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n", changed


@st.composite
def metrics_text(draw, original: bytes) -> bytes:
    if draw(st.booleans()):
        return draw(damaged(original))
    rows = draw(st.lists(st.one_of(
        JSON, st.fixed_dictionaries({"step": st.one_of(st.integers(-3, 1 << 70), JSON), "seed": JSON},
                                    optional={"loss": JSON, "val_mse": JSON, "test_mse": JSON})), max_size=5))
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if draw(st.booleans()):  # a torn last line
        text = text[:draw(st.integers(0, len(text)))]
    return text.encode()


def _folder_with(finished: Path, tmp: str, name: str, data: bytes, drop_checkpoint: bool = False) -> Path:
    folder = folders.copy(finished, Path(tmp) / "run")
    (folder / name).write_bytes(data)
    if drop_checkpoint:
        (folder / run_folder.CHECKPOINT).unlink()
    return folder


# --- metrics.jsonl -----------------------------------------------------------------------------

@budget
def test_metrics_logs_are_read_or_refused_by_resume_plot_and_sweep(finished, examples):
    original = (finished / run_folder.METRICS).read_bytes()
    resume = config_mod.TrainConfig(**{**folders.TINY, "steps": 20}, resume=True)

    @fuzz_settings(examples)
    @given(data=metrics_text(original), drop_checkpoint=st.booleans())
    def prop(data, drop_checkpoint):
        with tempfile.TemporaryDirectory() as tmp:
            folder = _folder_with(finished, tmp, run_folder.METRICS, data, drop_checkpoint)
            path = folder / run_folder.METRICS
            before = fingerprint(folder)
            read_or_refuse(lambda: run_folder.read_metrics(path), path)
            read_or_refuse(lambda: run_folder.check(resume, folder), folder)
            read_or_refuse(lambda: curves.read_run(folder), path)  # what rnnlab plot reads
            assert isinstance(results._last_step(folder), int)
            assert fingerprint(folder) == before

    prop()


@pytest.mark.parametrize("examples", [3, pytest.param(40, marks=pytest.mark.slow)], ids=["quick", "long"])
def test_metrics_logs_that_plot_reads_are_drawn(finished, examples):
    """rnnlab plot: a log it reads is drawn and saved (numbers beyond a float among them)."""
    original = (finished / run_folder.METRICS).read_bytes()

    @fuzz_settings(examples)
    @given(data=metrics_text(original))
    def prop(data):
        with tempfile.TemporaryDirectory() as tmp:
            folder = _folder_with(finished, tmp, run_folder.METRICS, data)
            figure = read_or_refuse(lambda: curves.figure([folder]), folder / run_folder.METRICS)
            if not isinstance(figure, UsageError):
                figure.savefig(io.BytesIO(), format="png", dpi=30)

    prop()


# --- config.toml -------------------------------------------------------------------------------

@budget
def test_run_configs_are_read_or_refused_naming_the_file_or_the_key(finished, examples):
    original = (finished / run_folder.CONFIG).read_bytes()
    resume = config_mod.TrainConfig(**{**folders.TINY, "steps": 20}, resume=True)

    @fuzz_settings(examples)
    @given(st.one_of(config_text(), damaged(original).map(lambda b: (b, set()))))
    def prop(drawn):
        text, keys = drawn
        data = text.encode() if isinstance(text, str) else text
        with tempfile.TemporaryDirectory() as tmp:
            folder = _folder_with(finished, tmp, run_folder.CONFIG, data)
            path = folder / run_folder.CONFIG
            before = fingerprint(folder)
            # rnnlab train --config FILE: the file read, then resolved with no flags.
            read_or_refuse(lambda: config_mod.resolve(config_mod.load_toml(path), {}), path, *keys)
            read_or_refuse(lambda: config_mod.from_saved(path), path)
            read_or_refuse(lambda: run_folder.read_checkpoint_meta(folder / run_folder.CHECKPOINT), path)
            read_or_refuse(lambda: run_folder.check(resume, folder), folder)
            assert isinstance(curves._label(folder), str)
            assert fingerprint(folder) == before

    prop()


@pytest.mark.parametrize("line, fragment", [("steps = 'ten'", "steps must be an integer"),
                                            ("hidden = 3", "unknown config key 'hidden'")])
def test_a_config_file_with_a_wrong_type_or_key_is_refused_naming_the_file(tmp_path, line, fragment):
    path = tmp_path / "my run.toml"
    path.write_text(f"task = 'copy'\n{line}\n")
    with pytest.raises(UsageError) as refused:
        config_mod.load_toml(path)
    assert str(path) in str(refused.value) and fragment in str(refused.value)


# --- summary.json, a point's status file, sweep.json ------------------------------------------

@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("swept") / "out"
    spec, pts = folders.sweep(out)
    return out, pts


@budget
def test_summaries_status_files_and_sweep_descriptions_are_read_or_refused(swept, examples):
    out, pts = swept
    p = pts[0]
    summary = (out / p.name / run_folder.SUMMARY).read_bytes()
    sweep_json = (out / "sweep.json").read_bytes()
    status = json.dumps({"status": "failed", "detail": "exit 1", "attempts": 2}).encode()
    files = {f"{p.name}/{run_folder.SUMMARY}": summary, "sweep.json": sweep_json, f"{p.name}.status.json": status}
    as_json = JSON.map(lambda v: json.dumps(v).encode())

    @fuzz_settings(examples)
    @given(name=st.sampled_from(sorted(files)), data=st.data())
    def prop(name, data):
        content = data.draw(st.one_of(damaged(files[name]), as_json), label="content")
        with tempfile.TemporaryDirectory() as tmp:
            folder = folders.copy(out, Path(tmp) / "out")
            path = folder / name
            path.write_bytes(content)
            before = fingerprint(folder)
            read_or_refuse(lambda: point.read_summary(folder / p.name), path)
            read_or_refuse(lambda: point.recorded(folder, p), path)
            read_or_refuse(lambda: point.skip_reason(folder, p, retry_failed=False), path)
            read_or_refuse(lambda: runner._earlier_calls(folder / "sweep.json"), path)
            assert fingerprint(folder) == before

    prop()


# --- sweep grids -------------------------------------------------------------------------------

@st.composite
def sweep_text(draw) -> str:
    base = dict(folders.TINY)
    for key in draw(st.lists(KEYS, max_size=2)):
        base[key] = draw(VALUES)
    lines = [f"{_toml_key(k)} = {toml_value(v)}" for k, v in base.items()]
    grid_keys = draw(st.lists(st.one_of(KEYS, st.sampled_from(["seed", "model", "size", "../up", "/abs", ".hidden"])),
                              min_size=1, max_size=3, unique=True))
    lines.append("[grid]")
    for key in grid_keys:
        choice = draw(st.sampled_from(["ints", "tables", "any"]))
        if choice == "ints":
            values = draw(st.lists(st.integers(-2, 3), min_size=0, max_size=3))
        elif choice == "tables":
            values = draw(st.lists(st.dictionaries(KEYS, VALUES, max_size=2), min_size=1, max_size=2))
        else:
            values = draw(VALUES)
        lines.append(f"{_toml_key(key)} = {toml_value(values)}")
    if draw(st.booleans()):
        lines += ["[quick]", f"{_toml_key(draw(KEYS))} = {toml_value(draw(VALUES))}"]
    return "\n".join(lines) + "\n"


@budget
def test_sweep_grids_are_read_or_refused_and_name_only_plain_folders(examples):
    @fuzz_settings(examples)
    @given(st.one_of(sweep_text(), damaged(folders.SWEEP.encode()).map(bytes)))
    def prop(text):
        data = text.encode() if isinstance(text, str) else text
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "grid.toml"
            path.write_bytes(data)
            spec = read_or_refuse(lambda: grid.load(path), path, "key", "grid", "quick", "config")
            if isinstance(spec, UsageError):
                return
            pts = read_or_refuse(lambda: grid.points(spec, build=False), "must", "key", "grid", "point", "got")
            if isinstance(pts, UsageError):
                return
            for p in pts:  # every run folder a grid names stays inside the sweep folder
                assert plain_name(p.name, "point") == p.name

    prop()
