"""Inputs that once ended in a traceback (or an allocation error) give one line and exit 2,
and long capacity work says how long it will take before it goes on."""

import numpy as np
import pytest

from rnnlab.errors import UsageError
from tests.cli.one_line import one_line_exit_2


def test_fit_steps_beyond_int32_are_refused_by_the_flag_and_the_library(capsys):
    line = one_line_exit_2(capsys, ["capacity", "fit", "--n", "4", "--param", "full", "--seeds", "1",
                                    "--steps", "10000000000"], "--steps must be at most 2147483647")
    assert "10000000000" in line
    from rnnlab.capacity.fit import MAX_STEPS, fit_target
    from rnnlab.capacity.parameterizations import get
    from rnnlab.cli.capacity import MAX_FIT_STEPS

    assert MAX_FIT_STEPS == MAX_STEPS == 2**31 - 1
    with pytest.raises(UsageError, match="steps <= 2147483647"):
        fit_target(get("full")(2), steps=MAX_STEPS + 1, starts=1)


@pytest.mark.parametrize("content, fragment", [
    (b"", "the file is empty"),
    (b"W = [[1, 0], [0, 1]]\n", "not a .npy file"),  # numpy would read it as a pickle
    (b"\x93NUMPY\x01\x00\x76\x00{'descr'", "cannot read"),  # cut inside its header
])
def test_fixed_points_names_a_weight_file_it_cannot_read(capsys, tmp_path, content, fragment):
    path = tmp_path / "w.npy"
    path.write_bytes(content)
    line = one_line_exit_2(capsys, ["fixed-points", "--weights", str(path)], fragment)
    assert str(path) in line


def test_fixed_points_refuses_an_npz_archive_by_name(capsys, tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, w=np.eye(2) / 2)
    assert str(path) in one_line_exit_2(capsys, ["fixed-points", "--weights", str(path)], "not a .npy file")


def test_propagate_option_that_is_not_a_number(capsys):
    one_line_exit_2(capsys, ["propagate", "--n", "4", "--T", "10", "--init", "scaled-identity",
                             "--opt", "scale=abc"], "--opt scale wants a number, got 'abc'")


def test_negative_structure_seed_is_refused_before_the_run_folder(capsys, tmp_path):
    out = tmp_path / "run"
    one_line_exit_2(capsys, ["train", "--task", "copy", "--model", "restricted-urnn", "--n", "8", "--T", "5",
                             "--steps", "20", "--structure-seed", "-1", "--out", str(out)],
                    "structure_seed must be >= 0, got -1")
    assert not out.exists()


def test_binary_config_file_is_named(capsys, tmp_path):
    path = tmp_path / "run.toml"
    path.write_bytes(bytes([0xA6, 0x00, 0xFF, 0x13]) * 50)
    line = one_line_exit_2(capsys, ["train", "--config", str(path)], "codec can't decode")
    assert str(path) in line


def test_action_data_too_big_is_refused_with_its_estimate_before_writing(capsys, tmp_path):
    out = tmp_path / "actions"
    line = one_line_exit_2(capsys, ["action-data", "--out", str(out), "--classes", "100000", "--features",
                                    "100000"], "needs about")
    assert "100000 classes" in line and not out.exists()


def test_action_data_estimate_covers_the_set_it_writes():
    from rnnlab.training.datasets.actions import GeneratedSpec, generated_bytes

    spec = GeneratedSpec(classes=4, features=8, train_per_class=3, val_per_class=2, test_per_class=1,
                         max_frames=20)
    clips = 4 * (3 + 2 + 1)
    assert generated_bytes(spec) >= 2 * 4 * clips * 20 * 8  # every clip at its longest, loaded twice
    big = GeneratedSpec(classes=2, features=10_000)
    assert generated_bytes(big) >= 8 * 10_000**2 * 3  # the Gaussian, Q and R of the QR


def _ticking(monkeypatch, seconds):
    """Make the estimate's clock advance ``seconds`` at every reading."""
    from rnnlab.cli import progress

    now = [0.0]

    def clock():
        now[0] += seconds
        return now[0]

    monkeypatch.setattr(progress, "clock", clock)


def test_estimate_is_timed_on_the_second_item_and_said_once(monkeypatch):
    from rnnlab.cli import progress

    times = iter([0.0, 30.0, 30.01, 30.02, 30.03])  # the first item also compiles: 30 s
    monkeypatch.setattr(progress, "clock", lambda: next(times))
    est = progress.Estimate(1_000_000, "full n=4", "seed")
    assert est.done() is None
    line = est.done()  # 0.01 s a seed, 999998 to go: 9999.98 s
    assert line == "full n=4: about 2 h 47 min more for the other 999998 seeds (0.01 s each, timed on the second)"
    assert est.done() is None and est.done() is None


def test_short_work_is_not_announced(monkeypatch):
    from rnnlab.cli import progress

    _ticking(monkeypatch, 1.0)
    est = progress.Estimate(11, "full n=4", "seed")  # 9 more seconds: below LONG
    assert [est.done() for _ in range(11)] == [None] * 11
    _ticking(monkeypatch, 1.0)
    est = progress.Estimate(12, "full n=4", "seed")
    assert [est.done() for _ in range(3)][1].startswith("full n=4: about 10 s more for the other 10 seeds")


@pytest.mark.parametrize("seconds, text", [(4.2, "4 s"), (59.7, "1 min"), (754, "13 min"), (3599, "1 h"),
                                           (12_000, "3 h 20 min"), (3 * 86400, "3.0 days")])
def test_durations_read_as_a_person_says_them(seconds, text):
    from rnnlab.cli.progress import duration

    assert duration(seconds) == text


class _Terminal:
    def __init__(self):
        self.text = []

    def write(self, s):
        self.text.append(s)

    def flush(self):
        pass

    def isatty(self):
        return True


@pytest.mark.parametrize("action, quiet", [("rank", False), ("rank", True),
                                           pytest.param("fit", False, marks=pytest.mark.slow)])
def test_capacity_says_how_long_before_it_goes_on_and_counts_seeds(monkeypatch, capsys, action, quiet):
    from rnnlab.cli import main

    err = _Terminal()
    monkeypatch.setattr("sys.stderr", err)
    _ticking(monkeypatch, 20.0)
    seeds = 4 if action == "rank" else 3  # a fit compiles for every target: fewer of them
    argv = ["capacity", action, "--n", "2", "--param", "full", "--seeds", str(seeds)]
    argv += ["--steps", "5", "--starts", "1"] if action == "fit" else []
    assert main(argv + (["--quiet"] if quiet else [])) == 0
    text = "".join(err.text)
    unit, left = ("seed", 2) if action == "rank" else ("target", 1)
    line = f"full n=2: about {20 * left} s more for the other {left} {unit}{'s' * (left > 1)} (20 s each, timed on the second)\n"
    assert (text.count(line), f"{seeds}/{seeds}" in text) == ((0, False) if quiet else (1, True)), text
    assert line not in capsys.readouterr().out


def test_no_estimate_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    from rnnlab.cli import main

    _ticking(monkeypatch, 20.0)
    assert main(["capacity", "--n", "2", "--param", "full", "--seeds", "4"]) == 0
    assert capsys.readouterr().err == ""
