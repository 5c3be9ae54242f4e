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
