"""python -m paper_figures runs every script even when one fails, and sums up the failures at
the end (exit 1): a figure script that cannot run (a missing tool, a bug) costs only itself."""

import types

import pytest

from paper_figures import __main__ as runner
from rnnlab.errors import UsageError


def test_a_failing_script_does_not_stop_the_others(monkeypatch, capsys):
    names = runner.scripts()[:4]
    ran = []

    def fake(name, raises=None, rc=0):
        def main(flags):
            ran.append(name)
            if raises is not None:
                raise raises
            return rc
        return types.SimpleNamespace(main=main)

    modules = {f"paper_figures.{names[0]}": fake(names[0], RuntimeError("espeak-ng: command not found")),
               f"paper_figures.{names[1]}": fake(names[1]),
               f"paper_figures.{names[2]}": fake(names[2], UsageError("no MNIST data in ~/.cache")),
               f"paper_figures.{names[3]}": fake(names[3], rc=3)}
    monkeypatch.setattr(runner, "importlib", types.SimpleNamespace(import_module=modules.__getitem__))
    assert runner.main(["--quick", "--only", *names]) == 1
    assert ran == names  # every script ran, in order
    out, err = capsys.readouterr()
    summary = err[err.index("[paper_figures] 3 of 4 script(s) failed:"):].splitlines()
    assert summary[1:] == [f"  {names[0]}: RuntimeError: espeak-ng: command not found",
                           f"  {names[2]}: error: no MNIST data in ~/.cache",
                           f"  {names[3]}: exit status 3"]
    assert "Traceback" in err and err.count("Traceback") == 1  # the bug's traceback, not the usage error's
    assert f"[paper_figures] {names[1]}: ok" in out


def test_ctrl_c_still_stops_the_run(monkeypatch):
    def main(flags):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "importlib", types.SimpleNamespace(import_module=lambda name: types.SimpleNamespace(main=main)))
    with pytest.raises(KeyboardInterrupt):
        runner.main(["--only", runner.scripts()[0]])
