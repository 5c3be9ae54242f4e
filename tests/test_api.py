"""The README's Python example runs in a fresh interpreter (smaller sizes), prints nothing,
touches no global state, and its objects hold the values they promise."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]

CHECKS = '''
import json, sys
import jax, matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt
n = 8
assert r.rank == 7 * n - 7 and r.full_capacity is False and r.dim == n * n and r.params == 7 * n
assert sum(r.explained.values()) + r.unexplained == r.params - r.rank
assert {rec["parameterization"] for rec in table.records} == {"restricted", "full"}
assert all(table.record("full", k)["rank"] == k * k for k in (2, 3))
assert "restricted" in str(table)
assert len(sets) == 1 and sets[0].dimension == 1 and sets[0].stability == "marginal"
assert isinstance(fig, matplotlib.figure.Figure) and plt.get_fignums() == []
assert not jax.config.jax_enable_x64 and "MPLBACKEND" not in os.environ
assert res.status == 0 and res.run_dir.is_dir() and res.metrics[-1]["step"] == res.config.steps
assert res.params["W"].shape == (1, 32, 32)
w = res.params["W"][0]
assert float(abs(w.conj().T @ w - jnp.eye(32)).max()) < 32 * 1e-6  # float32 unitarity kept
json.dump({"ok": True}, sys.stderr)
'''


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## From Python.*?```python\n(.*?)```", text, re.S)
    assert block, "README has no '## From Python' example"
    return block.group(1)


def test_readme_example_runs_in_a_fresh_interpreter(tmp_path):
    code = readme_example()
    # Smaller sizes, same calls: fewer atlas sizes and training steps.
    small = code.replace("n=range(2, 9)", "n=range(2, 4)").replace("steps=200", "steps=20, log_every=10")
    assert small != code
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JAX_ENABLE_X64")}
    env["PYTHONPATH"] = str(ROOT)
    script = "import os\nimport jax.numpy as jnp\n" + small + CHECKS
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == ""  # nothing printed unless asked
    assert '{"ok": true}' in done.stderr


def test_api_errors_name_the_choices():
    import rnnlab.capacity as cap
    import rnnlab.dynamics as dyn

    with pytest.raises(ValueError, match="choose from .*restricted"):
        cap.rank("nope", 4)
    with pytest.raises(ValueError, match="n must be"):
        cap.rank("full", 0)
    with pytest.raises(ValueError, match="choose from .*restricted"):
        cap.atlas(["nope"], n=[2])
    with pytest.raises(UsageError, match="choose from decay"):
        dyn.portrait(case="spiral")
    with pytest.raises(ValueError, match="either w or case"):
        dyn.portrait()
