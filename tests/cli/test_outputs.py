"""The output-location checks shared by every command."""

import pytest

from rnnlab.errors import UsageError
from rnnlab.memory import check_memory
from rnnlab.cli.outputs import check_figure, check_file, check_folder
from rnnlab.cli.progress import configure


def test_check_file(tmp_path):
    assert check_file(tmp_path / "new" / "deeper" / "x.json", "--json") == tmp_path / "new" / "deeper" / "x.json"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(UsageError, match="is a folder, not a file"):
        check_file(tmp_path, "--json")
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="--json: cannot write .*f is a file, not a folder"):
        check_file(tmp_path / "f" / "x.json", "--json")
    with pytest.raises(UsageError, match="--plot: unsupported extension '.txt'"):
        check_figure(tmp_path / "x.txt", "--plot")
    with pytest.raises(UsageError, match="cannot write /sys/x.png"):
        check_figure("/sys/x.png", "--plot")
    assert list(tmp_path.iterdir()) == [tmp_path / "f"]  # the probe file is gone


def test_check_folder(tmp_path):
    assert check_folder(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="--out: .*f is a file, not a folder"):
        check_folder(tmp_path / "f", "--out")
    with pytest.raises(UsageError, match="cannot write /proc/run"):
        check_folder("/proc/run", "--out")


def test_check_memory_names_the_estimate():
    check_memory(2**30, "a job", available=2**31)
    with pytest.raises(UsageError, match=r"a job needs about 3.0 GiB; only 2.0 GiB"):
        check_memory(3 * 2**30, "a job", available=2**31)


class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_policy():
    assert configure(quiet=False, stream=_Stream(True)) is True
    assert configure(quiet=True, stream=_Stream(True)) is False
    assert configure(quiet=False, stream=_Stream(False)) is False
