"""Smoke test of ``python -m benchmarks``: the quick retraction benchmark runs, prints its
table and writes JSON with finite ratios. No timing is asserted (the machine is shared)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_retraction_runs_and_reports_ratios(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "retraction", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "expm / cayley, N=128" in proc.stdout
    blob = json.loads(out.read_text())
    assert blob["config"]["quick"] is True
    assert blob["machine"]["env"]["OPENBLAS_NUM_THREADS"]
    ratios = [r for r in blob["rows"] if r["unit"] == "x"]
    assert {r["measure"] for r in ratios} >= {"expm / cayley, N=128", "qr / cayley, N=256"}
    for r in ratios:
        assert math.isfinite(r["value"]) and r["value"] > 0
        assert r["detail"]["cayley"]["compile_s"] >= 0


def test_format_table_marks_targets():
    from benchmarks import Row, format_table

    table = format_table([Row("b", "fast", 2.5, target=2.0, at_least=True), Row("b", "slow", 4.0, target=3.0)])
    assert "PASS" in table.splitlines()[2] and "MISS" in table.splitlines()[3]
