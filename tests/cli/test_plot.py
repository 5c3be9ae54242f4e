"""``rnnlab plot``: runs of different tasks keep their metrics; damaged metrics are one line
naming the file, and nothing is drawn; a torn last line is dropped as a resume drops it."""

import json
from pathlib import Path

import numpy as np
import pytest

from rnnlab.errors import UsageError
from rnnlab.training import curves
from tests.cli.one_line import one_line_exit_2


def _run(folder: Path, rows: list[dict], model="np-rnn", task="addition", baseline=None) -> Path:
    folder.mkdir()
    (folder / "config.toml").write_text(f'task = "{task}"\nmodel = "{model}"\nn = 4\n')
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if baseline is not None:
        (folder / "summary.json").write_text(json.dumps({"baseline": baseline}))
    return folder


def _rows(metric: str, steps=(5, 10), seed=0) -> list[dict]:
    return [{"step": s, "seed": seed, "loss": 1.0 / s, metric: 2.0 / s} for s in steps]


def test_runs_of_different_tasks_each_keep_their_metric(tmp_path):
    copy = _run(tmp_path / "copy", _rows("test_xent"), model="full-urnn", task="copy", baseline=0.17)
    add = _run(tmp_path / "add", _rows("val_mse", steps=(5, 10, 15)), baseline=0.167)
    fig = curves.figure([copy, add])
    loss_ax, xent_ax, mse_ax = fig.axes
    assert (xent_ax.get_ylabel(), mse_ax.get_ylabel()) == ("test_xent", "val_mse")
    assert [line.get_label() for line in loss_ax.lines] == [
        "full-urnn n=4 (copy)", "baseline 0.17", "np-rnn n=4 (add)", "baseline 0.167"]
    (xent,) = [line for line in xent_ax.lines if not line.get_label().startswith("baseline")]
    assert xent.get_label() == "full-urnn n=4 (copy)"
    np.testing.assert_array_equal(xent.get_ydata(), [0.4, 0.2])
    (mse,) = [line for line in mse_ax.lines if not line.get_label().startswith("baseline")]
    assert mse.get_label() == "np-rnn n=4 (add)" and list(mse.get_xdata()) == [5, 10, 15]
    assert [line.get_label() for line in mse_ax.lines if line is not mse] == ["baseline 0.167"]


GOOD = '{"step": 5, "seed": 0, "loss": 0.5}\n'


@pytest.mark.parametrize("content,words", [
    (b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01", ["not UTF-8"]),
    ((GOOD + '{"step": 10, "seed"\n' + GOOD).encode(), ["line 2: not JSON"]),
    (b'{"seed": 0, "loss": 0.5}\n', ['line 1: not a JSON object with an integer "step"']),
    (b"[5, 0, 0.5]\n[10, 0, 0.25]\n", ["line 1: not a JSON object"]),
    (b'{"step": "ten", "seed": 0, "loss": 0.5}\n', ['line 1: not a JSON object with an integer "step"']),
    (b'{"step": 5, "loss": 0.5}\n', ["the row of step 5 has a non-numeric seed"]),
    (b'{"step": 5, "seed": 0, "loss": "low", "val_mse": [1]}\n', ["step 5 has a non-numeric loss, val_mse"]),
])
def test_a_damaged_run_beside_a_good_one_is_named_in_one_line_and_nothing_drawn(tmp_path, capsys, content, words):
    good = _run(tmp_path / "good", _rows("val_mse"))
    bad = _run(tmp_path / "bad", [])
    (bad / "metrics.jsonl").write_bytes(content)
    out = tmp_path / "both.png"
    err = one_line_exit_2(capsys, ["plot", str(good), str(bad), "--out", str(out)], str(bad / "metrics.jsonl"))
    assert all(w in err for w in words), err
    assert not out.exists()


def test_a_torn_last_line_is_dropped_and_the_rest_drawn(tmp_path, capsys):
    from rnnlab.cli import main

    run = _run(tmp_path / "run", _rows("val_mse", steps=(5, 10, 15)))
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 20, "seed": 0, "lo')  # a run killed mid-write
    (loss_ax, _) = curves.figure([run]).axes
    assert list(loss_ax.lines[0].get_xdata()) == [5, 10, 15]
    assert main(["plot", str(run), "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_an_unreadable_metrics_log_is_one_line(tmp_path, capsys, monkeypatch):
    run = _run(tmp_path / "run", _rows("val_mse"))
    real = Path.read_bytes

    def denied(self):  # as chmod 000 does for anyone but root
        if self == run / "metrics.jsonl":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    one_line_exit_2(capsys, ["plot", str(run), "--out", str(tmp_path / "c.png")], "cannot read")
    with pytest.raises(UsageError, match="Permission denied"):
        curves.figure([run])
