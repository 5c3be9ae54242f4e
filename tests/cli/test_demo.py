"""The demo keeps a text log of what it printed and data beside each picture."""

import json

import rnnlab.cli.demo
from rnnlab.cli import main


def test_demo_log_and_data_beside_pictures(capsys, tmp_path, monkeypatch):
    out = tmp_path / "demo"
    quick = lambda out: [  # noqa: E731 - the demo's sections, made small
        ("line attractor", ["fixed-points", "--case", "line"]),
        ("portrait", ["portrait", "--case", "line", "--out", str(out / "line.png")]),
    ]
    monkeypatch.setattr(rnnlab.cli.demo, "_steps", quick)
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    log = (out / "demo.log").read_text()
    assert "1-dimensional set, marginal" in log and "$ rnnlab portrait" in log
    assert printed.strip().endswith(log.strip().splitlines()[-1])
    assert json.loads((out / "line.json").read_text())["panels"][0]["case"] == "line"


def test_demo_stops_at_a_failed_section(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(rnnlab.cli.demo, "_steps", lambda out: [("bad", ["fixed-points", "--eig", "1", "x"])])
    assert main(["demo", "--out", str(tmp_path)]) == 2
